"""What the schema calls to record activity: a ping, a project connection, an image
consultation, a viewer position, an annotation action (contract core.md §9.16–§9.19).

Each checks the caller may read the project, builds its record (its id from the recorder's
block of the global sequence) and queues it: the answer carries the record as it will be
stored, and nothing waits for the INSERT (resolvers/activity/recorder.py). No record is a
command (core.md §8.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Final

from sqlalchemy import select

from db.models import ProjectConnection
from resolvers.activity.recorder import ActivityRecorder
from resolvers.activity.rows import (
    ACTION_TABLE,
    CONNECTION_TABLE,
    CONSULTATION_TABLE,
    PING_TABLE,
    POSITION_TABLE,
    annotation_places_by_id,
)
from resolvers.context import Context
from resolvers.errors import InvalidInput, NotFound, Unavailable
from resolvers.image import get_image_instance, get_slice_instance, image_instances_by_id
from resolvers.image import reference_slice as image_reference_slice
from resolvers.image_name import shown_name
from resolvers.project_access import project_access

__all__ = [
    "MAX_TEXT",
    "PositionFields",
    "record_annotation_action",
    "record_consultation",
    "record_ping",
    "record_position",
    "record_project_connection",
]

#: The longest free text of a record (os, browser, mode, action).
MAX_TEXT: Final = 255
#: The farthest a viewport corner may lie from the origin, in pixels.
MAX_COORDINATE: Final = 1e9
MAX_ZOOM: Final = 100


def _recorder(ctx: Context) -> ActivityRecorder:
    if ctx.activity is None:
        raise Unavailable("Activity is not recorded by this process")
    return ctx.activity


def _now() -> datetime:
    return datetime.now(UTC)


def _text(value: str | None, name: str) -> str | None:
    """Optional free text, at most MAX_TEXT characters, that PostgreSQL can store: a NUL or a
    lone surrogate is refused here, as the record is written later, in a batch with others'
    (resolvers/activity/recorder.py), where it would fail the whole batch."""
    if value is None:
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"Property {name} is longer than {MAX_TEXT} characters")
    if "\x00" in value or not _encodable(value):
        raise InvalidInput(f"Property {name} must not hold NUL characters nor lone surrogates")
    return value


def _encodable(value: str) -> bool:
    """`value` is valid Unicode (no lone surrogate, which UTF-8 cannot encode)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def record_ping(ctx: Context, project_id: int | None) -> None:
    """Note that the caller is connected (to a project they may read, when named): presence,
    and the activity time of their project connections. A project they may not read, or that
    does not exist, is left out rather than refused: a ping always answers."""
    viewer = ctx.require_viewer()
    if ctx.activity is None:
        return
    if project_id is not None:
        try:
            if not (await project_access(ctx, project_id)).is_member:
                project_id = None
        except NotFound:
            project_id = None
    row = {"id": await ctx.activity.next_id(), "created": _now(), "user_id": viewer.id,
           "project_id": project_id}  # fmt: skip
    ctx.activity.add(PING_TABLE, row)


async def record_project_connection(
    ctx: Context,
    project_id: int,
    os: str | None = None,
    browser: str | None = None,
    browser_version: str | None = None,
) -> Any:
    """The caller opens a project they may read (core.md §9.16); its duration and counts are
    null until a later connection closes it."""
    viewer = ctx.require_viewer()
    (await project_access(ctx, project_id)).require_read()
    recorder = _recorder(ctx)
    row = {
        "id": await recorder.next_id(),
        "created": _now(),
        "user_id": viewer.id,
        "project_id": project_id,
        "os": _text(os, "os"),
        "browser": _text(browser, "browser"),
        "browser_version": _text(browser_version, "browserVersion"),
    }
    recorder.add(CONNECTION_TABLE, row)
    return SimpleNamespace(**row, time=None, count_viewed_images=None,
                           count_created_annotations=None, online=None)  # fmt: skip


async def _latest_connection(ctx: Context, user_id: int, project_id: int) -> int | None:
    """The id of the user's newest connection to the project, queued or stored."""
    recorder = _recorder(ctx)
    queued = recorder.queued_connection(user_id, project_id)
    stmt = (
        select(ProjectConnection.created, ProjectConnection.id)
        .where(ProjectConnection.user_id == user_id, ProjectConnection.project_id == project_id)
        .order_by(ProjectConnection.created.desc(), ProjectConnection.id.desc())
        .limit(1)
    )
    async with ctx.db.read() as conn:
        stored = (await conn.execute(stmt)).first()
    candidates: list[tuple[datetime, int]] = [] if queued is None else [queued]
    if stored is not None:
        candidates.append((stored.created, int(stored.id)))
    return max(candidates)[1] if candidates else None


