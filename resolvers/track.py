"""Tracks and the annotations they hold (contract images-annotations.md §4, §9.11–§9.12).

A track follows one object through the planes of an image: it holds at most one annotation per
slice. Rights come from the image's project: READ to read; to write, the owner-or-mode check
(core.md §7.4) with the image's creator as owner for tracks and the annotation's creator for
the links, and the user role (a guest writes neither). A track's `project` is always its
image's, whatever a caller sends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, delete, select

from db.direct import Direct
from db.engine import Connection, Lease
from db.id_lists import among, among_bound, rows_by_id, rows_grouped
from db.models import AbstractSlice, AnnotationTrack, SliceInstance, Track, UserAnnotation
from resolvers.command import (
    CommandInfo,
    CommandLog,
    Spec,
    delete_logged,
    register,
    update_logged,
)
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import InvalidInput, NotFound
from resolvers.image import image_instances_by_id
from resolvers.listing import Page, fetch_page
from resolvers.metadata import record_metadata
from resolvers.metadata_target import TRACK_CLASS, USER_ANNOTATION_CLASS
from resolvers.project_access import ProjectAccess, project_access

__all__ = [
    "ANNOTATION_TRACK",
    "TRACK",
    "TrackFields",
    "annotation_places_by_id",
    "create_annotation_track",
    "create_track",
    "delete_annotation_track",
    "delete_track",
    "get_annotation_track",
    "get_track",
    "link_tracks",
    "links_by_track",
    "list_annotation_tracks",
    "list_tracks",
    "stray_link",
    "tracks_by_id",
    "tracks_by_image",
    "update_track",
    "visible_annotations_by_track",
]

TRACK_TABLE: Final = table_of(Track)
LINK_TABLE: Final = table_of(AnnotationTrack)
MAX_NAME: Final = 255
MAX_COLOR: Final = 64
#: What the track rules need of an annotation: where it is and who drew it.
PLACE_COLUMNS: Final[tuple[Any, ...]] = (
    UserAnnotation.id,
    UserAnnotation.project_id,
    UserAnnotation.image_id,
    UserAnnotation.slice_id,
    UserAnnotation.user_id,
)
#: A track's links in plane order: by time, z, channel, as the slice rank c + C·(z + Z·t).
PLANE_ORDER: Final = (AbstractSlice.time, AbstractSlice.z_stack, AbstractSlice.channel)


@dataclass(frozen=True, slots=True)
class TrackFields:
    """A track's writable fields; an update replaces them all."""

    name: str | None = None
    color: str | None = None
    image: int | None = None


# --- loaders ---------------------------------------------------------------------------------


_TRACKS: Final = Direct(select(*TRACK_TABLE.c).where(among_bound(Track.id)))


async def tracks_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Tracks by id, one SELECT for the batch."""
    return await rows_by_id(db, _TRACKS, ids)


async def tracks_by_image(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The tracks of each image instance, by name."""
    stmt = select(*TRACK_TABLE.c).where(among(Track.image_id, ids)).order_by(Track.name, Track.id)
    return await rows_grouped(db, stmt, "image_id", ids)


async def links_by_track(db: Lease, ids: list[int]) -> list[list[Row[Any]]]:
    """The annotation links of each track, in plane order (the track's path through the
    image)."""
    stmt = (
        select(*LINK_TABLE.c)
        .join(SliceInstance, SliceInstance.id == AnnotationTrack.slice_id)
        .join(AbstractSlice, AbstractSlice.id == SliceInstance.base_slice_id)
        .where(among(AnnotationTrack.track_id, ids))
        .order_by(*PLANE_ORDER, AnnotationTrack.id)
    )
    return await rows_grouped(db, stmt, "track_id", ids)


