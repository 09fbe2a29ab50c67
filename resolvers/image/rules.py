"""What may be done with image instances and slice instances, and what their rows show to
whom: undo/redo specs, blind mode, calibration, review state, and the checks on written fields.

Rights come from the project (READ to read; the read-only and owner-or-mode checks of core.md
§7.4 to write, with the instance's creator as owner) and, on create, from the abstract image's
storage. Blind mode is a permission rule and lives here: in a blind project the names become
the base image's id, and viewers who do not manage the project see no file name at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, cast

from sqlalchemy import select

from db.engine import Connection
from db.models import ImageInstance, SecUser, SliceInstance
from resolvers.abstract_image import abstract_images_by_id, get_abstract_image
from resolvers.annotation_upkeep import image_is_annotated, remeasure_annotations
from resolvers.command import Spec, register
from resolvers.context import Context
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.image.rows import _AS, _II, MAX_NAME, ImageRow, SliceRow, image_instances_by_id
from resolvers.project import ProjectAccess, project_access, projects_by_id

__all__ = [
    "IMAGE_INSTANCE",
    "SLICE_INSTANCE",
    "Calibration",
    "ImageInstanceFields",
    "ImageNames",
    "ReviewState",
    "SliceInstanceFields",
    "blind_snapshot",
    "effective_calibration",
    "image_names",
    "names_hidden",
    "review_state",
    "slice_path",
    "stored_calibration",
    "viewer_manages",
]


# --- specs: how commands of these domains are replayed ---------------------------------------


async def _may_edit_image(ctx: Context, row: Mapping[str, Any]) -> None:
    """Owner-or-mode on the image's project, with the image's creator as owner (§6); a replay
    that would move an annotated image is refused like the edit."""
    (await project_access(ctx, row["project_id"])).require_writable().require_owner_or_mode(
        row["user_id"]
    )
    async with ctx.db.transaction() as conn:
        current = await conn.scalar(select(_II.c.project_id).where(_II.c.id == row["id"]))
        if current is not None and current != row["project_id"]:
            await _refuse_annotated_move(conn, row["id"])


async def _may_edit_slice(ctx: Context, row: Mapping[str, Any]) -> None:
    (await project_access(ctx, row["project_id"])).require_writable()


async def _refuse_annotated_move(conn: Connection, image_id: int) -> None:
    if await image_is_annotated(conn, image_id):
        raise InvalidInput(
            f"Image instance {image_id} holds annotations or tracks: it stays in its project"
        )


async def _remeasure(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A replayed image edit may change its calibration back: its annotations are measured
    again."""
    await remeasure_annotations(conn, [row["id"] for row in rows])


IMAGE_INSTANCE: Final = register(
    Spec("ImageInstance", ImageInstance, lambda row: f"{row['id']} ({row['base_image_id']})",
         project_of=lambda row: row["project_id"], authorize=_may_edit_image,
         counters=("count_image_annotations", "count_image_reviewed_annotations"),
         after_replay=_remeasure)
)  # fmt: skip
SLICE_INSTANCE: Final = register(
    Spec("SliceInstance", SliceInstance, lambda row: str(row["id"]),
         project_of=lambda row: row["project_id"], authorize=_may_edit_slice)
)  # fmt: skip


# --- what a row shows ------------------------------------------------------------------------


async def viewer_manages(ctx: Context, project_id: int) -> bool:
    """Whether the caller manages the project (or is an admin-by-now)."""
    return (await project_access(ctx, project_id)).is_manager


async def names_hidden(ctx: Context, row: ImageRow | SliceRow) -> bool:
    """True when the caller may not see the file names of an image or slice of a blind project:
    everyone but its managers (and admins)."""
    return bool(row.blind_mode) and not await viewer_manages(ctx, row.project_id)


async def _names_hidden_in(ctx: Context, project_id: Any) -> bool:
    """`names_hidden` for a project known by id only (a deleted one hides: nobody manages it
    any more)."""
    if ctx.require_viewer().is_admin:
        return False
    if not isinstance(project_id, int):
        return True
    try:
        access = await project_access(ctx, project_id)
    except NotFound:
        return True
    return bool(access.row.blind_mode) and not access.is_manager


def _named_instances(data: Any) -> Iterator[dict[str, Any]]:
    """The image-instance rows of a snapshot that carry a stored name, however nested."""
    if isinstance(data, list):
        for item in data:
            yield from _named_instances(item)
    elif isinstance(data, dict):
        if "base_image_id" in data and data.get("instance_filename") is not None:
            yield data
        for value in data.values():
            if isinstance(value, dict | list):
                yield from _named_instances(value)


def _unnamed(data: Any, hidden: set[Any]) -> Any:
    """A copy of the snapshot, the stored names of instances of `hidden` projects null."""
    if isinstance(data, list):
        return [_unnamed(item, hidden) for item in data]
    if not isinstance(data, dict):
        return data
    shown = {key: _unnamed(value, hidden) for key, value in data.items()}
    if "base_image_id" in shown and shown.get("project_id") in hidden:
        shown["instance_filename"] = None
    return shown


