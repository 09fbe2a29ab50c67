"""Tracks in the graph (contract images-annotations.md §4, §11):
`imageInstance { tracks { annotations { location } } }`.

Links to other objects (image, project, the annotations a track holds) go through DataLoaders,
so a list of tracks costs the same number of statements whatever its length.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers import track as tracks
from resolvers.annotation import annotations_by_id
from resolvers.crud import Changed
from resolvers.image import image_instances_by_id
from resolvers.metadata_target import TRACK_CLASS
from resolvers.project import projects_by_id
from resolvers.track import TrackFields, links_by_track, visible_annotations_by_track
from schema.annotation import AnnotationTrack, UserAnnotation
from schema.annotation_nested import annotations_field
from schema.common import Command, Connection, Info, Long, connection
from schema.metadata import attached_files_field, description_field, properties_field
from schema.tag import tags_field

if TYPE_CHECKING:
    from schema.image import ImageInstance
    from schema.project import Project

__all__ = ["Track", "TrackMutation", "TrackQuery"]


@strawberry.type(description="One object followed through the planes (z or t) of an image: it "
                 "holds at most one annotation per slice.")  # fmt: skip
class Track:
    id: Long
    created: datetime
    updated: datetime
    name: str = strawberry.field(description="Unique within the image.")
    color: str | None = strawberry.field(
        description='Its display colour: free text, e.g. "#ff0000".'
    )
    image_id: Long
    project_id: Long = strawberry.field(description="Always the image's project.")
    tags = tags_field(TRACK_CLASS)
    properties = properties_field(TRACK_CLASS)
    attached_files = attached_files_field(TRACK_CLASS)
    description = description_field(TRACK_CLASS)
    annotations_page = annotations_field(
        "track", "in this track (`annotations` lists them all, in plane order)"
    )

    @strawberry.field(graphql_type=Annotated["ImageInstance", strawberry.lazy("schema.image")])
    @staticmethod
    async def image(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(image_instances_by_id).load(parent.image_id)

    @strawberry.field(graphql_type=Annotated["Project", strawberry.lazy("schema.project")])
    @staticmethod
    async def project(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(projects_by_id).load(parent.project_id)

    @strawberry.field(graphql_type=list[AnnotationTrack], description="Its links, in plane order.")
    @staticmethod
    async def annotation_tracks(parent: strawberry.Parent[Any], info: Info) -> Any:
        return await info.context.loader(links_by_track).load(parent.id)

    @strawberry.field(
        graphql_type=list[UserAnnotation],
        description="The annotations it holds that you may see, in plane order (time, then z, "
        "then channel).",
    )
    @staticmethod
    async def annotations(parent: strawberry.Parent[Any], info: Info) -> Any:
        viewer = info.context.require_viewer()
        key = (None if viewer.is_admin else viewer.id, parent.id)
        ids = await info.context.loader(visible_annotations_by_track).load(key)
        found = await info.context.loader(annotations_by_id).load_many(ids)
        return [row for row in found if row is not None]


@strawberry.input(description="A track's writable fields; an update replaces them all.")
class TrackInput:
    name: str | None = None
    color: str | None = strawberry.field(default=None, description='Free text, e.g. "#ff0000".')
    image: Long | None = strawberry.field(
        default=None, description="Required; the track's project is the image's."
    )

    def fields(self) -> TrackFields:
        return TrackFields(**dataclasses.asdict(self))


@strawberry.input(description="Put an annotation in a track of its image.")
class AnnotationTrackInput:
    annotation: Long | None = None
    track: Long | None = None


@strawberry.type
class TrackPayload:
    track: Any = strawberry.field(graphql_type=Track)
    command: Command


@strawberry.type
class AnnotationTrackPayload:
    annotation_track: Any = strawberry.field(graphql_type=AnnotationTrack)
    command: Command


TrackConnection = Connection[Track]


def _track_payload(changed: Changed) -> TrackPayload:
    return TrackPayload(track=changed.row, command=Command.of(changed.command))


def _link_payload(changed: Changed) -> AnnotationTrackPayload:
    return AnnotationTrackPayload(annotation_track=changed.row, command=Command.of(changed.command))


@strawberry.type
class TrackQuery:
    @strawberry.field(graphql_type=Track)
    async def track(self, info: Info, id: Long) -> Any:
        return await tracks.get_track(info.context, id)

    @strawberry.field(description="The tracks of an image or of a project, by name.")
    async def tracks(
        self,
        info: Info,
        image_id: Long | None = None,
        project_id: Long | None = None,
        first: int | None = None,
        offset: int = 0,
    ) -> TrackConnection:
        page = await tracks.list_tracks(
            info.context, image_id=image_id, project_id=project_id, limit=first, offset=offset
        )
        return connection(page)

    @strawberry.field(
        graphql_type=AnnotationTrack, description="The link of an annotation to a track."
    )
    async def annotation_track(self, info: Info, annotation_id: Long, track_id: Long) -> Any:
        return await tracks.get_annotation_track(info.context, annotation_id, track_id)

    @strawberry.field(
        graphql_type=list[AnnotationTrack],
        description="The links of a track (in plane order) or of an annotation: give one.",
    )
    async def annotation_tracks(
        self, info: Info, track_id: Long | None = None, annotation_id: Long | None = None
    ) -> Any:
        return await tracks.list_annotation_tracks(
            info.context, track_id=track_id, annotation_id=annotation_id
        )


@strawberry.type
class TrackMutation:
    @strawberry.mutation(description="Create a track on an image; its name is unique there.")
    async def track_create(self, info: Info, input: TrackInput) -> TrackPayload:
        return _track_payload(await tracks.create_track(info.context, input.fields()))

    @strawberry.mutation(
        description="Replace a track's fields; it moves to another image only while empty."
    )
    async def track_update(self, info: Info, id: Long, input: TrackInput) -> TrackPayload:
        return _track_payload(await tracks.update_track(info.context, id, input.fields()))

    @strawberry.mutation(description="Delete a track; its annotations stay.")
    async def track_delete(self, info: Info, id: Long) -> TrackPayload:
        return _track_payload(await tracks.delete_track(info.context, id))

    @strawberry.mutation(
        description="Put an annotation in a track of its image, on the annotation's slice: "
        "CONFLICT when the track already holds an annotation there."
    )
    async def annotation_track_create(
        self, info: Info, input: AnnotationTrackInput
    ) -> AnnotationTrackPayload:
        changed = await tracks.create_annotation_track(info.context, input.annotation, input.track)
        return _link_payload(changed)

    @strawberry.mutation(description="Take an annotation out of a track.")
    async def annotation_track_delete(
        self, info: Info, annotation_id: Long, track_id: Long
    ) -> AnnotationTrackPayload:
        changed = await tracks.delete_annotation_track(info.context, annotation_id, track_id)
        return _link_payload(changed)