async def visible_annotations_by_track(
    db: Lease, keys: list[tuple[int | None, int]]
) -> list[list[int]]:
    """Batch loader on (viewer, track): the ids of the annotations the track holds that the
    viewer sees (None: an administrator, who sees them all), in plane order. A project's
    hide-layer flags (core.md §7.4) hide annotations here as in every other list of them
    (the track's paged `annotations`, the listing), one statement per viewer."""
    # the annotation package builds on this module: its listing rules are read when called
    from resolvers.annotation.listing import USER_LAYER, visible_to

    found: dict[tuple[int | None, int], list[int]] = {key: [] for key in keys}
    by_viewer: defaultdict[int | None, list[int]] = defaultdict(list)
    for viewer, track_id in keys:
        by_viewer[viewer].append(track_id)
    async with db.read() as conn:
        for viewer, track_ids in by_viewer.items():
            visible, _ = visible_to(viewer)
            stmt = (
                select(AnnotationTrack.track_id, AnnotationTrack.annotation_id)
                .join(USER_LAYER.table, USER_LAYER.table.c.id == AnnotationTrack.annotation_id)
                .join(SliceInstance, SliceInstance.id == AnnotationTrack.slice_id)
                .join(AbstractSlice, AbstractSlice.id == SliceInstance.base_slice_id)
                .where(among(AnnotationTrack.track_id, track_ids), visible(USER_LAYER))
                .order_by(*PLANE_ORDER, AnnotationTrack.id)
            )
            for track_id, annotation_id in await conn.execute(stmt):
                found[(viewer, track_id)].append(annotation_id)
    return [found[key] for key in keys]


_PLACES: Final = Direct(select(*PLACE_COLUMNS).where(among_bound(UserAnnotation.id)))


async def annotation_places_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Where each user annotation is and who drew it (PLACE_COLUMNS), for the link rules; the
    annotation module builds on this one, so it cannot lend its own loader."""
    return await rows_by_id(db, _PLACES, ids)


# --- specs: how commands of these domains are replayed ---------------------------------------


async def _may_edit_track(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode on the image's project, the image's creator being the owner (§4.1)."""
    await _writable_image(ctx, row["image_id"])


