"""What the schema calls to change properties, descriptions and attached files: the meta rule
on the object and the fields first, then one transaction holding the write and its command
(an upload is no command, core.md §8.1; deleting a file is one)."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Row, delete, update

from db.models import AttachedFile
from resolvers.command import CommandInfo, CommandLog, Spec
from resolvers.context import Context
from resolvers.crud import Changed, constraint_errors, insert_row, lock_row, table_of
from resolvers.errors import InvalidInput, NotFound, TooLarge
from resolvers.metadata.rows import attached_files_by_id, descriptions_by_domain, properties_by_id
from resolvers.metadata.rules import (
    ATTACHED_FILE,
    DESCRIPTION,
    MAX_KEY,
    PROPERTY,
    description_data,
    property_key,
    property_value,
)
from resolvers.metadata_target import (
    ANNOTATION_ALIAS,
    Target,
    class_name_of,
    hold_target,
    simple_name,
    writable_target,
)
from resolvers.upload import StagedFile, client_filename, keep

__all__ = [
    "AttachedFileFields",
    "DescriptionFields",
    "PropertyFields",
    "create_attached_file",
    "create_description",
    "create_property",
    "delete_attached_file",
    "delete_description",
    "delete_property",
    "update_description",
    "update_property",
]

#: A media type a client may declare for its file (anything else is kept as bytes).
MEDIA_TYPE: Final = re.compile(r"^[A-Za-z0-9][\w!#$&^.+-]{0,126}/[A-Za-z0-9][\w!#$&^.+-]{0,126}$")
OCTET_STREAM: Final = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class PropertyFields:
    """A property's writable fields; the object is named by class and id."""

    domain_class_name: str | None = None
    domain_ident: int | None = None
    key: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class DescriptionFields:
    domain_class_name: str | None = None
    domain_ident: int | None = None
    data: str | None = None


@dataclass(frozen=True, slots=True)
class AttachedFileFields:
    """What comes with an uploaded file: its object, an optional name and key."""

    domain_class_name: str | None = None
    domain_ident: int | None = None
    filename: str | None = None
    key: str | None = None


def _snapshot(row: Row[Any], target: Target) -> dict[str, Any]:
    """A row with its object's project, which the command's history entry names."""
    return {**row._mapping, "project_id": target.project_id}


async def _target_of(ctx: Context, row: Any, class_name: str | None, ident: int | None) -> Target:
    """The object a metadata row hangs from, which the caller must be allowed to change; with
    an object named (a domain path), 404 unless the row is that object's."""
    if class_name is not None or ident is not None:
        named = await writable_target(ctx, class_name, ident)
        if (named.class_name, named.id) != (row.domain_class_name, row.domain_ident):
            raise NotFound(simple_name(str(row.domain_class_name)), row.id)
        return named
    return await writable_target(ctx, row.domain_class_name, row.domain_ident)


def _refuse_move(current: Any, class_name: str | None, ident: int | None) -> None:
    """Metadata never moves to another object (core.md §9.11, [R])."""
    moved = ident is not None and ident != current.domain_ident
    if class_name is not None:
        name = class_name_of(class_name)
        moved = moved or name not in (current.domain_class_name, ANNOTATION_ALIAS)
    if moved:
        raise InvalidInput("Metadata cannot move to another object")


async def _edit(
    ctx: Context, spec: Spec, row_id: int, target: Target, values: Mapping[str, Any]
) -> Changed:
    viewer = ctx.require_viewer()
    table = table_of(spec.model)
    async with ctx.db.transaction() as conn:
        before = await lock_row(conn, spec.model, spec.domain, row_id)
        after = (
            await conn.execute(
                update(table).where(table.c.id == row_id).values(**values).returning(*table.c)
            )
        ).one()
        command = await CommandLog(conn, viewer).edit(
            spec, _snapshot(before, target), _snapshot(after, target)
        )
    return Changed(after, command)


async def _delete(ctx: Context, spec: Spec, row_id: int, target: Target) -> Changed:
    viewer = ctx.require_viewer()
    table = table_of(spec.model)
    async with ctx.db.transaction() as conn:
        row = await lock_row(conn, spec.model, spec.domain, row_id)
        command = await CommandLog(conn, viewer).delete(spec, _snapshot(row, target))
        await conn.execute(delete(table).where(table.c.id == row_id))
    return Changed(row, command)


async def _add(ctx: Context, spec: Spec, target: Target, values: Mapping[str, Any],
               conflict: str) -> Changed:  # fmt: skip
    viewer = ctx.require_viewer()
    async with ctx.db.transaction() as conn:
        await hold_target(conn, target)
        with constraint_errors(conflict):
            row = await insert_row(conn, spec.model, values)
        command: CommandInfo = await CommandLog(conn, viewer).add(spec, _snapshot(row, target))
    return Changed(row, command)


def _domain(target: Target) -> dict[str, Any]:
    return {"domain_class_name": target.class_name, "domain_ident": target.id}


# --- properties ------------------------------------------------------------------------------


async def create_property(ctx: Context, fields: PropertyFields) -> Changed:
    """Put a key/value pair on an object (the meta rule); keys may repeat (core.md §9.11)."""
    ctx.require_viewer()
    target = await writable_target(ctx, fields.domain_class_name, fields.domain_ident)
    values = {**_domain(target), "key": property_key(fields.key),
              "value": property_value(fields.value)}  # fmt: skip
    return await _add(ctx, PROPERTY, target, values, "Property already exists")


