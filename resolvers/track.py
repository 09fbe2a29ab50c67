"""Tracks and the annotations they hold (contract images-annotations.md §4).

A track follows one object through the planes of an image: it holds at most one annotation per
slice. Rights come from the image's project, with the image's creator as owner for tracks and
the annotation's creator for the links (§6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.engine import Database
from db.models import AnnotationTrack, ImageInstance, Track, UserAnnotation
from resolvers.command import CommandLog, Spec, register
from resolvers.context import Context
from resolvers.crud import constraint_errors, insert_row, table_of
from resolvers.errors import InvalidInput, NotFound
from resolvers.project import project_access

__all__ = [
    "ANNOTATION_TRACK",
    "TRACK",
    "USER_ANNOTATION_CLASS",
    "link_tracks",
    "tracks_by_id",
]

TRACK_TABLE: Final = table_of(Track)
LINK_TABLE: Final = table_of(AnnotationTrack)
USER_ANNOTATION_CLASS: Final = "be.cytomine.domain.ontology.UserAnnotation"


async def _may_edit_track(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode on the image's project, the image's creator being the owner (§4.1)."""
    async with ctx.db.read() as conn:
        owner = (
            await conn.execute(
                select(ImageInstance.user_id).where(ImageInstance.id == row["image_id"])
            )
        ).scalar_one_or_none()
    (await project_access(ctx, row["project_id"])).require_owner_or_mode(owner)


async def _may_edit_link(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode on the annotation's project, its creator being the owner (§4.2)."""
    async with ctx.db.read() as conn:
        annotation = (
            await conn.execute(
                select(UserAnnotation.project_id, UserAnnotation.user_id).where(
                    UserAnnotation.id == row["annotation_id"]
                )
            )
        ).first()
    if annotation is not None:
        access = await project_access(ctx, annotation.project_id)
        access.require_owner_or_mode(annotation.user_id)


TRACK: Final = register(
    Spec("Track", Track, lambda row: f"{row['id']} ({row['name']})",
         project_of=lambda row: row["project_id"], authorize=_may_edit_track)
)  # fmt: skip
ANNOTATION_TRACK: Final = register(
    Spec("AnnotationTrack", AnnotationTrack,
         lambda row: f"{row['annotation_id']} ({row['track_id']})", authorize=_may_edit_link)
)  # fmt: skip


async def tracks_by_id(db: Database, ids: list[int]) -> list[Row[Any] | None]:
    async with db.read() as conn:
        rows = (await conn.execute(select(*TRACK_TABLE.c).where(Track.id.in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def link_tracks(
    conn: AsyncConnection,
    log: CommandLog,
    annotation: Row[Any],
    track_ids: Sequence[int],
    *,
    printed: bool,
) -> list[Row[Any]]:
    """Put an annotation in tracks of its image, on its slice: a track taken on that slice,
    or already holding the annotation, is a 409 (§4.2)."""
    links: list[Row[Any]] = []
    for track_id in dict.fromkeys(track_ids):
        track = (await conn.execute(select(*TRACK_TABLE.c).where(Track.id == track_id))).first()
        if track is None:
            raise NotFound("Track", track_id)
        if track.image_id != annotation.image_id:
            raise InvalidInput(f"Track {track_id} belongs to another image than the annotation")
        values = {"annotation_id": annotation.id, "annotation_class_name": USER_ANNOTATION_CLASS,
                  "track_id": track_id, "slice_id": annotation.slice_id}  # fmt: skip
        with constraint_errors(
            f"Track {track_id} already has an annotation on slice {annotation.slice_id}"
        ):
            link = await insert_row(conn, AnnotationTrack, values)
        await log.add(ANNOTATION_TRACK, link, printed=printed)
        links.append(link)
    return links
