"""Annotations in the graph (contract images-annotations.md §3, §11).

`UserAnnotation` is the object: plain measured fields plus links (slice, image, project, user,
terms, tracks) batched by DataLoaders. `AnnotationRow` is a flat row for bulk reads and exports:
every field a plain value (the extras computed in SQL only when selected), so a listing of
thousands completes through the fast path of schema/executor.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from resolvers import annotation
from resolvers.annotation import (
    UNDATED,
    AnnotationFields,
    Created,
    annotations_by_id,
    bulk,
    terms_by_annotation,
    tracks_by_annotation,
    undated_terms_by_annotation,
)
from resolvers.annotation import listing as annotation_listing
from resolvers.annotation.listing import USER_LAYER, AnnotationSearch, annotation_urls
from resolvers.crud import Changed
from resolvers.image import image_instances_by_id, slice_instances_by_id
from resolvers.metadata_target import USER_ANNOTATION_CLASS
from resolvers.ontology import terms_by_id
from resolvers.project import projects_by_id
from resolvers.track import tracks_by_id
from resolvers.user import users_by_id
from schema.common import (
    Command,
    Connection,
    Info,
    Long,
    asks_total,
    connection,
    loaded,
    reads_of,
    selected,
)
from schema.inputs import planned_input
from schema.metadata import attached_files_field, description_field, properties_field
from schema.tag import tags_field
from schema.user import User

if TYPE_CHECKING:
    from schema.image import ImageInstance, SliceInstance
    from schema.ontology import Term
    from schema.project import Project
    from schema.track import Track

__all__ = [
    "AnnotationMutation",
    "AnnotationQuery",
    "AnnotationRow",
    "UserAnnotation",
    "annotation_payload",
]

#: A create's point budget, per part of the geometry, for the inputs without their own.
_MIN_POINT = (
    "Simplification stops once under this many points per part, for an input without its "
    "own minPoint (absent: automatic)."
)
_MAX_POINT = (
    "Simplification goes on while over this many points per part, for an input without its "
    "own maxPoint (absent: automatic)."
)


@strawberry.enum(description="Unit of an area: pixels² without calibration, else µm².")
class AreaUnit(Enum):
    PIXELS2 = strawberry.enum_value(1, description="Square pixels: the image is not calibrated.")
    MICRON2 = strawberry.enum_value(
        3, description="Square micrometres (µm²): the image is calibrated."
    )


@strawberry.enum(description="Unit of a length: pixels without calibration, else mm.")
class LengthUnit(Enum):
    PIXELS = strawberry.enum_value(0, description="Pixels: the image is not calibrated.")
    MM = strawberry.enum_value(2, description="Millimetres: the image is calibrated.")


@strawberry.type(description="A point in the image, origin at the bottom-left corner.")
class Point:
    x: float = strawberry.field(description="Its x, in pixels.")
    y: float = strawberry.field(description="Its y, in pixels.")


@strawberry.type
class Measured:
    """The plain fields an annotation of either layer holds: where it lies, how it was
    simplified, its measures."""

    id: Long
    created: datetime
    updated: datetime
    slice_id: Long
    image_id: Long
    project_id: Long
    geometry_compression: float = strawberry.field(
        description="The simplification tolerance chosen at creation, re-applied on edits."
    )
    area: float = strawberry.field(
        description="Its area in `areaUnit`: µm² on a calibrated image, else whole pixels²."
    )
    area_unit: AreaUnit = strawberry.field(description="The unit of `area`.")
    perimeter: float = strawberry.field(description="The boundary length (0 for points).")
    perimeter_unit: LengthUnit = strawberry.field(
        description="The unit of `perimeter`: mm on a calibrated image, else pixels."
    )
    centroid_x: float = strawberry.field(description="The x of its centroid, in pixels.")
    centroid_y: float = strawberry.field(description="The y of its centroid, in pixels.")
    count_comments: int = strawberry.field(description="How many comments it has.")


@strawberry.type
class AnnotationCore(Measured):
    """The fields every annotation row holds (each a plain value)."""

    user_id: Long = strawberry.field(description="The creator.")
    count_reviewed_annotations: int = strawberry.field(
        description="How many reviewed copies it has (0 or 1)."
    )


@strawberry.type
class ListedExtras:
    """What a flat listing row of either layer adds when selected (its `show…` groups)."""

    original_filename: str | None = strawberry.field(description="Blind-mode rules apply.")
    instance_filename: str | None = strawberry.field(description="Blind-mode rules apply.")
    channel: int = strawberry.field(description="Its slice's channel.")
    z_stack: int = strawberry.field(description="Its slice's z.")
    time: int = strawberry.field(description="Its slice's time point.")
    creator: str = strawberry.field(description="The creator's username.")
    creator_name: str = strawberry.field(description="The creator's first and last names.")
    crop_url: str = strawberry.field(description="Its crop, through the image server.")
    small_crop_url: str = strawberry.field(description="Its crop at most 256 pixels wide.")
    image_url: str = strawberry.field(description="Its page in the web viewer.")


def placed(kind: str) -> type:
    """The fields an annotation of either layer resolves the same way: its centroid, links
    (`kind` is the layer's URL word) and where it lies."""

    @strawberry.type
    class Placed:
        @strawberry.field(description="Its centroid, in pixels.")
        @staticmethod
        def centroid(parent: strawberry.Parent[Any]) -> Point:
            return Point(x=parent.centroid_x, y=parent.centroid_y)

        @strawberry.field(description="Its crop, through the image server.")
        @staticmethod
        def crop_url(parent: strawberry.Parent[Any], info: Info) -> str:
            return annotation_urls(info.context.public_url, parent, kind)["crop_url"]

        @strawberry.field(description="Its crop at most 256 pixels wide.")
        @staticmethod
        def small_crop_url(parent: strawberry.Parent[Any], info: Info) -> str:
            return annotation_urls(info.context.public_url, parent, kind)["small_crop_url"]

        @strawberry.field(description="The web viewer's link to it.")
        @staticmethod
        def image_url(parent: strawberry.Parent[Any], info: Info) -> str:
            return annotation_urls(info.context.public_url, parent, kind)["image_url"]

        slice = loaded(
            slice_instances_by_id,
            "slice_id",
            graphql_type=Annotated["SliceInstance", strawberry.lazy("schema.image")],
        )
        image = loaded(
            image_instances_by_id,
            "image_id",
            graphql_type=Annotated["ImageInstance", strawberry.lazy("schema.image")],
        )
        project = loaded(
            projects_by_id,
            "project_id",
            graphql_type=Annotated["Project", strawberry.lazy("schema.project")],
        )

    return Placed


@strawberry.type(description="A geometry a user drew on one slice of an image.")
class UserAnnotation(AnnotationCore, placed(USER_LAYER.kind)):  # type: ignore[misc]
    wkt_location: str = strawberry.field(
        name="location", description="WKT in pixels, origin at the bottom-left corner."
    )
    term_ids: list[Long] = strawberry.field(description="Distinct terms, from every user.")
    tags = tags_field(USER_ANNOTATION_CLASS)
    properties = properties_field(USER_ANNOTATION_CLASS)
    attached_files = attached_files_field(USER_ANNOTATION_CLASS)
    description = description_field(USER_ANNOTATION_CLASS)

    @strawberry.field(description="Has a reviewed copy.")
    @staticmethod
    def reviewed(parent: strawberry.Parent[Any]) -> bool:
        return bool(parent.count_reviewed_annotations > 0)

    user = loaded(users_by_id, "user_id", graphql_type=User)
    terms = loaded(
        terms_by_annotation,
        "id",
        graphql_type=list[Annotated["AnnotationTerm", strawberry.lazy("schema.annotation")]],
        description="Each term put on it, with who put it.",
        lighter=(UNDATED, undated_terms_by_annotation),
    )
    tracks = loaded(
        tracks_by_annotation,
        "id",
        graphql_type=list[Annotated["AnnotationTrack", strawberry.lazy("schema.annotation")]],
        description="Its links to the tracks it is in.",
    )


@strawberry.type(description="A term put on an annotation by a user.")
class AnnotationTerm:
    id: Long
    created: datetime
    updated: datetime
    user_annotation_id: Long
    term_id: Long
    user_id: Long

    term = loaded(
        terms_by_id,
        "term_id",
        graphql_type=Annotated["Term", strawberry.lazy("schema.ontology")] | None,
    )
    user = loaded(users_by_id, "user_id", graphql_type=User | None)
    annotation = loaded(
        annotations_by_id,
        "user_annotation_id",
        graphql_type=UserAnnotation | None,
        description="The annotation the term is on.",
    )


@strawberry.type(description="An annotation in a track, on the annotation's slice.")
class AnnotationTrack:
    id: Long
    created: datetime
    updated: datetime
    annotation_id: Long
    track_id: Long
    slice_id: Long

    annotation = loaded(annotations_by_id, "annotation_id", graphql_type=UserAnnotation | None)
    track = loaded(
        tracks_by_id,
        "track_id",
        graphql_type=Annotated["Track", strawberry.lazy("schema.track")] | None,
    )


@strawberry.type(
    description="A flat row of an annotation listing: plain values only, the optional ones "
    "computed when selected. Made for bulk reads and exports."
)
class AnnotationRow(AnnotationCore, ListedExtras):
    wkt_location: str = strawberry.field(
        name="location", description="WKT in pixels, origin at the bottom-left corner."
    )
    term_ids: list[Long] = strawberry.field(description="Distinct terms, from every user.")
    user_by_term: JSON = strawberry.field(
        description='[{"id": first link, "term": id, "user": [ids of who put it]}]'
    )
    track_ids: list[Long] = strawberry.field(description="The tracks it is in.")
    annotation_tracks: JSON = strawberry.field(description='[{"id": link id, "track": id}]')


@planned_input
@strawberry.input(description="Which annotations to list (images-annotations.md §3.6); one of "
                  "project, image(s) or slice(s) is required.")  # fmt: skip
class AnnotationFilter:
    project: Long | None = strawberry.field(
        default=None, description="Only annotations of this project."
    )
    image: Long | None = strawberry.field(
        default=None, description="Only annotations of this image."
    )
    images: list[Long] | None = strawberry.field(
        default=None, description="Only annotations of these images (all of one project)."
    )
    slice: Long | None = strawberry.field(
        default=None, description="Only annotations on this slice."
    )
    slices: list[Long] | None = strawberry.field(
        default=None, description="Only annotations on these slices (all of one project)."
    )
    user: Long | None = strawberry.field(
        default=None, description="Only annotations this user created (merged with `users`)."
    )
    users: list[Long] | None = strawberry.field(
        default=None, description="Only annotations one of these users created."
    )
    term: list[Long] | None = strawberry.field(
        default=None, description="Cytomine's name of `terms` (merged with it)."
    )
    terms: list[Long] | None = strawberry.field(
        default=None, description="Only annotations with at least one of these terms."
    )
    no_term: bool = strawberry.field(
        default=False, description="Without terms; with terms: matching or termless."
    )
    multiple_term: bool = strawberry.field(
        default=False, description="Only annotations with at least two different terms."
    )
    users_for_term: list[Long] | None = strawberry.field(
        default=None,
        description="Only annotations with a term put by one of these users (one of `terms`, "
        "when given).",
    )
    track: list[Long] | None = strawberry.field(
        default=None, description="Cytomine's name of `tracks` (merged with it)."
    )
    tracks: list[Long] | None = strawberry.field(
        default=None,
        description="Only annotations in one of these tracks; the listing is then in plane "
        "order (time, then z, then channel).",
    )
    no_track: bool = strawberry.field(
        default=False, description="In no track; with tracks: in one of them or in none."
    )
    multiple_track: bool = strawberry.field(
        default=False, description="Only annotations in at least two tracks."
    )
    before_slice: Long | None = strawberry.field(
        default=None,
        description="With tracks: only annotations on planes before this slice's, in plane order.",
    )
    after_slice: Long | None = strawberry.field(
        default=None,
        description="With tracks: only annotations on planes after this slice's, in plane order.",
    )
    tag: list[Long] | None = strawberry.field(
        default=None, description="Cytomine's name of `tags` (merged with it)."
    )
    tags: list[Long] | None = strawberry.field(
        default=None, description="Only annotations with one of these tags."
    )
    no_tag: bool = strawberry.field(
        default=False, description="Untagged; with tags: tagged with one of them or untagged."
    )
    not_reviewed_only: bool = strawberry.field(
        default=False, description="Only annotations without a reviewed copy."
    )
    bbox: str | None = strawberry.field(
        default=None, description='"minX,minY,maxX,maxY" or a WKT polygon: intersecting it.'
    )
    bbox_annotation: Long | None = strawberry.field(
        default=None,
        description="Only annotations intersecting the geometry of this annotation (of either "
        "kind).",
    )
    base_annotation: str | None = strawberry.field(
        default=None, description="An annotation id or a WKT, with maxDistanceBaseAnnotation."
    )
    max_distance_base_annotation: float | None = strawberry.field(
        default=None,
        description="Only annotations at most this far from baseAnnotation, in pixels "
        "(required with it).",
    )
    excluded_annotation: Long | None = strawberry.field(
        default=None, description="Leaves out the annotation with this id."
    )
    after_than: datetime | None = strawberry.field(
        default=None, description="Annotations created after this moment."
    )
    before_than: datetime | None = strawberry.field(
        default=None, description="Annotations created before this moment."
    )

    def query(self) -> AnnotationSearch:
        def merged(one: Any, many: list[Long] | None) -> list[int] | None:
            items = [*(many or ()), *(one if isinstance(one, list) else [one] if one else ())]
            return items or (None if many is None else [])

        return AnnotationSearch(
            project=self.project, image=self.image, images=self.images, slice=self.slice,
            slices=self.slices, users=merged(self.user, self.users) or None,
            terms=merged(self.term, self.terms) or None, no_term=self.no_term,
            multiple_term=self.multiple_term, users_for_term=self.users_for_term,
            tracks=merged(self.track, self.tracks) or None, no_track=self.no_track,
            multiple_track=self.multiple_track, before_slice=self.before_slice,
            after_slice=self.after_slice, tags=merged(self.tag, self.tags) or None,
            no_tag=self.no_tag, not_reviewed_only=self.not_reviewed_only,
            bbox=self.bbox, bbox_annotation=self.bbox_annotation,
            base_annotation=self.base_annotation,
            max_distance_base_annotation=self.max_distance_base_annotation,
            excluded_annotation=self.excluded_annotation, after_than=self.after_than,
            before_than=self.before_than,
        )  # fmt: skip


@planned_input
@strawberry.input(description="An annotation's fields. On update, absent slice/image/user "
                  "keep their values and terms/tracks are ignored.")  # fmt: skip
class AnnotationInput:
    location: str | None = strawberry.field(default=None, description="WKT (required).")
    slice: Long | None = None
    image: Long | None = strawberry.field(
        default=None, description="Used with its reference slice when slice is not given."
    )
    user: Long | None = strawberry.field(default=None, description="Default: you.")
    term: list[Long] | None = strawberry.field(
        default=None, description="Cytomine's name of `terms` (merged with it)."
    )
    terms: list[Long] | None = None
    track: list[Long] | None = strawberry.field(
        default=None, description="Cytomine's name of `tracks` (merged with it)."
    )
    tracks: list[Long] | None = None
    geometry_compression: float | None = strawberry.field(
        default=None,
        description="On update, the tolerance the new geometry is simplified with (absent: "
        "none); ignored on create.",
    )
    min_point: int | None = strawberry.field(
        default=None,
        description="On create, simplification stops once under this many points per part "
        "(absent: the mutation's minPoint, else automatic); ignored on update.",
    )
    max_point: int | None = strawberry.field(
        default=None,
        description="On create, simplification goes on while over this many points per part "
        "(absent: the mutation's maxPoint, else automatic); ignored on update.",
    )
    properties: JSON | None = strawberry.field(
        default=None,
        description="Key/value properties of the new annotation: a map {key: value}, or a "
        "list of {key, value} objects (as PIMS sends them). Ignored on update.",
    )
    property: JSON | None = strawberry.field(
        default=None, description="Cytomine's name of `properties`."
    )

    def fields(
        self, min_point: int | None = None, max_point: int | None = None
    ) -> AnnotationFields:
        """The input's fields, with the operation's simplification bounds where it has none
        (built field by field: a large annotationCreateEach makes one per element)."""
        return AnnotationFields(
            location=self.location, slice=self.slice, image=self.image, user=self.user,
            terms=[*(self.terms or ()), *(self.term or ())],
            tracks=[*(self.tracks or ()), *(self.track or ())],
            geometry_compression=self.geometry_compression,
            min_point=self.min_point if self.min_point is not None else min_point,
            max_point=self.max_point if self.max_point is not None else max_point,
            properties=self.properties if self.properties is not None else self.property,
        )  # fmt: skip


@strawberry.type
class AnnotationPayload:
    annotation: Any = strawberry.field(graphql_type=UserAnnotation)
    command: Command
    annotation_tracks: Any = strawberry.field(
        graphql_type=list[AnnotationTrack], default_factory=list
    )


@strawberry.type(description="One element of annotationCreateEach: what became of it.")
class AnnotationCreated:
    annotation_id: Long | None = strawberry.field(description="Null when refused.")
    annotation: Any = strawberry.field(graphql_type=UserAnnotation | None)
    command: Command | None
    error: str | None = strawberry.field(description="Why it was refused, if it was.")
    code: str | None = strawberry.field(description="The error's code (BAD_USER_INPUT…).")

    @classmethod
    def of(cls, outcome: bulk.Outcome) -> AnnotationCreated:
        created, error = outcome.created, outcome.error
        return cls(
            annotation_id=Long(outcome.annotation_id) if outcome.annotation_id else None,
            annotation=created.row if created is not None else None,
            command=Command.of(created.command) if created is not None else None,
            error=error.message if error is not None else None,
            code=error.code if error is not None else None,
        )


@strawberry.type(description="What annotationDeleteMany deleted.")
class AnnotationsDeleted:
    ids: list[Long] = strawberry.field(description="The ids of the annotations deleted.")
    command: Command | None = strawberry.field(description="Null when nothing matched.")


AnnotationConnection = Connection[UserAnnotation]
AnnotationRowConnection = Connection[AnnotationRow]


def annotation_payload(changed: Changed | Created) -> AnnotationPayload:
    tracks = changed.tracks if isinstance(changed, Created) else []
    return AnnotationPayload(annotation=changed.row, command=Command.of(changed.command),
                             annotation_tracks=tracks)  # fmt: skip


@strawberry.type
class AnnotationQuery:
    @strawberry.field(graphql_type=UserAnnotation)
    async def annotation(self, info: Info, id: Long) -> Any:
        return await annotation.get_annotation(info.context, id)

    @strawberry.field(description="Annotations, newest first (by plane rank with tracks).")
    async def annotations(
        self, info: Info, filter: AnnotationFilter, first: int | None = None, offset: int = 0
    ) -> AnnotationConnection:
        wanted = selected(info, UserAnnotation, "nodes")
        page = await annotation_listing.list_annotations(
            info.context,
            filter.query(),
            wanted=wanted,
            limit=first,
            offset=offset,
            counted=asks_total(info),
            reads=reads_of(UserAnnotation, wanted),
        )
        return connection(page)

    @strawberry.field(description="The same listing as flat rows, for bulk reads and exports.")
    async def annotation_rows(
        self, info: Info, filter: AnnotationFilter, first: int | None = None, offset: int = 0
    ) -> AnnotationRowConnection:
        wanted = selected(info, AnnotationRow, "nodes")
        page = await annotation_listing.list_annotations(
            info.context,
            filter.query(),
            wanted=wanted,
            limit=first,
            offset=offset,
            counted=asks_total(info),
            streamed=True,
        )
        return connection(page)


@strawberry.type
class AnnotationMutation:
    @strawberry.mutation(
        description="Create an annotation with its terms and tracks; minPoint and maxPoint "
        "bound the simplification when the input does not."
    )
    async def annotation_create(
        self,
        info: Info,
        input: AnnotationInput,
        min_point: Annotated[int | None, strawberry.argument(description=_MIN_POINT)] = None,
        max_point: Annotated[int | None, strawberry.argument(description=_MAX_POINT)] = None,
    ) -> AnnotationPayload:
        fields = input.fields(min_point, max_point)
        return annotation_payload(await annotation.create_annotation(info.context, fields))

    @strawberry.mutation(
        description="Create several annotations as one operation (undone as a whole): all, or "
        "none and the first element's error."
    )
    async def annotation_create_many(
        self,
        info: Info,
        inputs: Annotated[
            list[AnnotationInput],
            strawberry.argument(
                description="The annotations to create (at most 100000), each simplified "
                "within its own minPoint and maxPoint."
            ),
        ],
    ) -> list[AnnotationPayload]:
        created = await bulk.create_annotations(info.context, [i.fields() for i in inputs])
        return [annotation_payload(item) for item in created]

    @strawberry.mutation(
        description="Create several annotations as one operation (undone as a whole); each "
        "element is checked on its own and answers its annotation or its error."
    )
    async def annotation_create_each(
        self,
        info: Info,
        inputs: Annotated[
            list[AnnotationInput],
            strawberry.argument(
                description="The annotations to create (at most 100000): the answer has one "
                "element per input, in order."
            ),
        ],
        min_point: Annotated[int | None, strawberry.argument(description=_MIN_POINT)] = None,
        max_point: Annotated[int | None, strawberry.argument(description=_MAX_POINT)] = None,
    ) -> list[AnnotationCreated]:
        rows = "annotation" in selected(info, AnnotationCreated)
        many = [i.fields(min_point, max_point) for i in inputs]
        outcomes = await bulk.create_each(info.context, many, rows=rows)
        return [AnnotationCreated.of(outcome) for outcome in outcomes]

    @strawberry.mutation(
        description="Delete the annotations the listing of `filter` shows you (only those of "
        "`ids` when given), with their links, as one operation that undo reverses as a whole; "
        "you must be allowed to delete each one, or nothing is deleted."
    )
    async def annotation_delete_many(
        self,
        info: Info,
        filter: AnnotationFilter,
        ids: Annotated[
            list[Long] | None,
            strawberry.argument(
                description="Only these of the matching annotations (at most 100000); absent: "
                "every matching one."
            ),
        ] = None,
    ) -> AnnotationsDeleted:
        deleted, command = await bulk.delete_matching(info.context, filter.query(), ids)
        return AnnotationsDeleted(
            ids=[Long(i) for i in deleted],
            command=Command.of(command) if command is not None else None,
        )

    @strawberry.mutation(description="Replace an annotation's geometry (and slice or creator).")
    async def annotation_update(
        self, info: Info, id: Long, input: AnnotationInput
    ) -> AnnotationPayload:
        return annotation_payload(
            await annotation.update_annotation(info.context, id, input.fields())
        )

    @strawberry.mutation(description="Delete an annotation with its terms and track links.")
    async def annotation_delete(self, info: Info, id: Long) -> AnnotationPayload:
        return annotation_payload(await annotation.delete_annotation(info.context, id))