async def blind_snapshot(ctx: Context, data: Any) -> Any:
    """A command's snapshot as the caller may see it: the stored name of every image instance
    in it (`instance_filename`) is null where its project is blind and the caller does not
    manage it, as in every other answer that shows an image."""
    projects = {row.get("project_id") for row in _named_instances(data)}
    hidden = {project for project in projects if await _names_hidden_in(ctx, project)}
    return _unnamed(data, hidden) if hidden else data


@dataclass(frozen=True, slots=True)
class ImageNames:
    """The names an image shows to one viewer (blind mode applied)."""

    instance_filename: str | None
    original_filename: str | None
    blinded_name: str | None
    filename: str | None
    path: str | None


async def image_names(ctx: Context, row: ImageRow) -> ImageNames:
    """Blind projects show the base image's id instead of names, to everybody; who does not
    manage the project sees no file name at all (§2.6)."""
    if not row.blind_mode:
        shown = row.instance_filename or row.original_filename
        return ImageNames(shown, row.original_filename, None, row.original_filename, row.file_path)
    blinded = str(row.base_image_id)
    if await names_hidden(ctx, row):
        return ImageNames(None, None, blinded, None, None)
    return ImageNames(blinded, blinded, blinded, row.original_filename, row.file_path)


async def slice_path(ctx: Context, row: SliceRow) -> str | None:
    """A slice's file path, hidden like its image's names."""
    return None if await names_hidden(ctx, row) else row.file_path


@dataclass(frozen=True, slots=True)
class Calibration:
    """Physical sizes (µm per pixel), frame rate and magnification of an image."""

    physical_size_x: float | None
    physical_size_y: float | None
    physical_size_z: float | None
    fps: float | None
    magnification: int | None


def stored_calibration(row: ImageRow) -> Calibration:
    """The instance's own overrides (null: inherited)."""
    return Calibration(row.physical_size_x, row.physical_size_y, row.physical_size_z, row.fps,
                       row.magnification)  # fmt: skip


def effective_calibration(row: ImageRow) -> Calibration:
    """The instance's value when set and non-zero, else the abstract image's (§2.6)."""
    return Calibration(
        row.physical_size_x or row.base_physical_size_x,
        row.physical_size_y or row.base_physical_size_y,
        row.physical_size_z or row.base_physical_size_z,
        row.fps or row.base_fps,
        row.magnification or row.base_magnification,
    )


ReviewState = Literal["NONE", "IN_REVIEW", "VALIDATED"]


def review_state(row: ImageRow) -> ReviewState:
    """Validated once stopped; in review while started by a reviewer and not stopped."""
    if row.review_stop is not None:
        return "VALIDATED"
    if row.review_start is not None and row.review_user_id is not None:
        return "IN_REVIEW"
    return "NONE"


# --- image instance fields -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageInstanceFields:
    """An image instance's writable fields; an update replaces them all (core.md §1.11).

    `resolution` is the legacy name of `physical_size_x` (§2.3).
    """

    base_image: int | None = None
    project: int | None = None
    instance_filename: str | None = None
    magnification: int | None = None
    physical_size_x: float | None = None
    physical_size_y: float | None = None
    physical_size_z: float | None = None
    resolution: float | None = None
    fps: float | None = None
    review_start: datetime | None = None
    review_stop: datetime | None = None
    review_user: int | None = None


def _name(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_NAME:
        raise InvalidInput(f"Property instanceFilename is longer than {MAX_NAME} characters")
    return value


def _size(value: float | None, name: str) -> float | None:
    """A calibration value: absent or 0 means "inherit"; otherwise positive and finite."""
    if value is None or value == 0:
        return None
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"Property {name} must be a positive number")
    return float(value)


def _calibration(fields: ImageInstanceFields) -> Calibration:
    # `resolution` is only ever sent on purpose (nothing emits it), so it wins (as for
    # abstract images)
    physical_x = fields.physical_size_x if fields.resolution is None else fields.resolution
    magnification = fields.magnification
    if magnification is not None and magnification < 0:
        raise InvalidInput("Property magnification must be a positive number")
    return Calibration(
        _size(physical_x, "physicalSizeX"),
        _size(fields.physical_size_y, "physicalSizeY"),
        _size(fields.physical_size_z, "physicalSizeZ"),
        _size(fields.fps, "fps"),
        magnification or None,
    )


