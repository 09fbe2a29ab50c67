"""An image's name as its project shows it to everyone (core.md §9.17): activity records keep
it, and member listings sort on the one each member consulted last."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import String, case, cast, func, select

from db.models import AbstractImage, ImageInstance, Project

__all__ = ["SHOWN_NAME", "blinded_name_column", "shown_name", "shown_name_column"]


def shown_name(image: Any) -> str | None:
    """An image's name as its project shows it to everyone: the base image's id in a blind
    project, else its own name or the file's (core.md §9.17)."""
    if image.blind_mode:
        return str(image.base_image_id)
    return image.instance_filename or image.original_filename  # type: ignore[no-any-return]


#: `shown_name` as a column expression, over ImageInstance joined to its Project and its
#: AbstractImage (`shown_name_column`, and the images that refuse a file's deletion).
SHOWN_NAME: Final = case(
    (Project.blind_mode, cast(ImageInstance.base_image_id, String)),
    else_=func.coalesce(ImageInstance.instance_filename, AbstractImage.original_filename),
)


def shown_name_column(image_id: Any) -> Any:
    """`shown_name` of the image `image_id` names, as a correlated subquery."""
    return (
        select(SHOWN_NAME)
        .select_from(ImageInstance)
        .join(Project, Project.id == ImageInstance.project_id)
        .join(AbstractImage, AbstractImage.id == ImageInstance.base_image_id)
        .where(ImageInstance.id == image_id)
        .scalar_subquery()
    )


def blinded_name_column(image_id: Any) -> Any:
    """The base image's id (as text) of the image `image_id` names while its project is blind,
    else null; a correlated subquery. Activity keeps an image's name as it was shown when
    recorded: this hides one recorded before the project turned blind."""
    return (
        select(cast(ImageInstance.base_image_id, String))
        .join(Project, Project.id == ImageInstance.project_id)
        .where(ImageInstance.id == image_id, Project.blind_mode)
        .scalar_subquery()
    )