async def update_property(
    ctx: Context,
    property_id: int,
    fields: PropertyFields,
    class_name: str | None = None,
    ident: int | None = None,
) -> Changed:
    """Replace a property's key and value (PUT is a whole replacement, core.md §1.11); its
    object stays."""
    ctx.require_viewer()
    current = await ctx.found(properties_by_id, property_id, "Property")
    target = await _target_of(ctx, current, class_name, ident)
    _refuse_move(current, fields.domain_class_name, fields.domain_ident)
    values = {"key": property_key(fields.key), "value": property_value(fields.value)}
    return await _edit(ctx, PROPERTY, property_id, target, values)


async def delete_property(
    ctx: Context, property_id: int, class_name: str | None = None, ident: int | None = None
) -> Changed:
    """Take a property off its object (the meta rule)."""
    ctx.require_viewer()
    current = await ctx.found(properties_by_id, property_id, "Property")
    target = await _target_of(ctx, current, class_name, ident)
    return await _delete(ctx, PROPERTY, property_id, target)


# --- descriptions ----------------------------------------------------------------------------


async def create_description(ctx: Context, fields: DescriptionFields) -> Changed:
    """Give an object its description (the meta rule); a second one is a 409."""
    ctx.require_viewer()
    target = await writable_target(ctx, fields.domain_class_name, fields.domain_ident)
    values = {**_domain(target), "data": description_data(fields.data)}
    conflict = f"Description already exist for {simple_name(target.class_name)} {target.id}"
    return await _add(ctx, DESCRIPTION, target, values, conflict)


async def _description_of(ctx: Context, class_name: str | None, ident: int | None) -> Any:
    target = await writable_target(ctx, class_name, ident)
    row = await ctx.loader(descriptions_by_domain).load((target.class_name, target.id))
    if row is None:
        raise NotFound("Description", f"{simple_name(target.class_name)} {target.id}", "domain")
    return target, row


async def update_description(ctx: Context, fields: DescriptionFields) -> Changed:
    """Replace an object's description text; 404 when it has none."""
    ctx.require_viewer()
    target, row = await _description_of(ctx, fields.domain_class_name, fields.domain_ident)
    values = {"data": description_data(fields.data)}
    return await _edit(ctx, DESCRIPTION, row.id, target, values)


async def delete_description(ctx: Context, class_name: str | None, ident: int | None) -> Changed:
    """Remove an object's description; 404 when it has none."""
    ctx.require_viewer()
    target, row = await _description_of(ctx, class_name, ident)
    return await _delete(ctx, DESCRIPTION, row.id, target)


# --- attached files --------------------------------------------------------------------------


def _content_type(filename: str, declared: str | None) -> str:
    """The type a download is sent with: guessed from the name, else what the client declared
    when it looks like a media type, else plain bytes."""
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed:
        return guessed
    if declared and MEDIA_TYPE.match(declared.split(";", 1)[0].strip()):
        return declared.split(";", 1)[0].strip().lower()
    return OCTET_STREAM


def _file_key(value: str | None) -> str | None:
    key = (value or "").strip() or None
    if key is not None and len(key) > MAX_KEY:
        raise InvalidInput(f"Property key is longer than {MAX_KEY} characters")
    return key


async def create_attached_file(
    ctx: Context, fields: AttachedFileFields, staged: StagedFile | None
) -> Any:
    """Keep an uploaded file on an object (the meta rule): the staged file is renamed to a
    name of the server's choosing, then its row is written; if the row cannot be written the
    file goes. No command: an upload is not undone (core.md §8.1). An empty upload, or a name
    that is a path trick or holds control characters, is a 400."""
    viewer = ctx.require_viewer()
    target = await writable_target(ctx, fields.domain_class_name, fields.domain_ident)
    if staged is None:
        raise InvalidInput("The upload holds no file (a part named files[])")
    if staged.size == 0:
        raise InvalidInput("The file is empty")
    if staged.size > ctx.settings.attached_max_bytes:  # GraphQL stages under the image limit
        raise TooLarge(f"The file is larger than {ctx.settings.attached_max_bytes} bytes")
    name = client_filename(fields.filename, staged.filename)
    values = {
        **_domain(target),
        "filename": name,
        "key": _file_key(fields.key),
        "size": staged.size,
        "sha256": staged.sha256,
        "content_type": _content_type(name, staged.content_type),
        "user_id": viewer.id,
    }
    kept = keep(staged)
    try:
        values["path"] = kept.relative_to(staged.root).as_posix()
        async with ctx.db.transaction() as conn:
            await hold_target(conn, target)
            row = await insert_row(conn, AttachedFile, values)
    except BaseException:
        kept.unlink(missing_ok=True)
        raise
    return row


async def delete_attached_file(ctx: Context, file_id: int) -> Changed:
    """Delete an attached file (the meta rule), as a command: its bytes stay on disk while an
    undo may bring the row back (resolvers/metadata/files.py)."""
    ctx.require_viewer()
    current = await ctx.found(attached_files_by_id, file_id, "AttachedFile")
    target = await writable_target(ctx, current.domain_class_name, current.domain_ident)
    return await _delete(ctx, ATTACHED_FILE, file_id, target)
