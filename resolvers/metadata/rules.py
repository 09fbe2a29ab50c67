"""Rules of properties, descriptions and attached files: how their commands are replayed, what
their fields must hold, and how a deleted object's metadata is recorded for undo.

Replays follow the meta rule of the object (resolvers/metadata_target.py) and never bring
metadata back onto an object deleted since: the object must be restored first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import BigInteger, String, and_, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from db.engine import Connection
from db.id_lists import among
from db.models import AttachedFile, Description, Property
from resolvers.command import CommandLog, Spec, register
from resolvers.context import Context
from resolvers.errors import InvalidInput
from resolvers.metadata.rows import ATTACHED_FILE_TABLE, DESCRIPTION_TABLE, PROPERTY_TABLE
from resolvers.metadata_target import hold_targets, project_column, simple_name, writable_target
from resolvers.tag import record_tags

__all__ = [
    "ATTACHED_FILE",
    "DESCRIPTION",
    "MAX_KEY",
    "PROPERTY",
    "add_properties",
    "copy_properties",
    "description_data",
    "property_key",
    "property_pairs",
    "property_value",
    "record_metadata",
]

MAX_KEY: Final = 255


# --- specs: how commands of these domains are replayed ---------------------------------------


async def _may_edit(ctx: Context, row: Mapping[str, Any]) -> None:
    """Replaying a metadata command follows the meta rule on its object."""
    await writable_target(ctx, row["domain_class_name"], row["domain_ident"])


def _objects_still_exist(domain: str) -> Any:
    async def check(conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Restored metadata must hang from existing objects (kept so until the transaction
        ends): one deleted since makes the replay a 400, never an orphan."""
        keys = [(row["domain_class_name"], row["domain_ident"]) for row in rows]
        missing = await hold_targets(conn, keys)
        if missing:
            named = ", ".join(f"{simple_name(name)} {ident}" for name, ident in missing)
            raise InvalidInput(f"Cannot restore {domain}: {named} no longer exists (restore it "
                               "first)")  # fmt: skip

    return check


def _property_message(row: Mapping[str, Any], verb: str) -> str:
    """§8.4: "Property {key} added to {class} {id}", "… edited for …", "… deleted for …"."""
    link = "to" if verb == "added" else "for"
    return f"Property {row['key']} {verb} {link} {row['domain_class_name']} {row['domain_ident']}"


_DESCRIPTION_VERBS: Final = {"added": "created", "edited": "updated", "deleted": "deleted"}


def _description_message(row: Mapping[str, Any], verb: str) -> str:
    """§8.4: "Description for {class} created|updated|deleted"."""
    return f"Description for {row['domain_class_name']} {_DESCRIPTION_VERBS[verb]}"


def _attached_file_message(row: Mapping[str, Any], verb: str) -> str:
    """§8.4: "AttachedFileCommand {id} deleted from {class}" (and "added to" for undo)."""
    link = "from" if verb == "deleted" else "to"
    return f"AttachedFileCommand {row['id']} {verb} {link} {row['domain_class_name']}"


def _project_of(row: Mapping[str, Any]) -> int | None:
    return row.get("project_id")


#: Snapshots carry `project_id` beside the columns, for project histories.
PROPERTY: Final = register(
    Spec("Property", Property, lambda row: str(row["id"]), message=_property_message,
         project_of=_project_of, authorize=_may_edit,
         after_replay=_objects_still_exist("Property"))
)  # fmt: skip
DESCRIPTION: Final = register(
    Spec("Description", Description, lambda row: str(row["id"]), message=_description_message,
         project_of=_project_of, authorize=_may_edit,
         after_replay=_objects_still_exist("Description"))
)  # fmt: skip
ATTACHED_FILE: Final = register(
    Spec("AttachedFile", AttachedFile, lambda row: str(row["id"]),
         message=_attached_file_message, project_of=_project_of, authorize=_may_edit,
         after_replay=_objects_still_exist("AttachedFile"))
)  # fmt: skip


# --- fields ----------------------------------------------------------------------------------


def _required_text(value: str | None, name: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"Property {name} must be set and not blank")
    return text


def property_key(value: str | None) -> str:
    """A property's key: required, not blank, at most MAX_KEY characters (trimmed)."""
    key = _required_text(value, "key")
    if len(key) > MAX_KEY:
        raise InvalidInput(f"Property key is longer than {MAX_KEY} characters")
    return key