async def _may_edit_link(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode on the annotation's project, its creator being the owner (§4.2)."""
    annotation = await ctx.loader(annotation_places_by_id).load(row["annotation_id"])
    if annotation is not None:
        access = await project_access(ctx, annotation.project_id)
        access.require_owner_or_mode(annotation.user_id)


TRACK: Final = register(
    Spec("Track", Track, lambda row: f"{row['id']} ({row['name']})",
         project_of=lambda row: row["project_id"], authorize=_may_edit_track)
)  # fmt: skip


def _slice_now(row: Mapping[str, Any]) -> Any:
    """A replayed link's slice: its annotation's as it is now, which may have moved to another
    slice since the link was recorded (a link lives on its annotation's slice, §4.2)."""
    return (
        select(UserAnnotation.slice_id)
        .where(UserAnnotation.id == row["annotation_id"])
        .scalar_subquery()
    )


async def stray_link(conn: Connection, *where: Any) -> Any:
    """The first link among those `where` names whose track is of another image than its
    annotation (a track holds annotations of its own image only; a replay may have moved the
    annotation since): a row of its `annotation_id` and `track_id`, or None."""
    stray = (
        select(AnnotationTrack.annotation_id, AnnotationTrack.track_id)
        .join(Track, Track.id == AnnotationTrack.track_id)
        .join(UserAnnotation, UserAnnotation.id == AnnotationTrack.annotation_id)
        .where(*where, Track.image_id != UserAnnotation.image_id)
        .limit(1)
    )
    return (await conn.execute(stray)).first()


async def _links_in_their_image(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A replayed link's annotation may have moved to another image since: its track then no
    longer takes it (400), as putting it in would answer."""
    found = await stray_link(conn, among(AnnotationTrack.id, [row["id"] for row in rows]))
    if found is not None:
        raise InvalidInput(
            f"Track {found.track_id} belongs to another image than annotation "
            f"{found.annotation_id} now"
        )


ANNOTATION_TRACK: Final = register(
    Spec("AnnotationTrack", AnnotationTrack,
         lambda row: f"{row['annotation_id']} ({row['track_id']})", authorize=_may_edit_link,
         derived={"slice_id": _slice_now}, after_replay=_links_in_their_image)
)  # fmt: skip


# --- checks ----------------------------------------------------------------------------------


async def _writable_image(ctx: Context, image_id: int | None) -> Any:
    """The image a track is (or goes) on, when the caller may change its tracks: READ, and
    owner-or-mode with the image's creator as owner. A missing image is a 404 (§4.1)."""
    image = None if image_id is None else await ctx.loader(image_instances_by_id).load(image_id)
    if image is None:
        raise NotFound("ImageInstance", image_id)
    (await project_access(ctx, image.project_id)).require_owner_or_mode(image.user_id)
    return image


def _name(value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidInput("Property name must be set: a track needs a name")
    if len(value) > MAX_NAME:
        raise InvalidInput(f"Property name is longer than {MAX_NAME} characters")
    return value.strip()


def _color(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_COLOR:
        raise InvalidInput(f"Property color is longer than {MAX_COLOR} characters")
    return value


def _duplicate(name: str) -> str:
    return f"Track {name} already exist in this image!"


async def _track(ctx: Context, track_id: int) -> Any:
    ctx.require_viewer()
    return await ctx.found(tracks_by_id, track_id, "Track")


async def _annotation(ctx: Context, annotation_id: int | None) -> tuple[Any, ProjectAccess]:
    """A user annotation's place and the caller's access to its project; 404 when unknown."""
    ctx.require_viewer()
    if annotation_id is None:
        raise InvalidInput("Property annotationIdent must be set: which annotation?")
    place = await ctx.found(annotation_places_by_id, annotation_id, "UserAnnotation")
    return place, await project_access(ctx, place.project_id)


# --- tracks ----------------------------------------------------------------------------------


async def get_track(ctx: Context, track_id: int) -> Any:
    """One track of a project the caller may read."""
    row = await _track(ctx, track_id)
    (await project_access(ctx, row.project_id)).require_read()
    return row


async def list_tracks(
    ctx: Context,
    *,
    image_id: int | None = None,
    project_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any]:
    """The tracks of an image or of a project (READ on it), by name; 404 for an unknown
    image or project."""
    ctx.require_viewer()
    stmt = select(*TRACK_TABLE.c).order_by(Track.name, Track.id)
    if image_id is None and project_id is None:
        raise InvalidInput("Give the image or the project whose tracks to list")
    if image_id is not None:
        image = await ctx.found(image_instances_by_id, image_id, "ImageInstance")
        (await project_access(ctx, image.project_id)).require_read()
        stmt = stmt.where(Track.image_id == image_id)
    if project_id is not None:
        (await project_access(ctx, project_id)).require_read()
        stmt = stmt.where(Track.project_id == project_id)
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)


async def create_track(ctx: Context, fields: TrackFields) -> Changed:
    """Create a track on an image (§4.1), in the image's project; its name is unique within
    the image (409)."""
    viewer = ctx.require_viewer()
    image = await _writable_image(ctx, fields.image)
    ctx.require_user("create tracks")
    values = {"name": _name(fields.name), "color": _color(fields.color), "image_id": image.id,
              "project_id": image.project_id}  # fmt: skip
    async with ctx.db.transaction() as conn:
        with constraint_errors(_duplicate(values["name"]), f"Image {image.id} no longer exists"):
            row = await insert_row(conn, Track, values)
        command = await CommandLog(conn, viewer).add(TRACK, row)
    return Changed(row, command)


async def update_track(ctx: Context, track_id: int, fields: TrackFields) -> Changed:
    """Replace a track's name, colour and image (the body must name the image, §4.1). A track
    moves to another image only while it holds no annotation: its links live on the planes of
    its image."""
    viewer = ctx.require_viewer()
    current = await _track(ctx, track_id)
    await _writable_image(ctx, current.image_id)
    ctx.require_user("change tracks")
    image = await _writable_image(ctx, fields.image)
    values = {"name": _name(fields.name), "color": _color(fields.color), "image_id": image.id,
              "project_id": image.project_id}  # fmt: skip
    async with ctx.db.transaction() as conn:
        await lock_row(conn, Track, "Track", track_id)
        if image.id != current.image_id and await _links_of(conn, track_id):
            raise InvalidInput("A track holding annotations cannot move to another image")
        _, after, command = await update_logged(
            CommandLog(conn, viewer), TRACK, track_id, values, conflict=_duplicate(values["name"])
        )
    return Changed(after, command)


async def _links_of(conn: Connection, track_id: int) -> list[Row[Any]]:
    stmt = select(*LINK_TABLE.c).where(AnnotationTrack.track_id == track_id)
    return list((await conn.execute(stmt.order_by(AnnotationTrack.id))).all())


async def delete_track(ctx: Context, track_id: int) -> Changed:
    """Delete a track; its annotations stay, their links to it and its tag associations are
    recorded first so that undo brings them back with the track (§4.1)."""
    viewer = ctx.require_viewer()
    current = await _track(ctx, track_id)
    await _writable_image(ctx, current.image_id)
    ctx.require_user("delete tracks")
    async with ctx.db.transaction() as conn:
        await lock_row(conn, Track, "Track", track_id)  # no link is added while we delete
        log = CommandLog(conn, viewer)
        await log.delete_many(ANNOTATION_TRACK, await _links_of(conn, track_id))
        await conn.execute(delete(AnnotationTrack).where(AnnotationTrack.track_id == track_id))
        await record_metadata(conn, log, TRACK_CLASS, [track_id])
        row, command = await delete_logged(log, TRACK, track_id)
    return Changed(row, command)


# --- annotation links ------------------------------------------------------------------------


async def _link(
    conn: Connection, log: CommandLog, annotation: Row[Any], track_id: int, *, printed: bool
) -> tuple[Row[Any], CommandInfo]:
    """Put an annotation in one track of its image, on its slice."""
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
    return link, await log.add(ANNOTATION_TRACK, link, printed=printed)


async def link_tracks(
    conn: Connection,
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
        link, _ = await _link(conn, log, annotation, track_id, printed=printed)
        links.append(link)
    return links


async def _find_link(conn: Connection, annotation_id: int, track_id: int) -> Row[Any]:
    stmt = select(*LINK_TABLE.c).where(
        AnnotationTrack.annotation_id == annotation_id, AnnotationTrack.track_id == track_id
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("AnnotationTrack", f"{annotation_id}/{track_id}", "annotation/track")
    return row


async def get_annotation_track(ctx: Context, annotation_id: int, track_id: int) -> Any:
    """The link of an annotation to a track (READ); 404 when either or the link is missing."""
    _, access = await _annotation(ctx, annotation_id)
    access.require_read()
    await _track(ctx, track_id)
    async with ctx.db.read() as conn:
        return await _find_link(conn, annotation_id, track_id)


async def list_annotation_tracks(
    ctx: Context, *, track_id: int | None = None, annotation_id: int | None = None
) -> Sequence[Any]:
    """The links of a track (in plane order) or of an annotation (oldest first); READ."""
    if (track_id is None) == (annotation_id is None):
        raise InvalidInput("Give either the track or the annotation whose links to list")
    if track_id is not None:
        await get_track(ctx, track_id)
        return await ctx.loader(links_by_track).load(track_id)
    _, access = await _annotation(ctx, annotation_id)
    access.require_read()
    stmt = select(*LINK_TABLE.c).where(AnnotationTrack.annotation_id == annotation_id)
    async with ctx.db.read() as conn:
        return (await conn.execute(stmt.order_by(AnnotationTrack.id))).all()


async def create_annotation_track(
    ctx: Context, annotation_id: int | None, track_id: int | None
) -> Changed:
    """Put an annotation in a track of its image (§4.2): owner-or-mode with the annotation's
    creator as owner; a track taken on the annotation's slice is a 409."""
    viewer = ctx.require_viewer()
    place, access = await _annotation(ctx, annotation_id)
    access.require_owner_or_mode(place.user_id)
    ctx.require_user("put annotations in tracks")
    if track_id is None:
        raise InvalidInput("Property track must be set: which track?")
    async with ctx.db.transaction() as conn:
        locked = select(*PLACE_COLUMNS).where(UserAnnotation.id == place.id).with_for_update()
        annotation = (await conn.execute(locked)).first()  # its slice holds still meanwhile
        if annotation is None:
            raise NotFound("UserAnnotation", place.id)
        link, command = await _link(conn, CommandLog(conn, viewer), annotation, track_id,
                                    printed=True)  # fmt: skip
    return Changed(link, command)


async def delete_annotation_track(ctx: Context, annotation_id: int, track_id: int) -> Changed:
    """Take an annotation out of a track (same rights as putting it in); the annotation and
    the track stay."""
    viewer = ctx.require_viewer()
    place, access = await _annotation(ctx, annotation_id)
    access.require_owner_or_mode(place.user_id)
    ctx.require_user("take annotations out of tracks")
    await _track(ctx, track_id)
    async with ctx.db.transaction() as conn:
        link = await _find_link(conn, annotation_id, track_id)
        row, command = await delete_logged(CommandLog(conn, viewer), ANNOTATION_TRACK, link.id)
    return Changed(row, command)
