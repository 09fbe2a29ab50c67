"""Uploading an image through GraphQL (`imageUpload`, the GraphQL multipart request spec), beside
`POST /upload` (contract images-annotations.md §2.1–§2.2): the same checks, the same import
(resolvers/image_import.py), the file streamed to disk by the view (gateway/graphql_view.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import image_import
from resolvers.abstract_image import abstract_images_by_id
from resolvers.image import image_instances_by_id
from schema.common import Info, Long, Upload

if TYPE_CHECKING:
    from schema.abstract_image import AbstractImage
    from schema.image import ImageInstance
    from schema.uploaded_file import UploadedFile

__all__ = ["ImageImportMutation", "ImageUploadInput", "ImageUploadPayload", "UploadedImage"]


@strawberry.input(description="A key and value stored on the images an upload makes.")
class ImagePropertyInput:
    key: str = strawberry.field(
        description="The property's key (an empty or overlong key is left out)."
    )
    value: str = strawberry.field(description="The property's value.")


@strawberry.input(description="What to upload and where (POST /upload's parameters).")
class ImageUploadInput:
    file: Upload = strawberry.field(description="The file: a part of the multipart request.")
    storage: Long = strawberry.field(description="The storage to upload to (WRITE on it).")
    projects: list[Long] = strawberry.field(
        default_factory=list, description="Projects to add the images to (each writable)."
    )
    properties: list[ImagePropertyInput] = strawberry.field(
        default_factory=list, description="Properties to put on each abstract image it makes."
    )
    sync: bool = strawberry.field(
        default=False,
        description="Import before answering (the payload lists the images); else the answer "
        "comes at once and the uploaded file's status tells the progress.",
    )

    def request(self) -> image_import.UploadRequest:
        properties = tuple((item.key, item.value) for item in self.properties)
        return image_import.UploadRequest(self.storage, tuple(self.projects), properties)


AbstractImageType = Annotated["AbstractImage", strawberry.lazy("schema.abstract_image")]
ImageInstanceType = Annotated["ImageInstance", strawberry.lazy("schema.image")]
UploadedFileType = Annotated["UploadedFile", strawberry.lazy("schema.uploaded_file")]


@strawberry.type(description="An image an upload made, and its instances in the projects.")
class UploadedImage:
    abstract_image_id: Long
    image_instance_ids: list[Long] = strawberry.field(
        description="The ids of its instances, one per project of the upload."
    )

    @strawberry.field(graphql_type=AbstractImageType)
    async def abstract_image(self, info: Info) -> Any:
        return await info.context.loader(abstract_images_by_id).load(self.abstract_image_id)

    @strawberry.field(graphql_type=list[ImageInstanceType])
    async def image_instances(self, info: Info) -> Any:
        return await info.context.loader(image_instances_by_id).load_many(self.image_instance_ids)


@strawberry.type
class ImageUploadPayload:
    uploaded_file: Any = strawberry.field(
        graphql_type=UploadedFileType, description="Its status tells how the import went."
    )
    images: list[UploadedImage] = strawberry.field(
        description="The images made: filled when the upload was synchronous."
    )


@strawberry.type
class ImageImportMutation:
    @strawberry.mutation(
        description="Upload an image file (a multipart request) and import it as POST /upload does."
    )
    async def image_upload(self, info: Info, input: ImageUploadInput) -> ImageUploadPayload:
        outcome = await image_import.upload_image(
            info.context, input.request(), input.file, sync=input.sync
        )
        images = [UploadedImage(abstract_image_id=Long(image_id),
                                image_instance_ids=[Long(i) for i in instances])
                  for image_id, instances in outcome.images]  # fmt: skip
        return ImageUploadPayload(uploaded_file=outcome.file, images=images)