def property_value(value: str | None) -> str:
    """A property's value: required and not blank, kept as given (a number as its text)."""
    _required_text(value, "value")
    assert value is not None
    return value


def description_data(value: str | None) -> str:
    """A description's text: required and not blank, kept as given."""
    _required_text(value, "data")
    assert value is not None
    return value


# --- objects deleted with their metadata -----------------------------------------------------


async def record_metadata(conn: Connection, log: CommandLog, class_name: str, ids: Any) -> None:
    """Record, as silent delete commands, the tag associations, properties, descriptions and
    attached files of objects about to be deleted (`ids`: a list or a SELECT of ids of
    `class_name` objects); the triggers then delete them with their objects, and undo brings
    them back after the objects. The commands belong to the objects' project, so a project's
    deletion erases them; an attached file's bytes stay on disk while an undo may restore its
    row (resolvers/metadata/files.py)."""
    await record_tags(conn, log, class_name, ids)
    for spec, table in ((PROPERTY, PROPERTY_TABLE), (DESCRIPTION, DESCRIPTION_TABLE),
                        (ATTACHED_FILE, ATTACHED_FILE_TABLE)):  # fmt: skip
        owned = and_(table.c.domain_class_name == class_name, among(table.c.domain_ident, ids))
        project = project_column(class_name, table.c.domain_ident).label("project_id")
        stmt = select(*table.c, project).where(owned).order_by(table.c.id)
        rows: list[Any] = list((await conn.execute(stmt)).all())
        await log.delete_many(spec, rows)


async def copy_properties(
    conn: Connection, log: CommandLog, source: tuple[str, int], target: tuple[str, int]
) -> None:
    """Copy the properties of one object onto another, recorded as a silent add so undo and
    redo take them with the write that made them (an abstract image's properties go to each
    new instance of it, images-annotations.md §2.6)."""
    of_source = and_(PROPERTY_TABLE.c.domain_class_name == source[0],
                     PROPERTY_TABLE.c.domain_ident == source[1])  # fmt: skip
    copies = select(
        literal(target[0], String), literal(target[1], BigInteger), PROPERTY_TABLE.c.key,
        PROPERTY_TABLE.c.value,
    ).where(of_source).order_by(PROPERTY_TABLE.c.id)  # fmt: skip
    added = await conn.execute(
        pg_insert(PROPERTY_TABLE)
        .from_select(["domain_class_name", "domain_ident", "key", "value"], copies)
        .returning(*PROPERTY_TABLE.c)
    )
    await log.add_many(PROPERTY, added.all())


def property_pairs(given: Any) -> list[tuple[str, str]]:
    """Key/value pairs sent with a new object (an annotation's `property`/`properties`,
    images-annotations.md §3.4): a map `{"key": "value"}` as core reads it, or a list of
    `{"key": …, "value": …}` as PIMS sends it; each key and value checked as a property's."""
    if given is None:
        return []
    if isinstance(given, Mapping):
        items = list(given.items())
    elif isinstance(given, list) and all(isinstance(item, Mapping) for item in given):
        items = [(item.get("key"), item.get("value")) for item in given]
    else:
        raise InvalidInput("Properties must be a map of keys to values, or a list of "
                           "{key, value} objects")  # fmt: skip
    return [(property_key(_text(key)), property_value(_text(value))) for key, value in items]


def _text(value: Any) -> str | None:
    """A key or value as text: a number or a boolean as JSON writes it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise InvalidInput("A property's key and value must be text")


async def add_properties(
    conn: Connection, log: CommandLog, target: tuple[str, int], project_id: int | None,
    pairs: Sequence[tuple[str, str]],
) -> None:  # fmt: skip
    """Put key/value pairs on an object as it is created, recorded as a silent add so undo
    and redo take them with it."""
    if not pairs:
        return
    rows = [{"domain_class_name": target[0], "domain_ident": target[1], "key": key,
             "value": value} for key, value in pairs]  # fmt: skip
    added = await conn.execute(pg_insert(PROPERTY_TABLE).values(rows).returning(*PROPERTY_TABLE.c))
    await log.add_many(PROPERTY, [{**row._mapping, "project_id": project_id}
                                  for row in added.all()])  # fmt: skip