async def record_consultation(ctx: Context, image_id: int, mode: str | None = None) -> Any:
    """The caller opens an image of a project they may read (core.md §9.17), named as the
    project shows it now (the base image's id in a blind project), within their newest
    connection to the project."""
    viewer = ctx.require_viewer()
    image = await get_image_instance(ctx, image_id)
    recorder = _recorder(ctx)
    row = {
        "id": await recorder.next_id(),
        "created": _now(),
        "user_id": viewer.id,
        "image_id": image.id,
        "project_id": image.project_id,
        "project_connection_id": await _latest_connection(ctx, viewer.id, image.project_id),
        "mode": _text(mode, "mode"),
        "image_name": shown_name(image),
    }
    recorder.add(CONSULTATION_TABLE, row)
    return SimpleNamespace(**row, time=None, count_created_annotations=None)


@dataclass(frozen=True, slots=True)
class PositionFields:
    """A viewport: its corners (pixels), zoom, rotation and whether it is broadcast."""

    top_left_x: float | None = None
    top_left_y: float | None = None
    top_right_x: float | None = None
    top_right_y: float | None = None
    bottom_right_x: float | None = None
    bottom_right_y: float | None = None
    bottom_left_x: float | None = None
    bottom_left_y: float | None = None
    zoom: int | None = None
    rotation: float | None = None
    broadcast: bool | None = None

    def corners(self) -> list[float]:
        """The corners as x, y pairs (top-left, top-right, bottom-right, bottom-left); an
        absent one is 0, as in Cytomine; anything not finite or absurdly far is a 400."""
        values = [self.top_left_x, self.top_left_y, self.top_right_x, self.top_right_y,
                  self.bottom_right_x, self.bottom_right_y, self.bottom_left_x,
                  self.bottom_left_y]  # fmt: skip
        out = [0.0 if value is None else float(value) for value in values]
        if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in out):
            raise InvalidInput(f"A position's corners must be numbers within ±{MAX_COORDINATE:g}")
        return out


def _outside(corners: list[float], width: int | None, height: int | None) -> bool:
    """The viewport sees nothing of the image (its bounding box misses the image's)."""
    xs, ys = corners[0::2], corners[1::2]
    if width is not None and (min(xs) > width or max(xs) < 0):
        return True
    return height is not None and (min(ys) > height or max(ys) < 0)


async def record_position(
    ctx: Context,
    fields: PositionFields,
    *,
    image_id: int | None = None,
    slice_id: int | None = None,
) -> Any:
    """The caller's viewport on an image (its reference slice) or on one slice of it (core.md
    §9.18), READ on its project. A slice of another image than the one named is a 404; a
    viewport outside the image, a negative or huge zoom or a rotation that is no number is a
    400."""
    viewer = ctx.require_viewer()
    if slice_id is not None:
        piece = await get_slice_instance(ctx, slice_id)
        if image_id is not None and piece.image_id != image_id:  # as the position listings
            raise NotFound("SliceInstance", slice_id)
        image = await ctx.found(image_instances_by_id, piece.image_id, "ImageInstance")
    elif image_id is not None:
        image = await get_image_instance(ctx, image_id)
        piece = await image_reference_slice(ctx, image)
    else:
        raise InvalidInput("A position needs its image or its slice")
    corners = fields.corners()
    zoom = 0 if fields.zoom is None else fields.zoom
    rotation = 0.0 if fields.rotation is None else float(fields.rotation)
    if not 0 <= zoom <= MAX_ZOOM:
        raise InvalidInput(f"Property zoom must be between 0 and {MAX_ZOOM}")
    if not math.isfinite(rotation):
        raise InvalidInput("Property rotation must be a finite number")
    if _outside(corners, image.width, image.height):
        raise InvalidInput(f"The position lies outside ImageInstance {image.id}")
    recorder = _recorder(ctx)
    created = _now()
    row = {
        "id": await recorder.next_id(),
        "created": created,
        "user_id": viewer.id,
        "image_id": image.id,
        "slice_id": piece.id,
        "project_id": image.project_id,
        "corners": corners,
        "x": sum(corners[0::2]) / 4,
        "y": sum(corners[1::2]) / 4,
        "zoom": zoom,
        "rotation": rotation,
        "broadcast": bool(fields.broadcast),
        "image_name": shown_name(image),
    }
    recorder.add(POSITION_TABLE, row)
    return SimpleNamespace(**row, updated=created)


async def record_annotation_action(
    ctx: Context, annotation_id: int | None, action: str | None
) -> Any:
    """Something the caller did to an annotation of either kind ("select"…), READ on its
    project (core.md §9.19); an unknown annotation is a 404."""
    viewer = ctx.require_viewer()
    if annotation_id is None:
        raise InvalidInput("Property annotationIdent must be set")
    what = (action or "").strip()
    if not what:
        raise InvalidInput("Property action must be set")
    place = await ctx.found(annotation_places_by_id, annotation_id, "Annotation")
    (await project_access(ctx, place.project_id)).require_read()
    recorder = _recorder(ctx)
    row = {
        "id": await recorder.next_id(),
        "created": _now(),
        "user_id": viewer.id,
        "image_id": place.image_id,
        "slice_id": place.slice_id,
        "project_id": place.project_id,
        "action": _text(what, "action"),
        "annotation_ident": place.id,
        "annotation_class_name": place.class_name,
        "annotation_creator_id": place.user_id,
    }
    recorder.add(ACTION_TABLE, row)
    return SimpleNamespace(**row)