def _review(fields: ImageInstanceFields) -> dict[str, Any]:
    """The review columns; a reviewer needs a start and a start a reviewer, and a stop needs
    a start no later than it (§2.6). reviewStop is read from reviewStop (not reviewStart, the
    Java bug)."""
    start, stop, reviewer = fields.review_start, fields.review_stop, fields.review_user
    if reviewer is not None and start is None:
        raise InvalidInput("reviewUser is set but reviewStart is not")
    if start is not None and reviewer is None:
        raise InvalidInput("reviewStart is set but reviewUser is not")
    if stop is not None and start is None:
        raise InvalidInput("reviewStop is set but reviewStart is not")
    if stop is not None and start is not None and stop < start:
        raise InvalidInput("reviewStop is before reviewStart")
    return {"review_start": start, "review_stop": stop, "review_user_id": reviewer}


def _calibration_values(calibration: Calibration) -> dict[str, Any]:
    return {
        "physical_size_x": calibration.physical_size_x,
        "physical_size_y": calibration.physical_size_y,
        "physical_size_z": calibration.physical_size_z,
        "fps": calibration.fps,
        "magnification": calibration.magnification,
    }


async def _body_project(ctx: Context, project_id: int | None) -> ProjectAccess:
    """A project named in a body: required, and unknown is a 400 (core.md §5.2)."""
    if project_id is None:
        raise InvalidInput("Property project must be set")
    if await ctx.loader(projects_by_id).load(project_id) is None:
        raise InvalidInput(f"project was not found with id: {project_id}")
    return await project_access(ctx, project_id)


async def _readable_base_image(ctx: Context, image_id: int | None) -> Any:
    """The abstract image named in a body (400 when unknown), readable through its storage
    (the check images-annotations.md §2.6 recommends)."""
    if image_id is None:
        raise InvalidInput("Property baseImage must be set")
    if await ctx.loader(abstract_images_by_id).load(image_id) is None:
        raise InvalidInput(f"baseImage was not found with id: {image_id}")
    return await get_abstract_image(ctx, image_id)


async def _check_reviewer(conn: Connection, user_id: int | None) -> None:
    if user_id is None:
        return
    if (await conn.execute(select(SecUser.id).where(SecUser.id == user_id))).first() is None:
        raise InvalidInput(f"reviewUser was not found with id: {user_id}")


# Clients PUT back what they fetched (the python client does): a value equal to what the
# image shows keeps what is stored, so re-sending a fetched image changes nothing. An
# inherited calibration stays inherited and a blinded name is not stored as a name.


async def _name_on_update(ctx: Context, current: Any, incoming: str | None) -> str | None:
    """The stored name after a PUT; a viewer from whom names are hidden cannot rename."""
    shown = (await image_names(ctx, current)).instance_filename
    if await names_hidden(ctx, current) or (incoming is not None and incoming == shown):
        return cast("str | None", current.instance_filename)
    return _name(incoming)


def _calibration_on_update(current: Any, incoming: Calibration) -> dict[str, Any]:
    """The stored overrides after a PUT."""
    shown = effective_calibration(current)
    values = _calibration_values(incoming)
    for key, value in values.items():
        if value is not None and value == getattr(shown, key):
            values[key] = getattr(current, key)
    return values


# --- slice instance fields -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SliceInstanceFields:
    """A slice instance's fields, all required (§2.7); an update replaces them."""

    base_slice: int | None = None
    image: int | None = None
    project: int | None = None


async def _slice_values(ctx: Context, fields: SliceInstanceFields) -> tuple[dict[str, Any], Any]:
    """Validated columns and the image: the base slice must be a plane of the image's abstract
    image and the project the image's project (400 otherwise); READ and the read-only check on
    the project."""
    for value, name in ((fields.base_slice, "baseSlice"), (fields.image, "image"),
                        (fields.project, "project")):  # fmt: skip
        if value is None:
            raise InvalidInput(f"Property {name} must be set")
    assert fields.base_slice is not None and fields.image is not None
    image = await ctx.loader(image_instances_by_id).load(fields.image)
    if image is None:
        raise InvalidInput(f"image was not found with id: {fields.image}")
    access = (await _body_project(ctx, fields.project)).require_writable()
    if image.project_id != access.row.id:
        raise InvalidInput(f"ImageInstance {image.id} is not in project {access.row.id}")
    async with ctx.db.read() as conn:
        found = await conn.execute(select(_AS.c.image_id).where(_AS.c.id == fields.base_slice))
        base = found.first()
    if base is None:
        raise InvalidInput(f"baseSlice was not found with id: {fields.base_slice}")
    if base.image_id != image.base_image_id:
        raise InvalidInput(f"AbstractSlice {fields.base_slice} is not a plane of image {image.id}")
    values = {
        "base_slice_id": fields.base_slice,
        "image_id": image.id,
        "project_id": image.project_id,
    }
    return values, image


# --- pixels ----------------------------------------------------------------------------------


def _hide_file(ctx: Context, hidden: bool) -> None:
    """An image-server request names the file, so whoever may not see the project's file
    names gets it only through the REST bridge, which relays the pixels without showing it."""
    if hidden and not ctx.trusted:
        raise Forbidden("This project hides its file names from you: use the pixel URLs")
