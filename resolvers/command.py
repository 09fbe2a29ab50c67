"""Commands, history, undo and redo (contract core.md §8).

Every create, edit and delete leaves a command, a history row and an undo-stack item in the
same transaction as the write. Each command-based domain registers a `Spec` (its table, how a
message names an object, its project, who may undo it, which rows go with it), and snapshots
are whole table rows, so one mechanism undoes and redoes every domain:

- undo of ADD deletes the row, of DELETE re-inserts it with its id, of EDIT re-applies the
  previous row; redo does the opposite;
- the commands of one mutation share a transaction id and are undone together, newest first,
  and redone oldest first; a cascade records its children before their parent, so the parent
  comes back before them;
- counters are kept by triggers and never restored from a snapshot; ACL-bearing objects carry
  their ACL rows in the snapshot;
- permissions are checked again before anything is replayed: a user who lost access cannot
  bring data back (nor delete it by undoing its creation);
- a replay that deletes answers 404 when the object is gone already, and 400 when objects
  made since would go with it through a cascade (others' later work is never taken along).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Final, Literal

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Row,
    Table,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql import Executable

from db.engine import Connection, Lease
from db.id_lists import among
from db.models import (
    AclEntry,
    Command,
    CommandHistory,
    Project,
    RedoStackItem,
    SecUser,
    UndoStackItem,
)
from db.models.base import ID_SEQUENCE, Base
from resolvers.acl import READ, entries_of, require
from resolvers.context import Context
from resolvers.crud import constraint_errors, lock_row, table_of, update_row
from resolvers.errors import Forbidden, InvalidInput, NotFound
from resolvers.listing import Page, RowStream, fetch_page, page_or_stream
from resolvers.viewer import Viewer

__all__ = [
    "JSON",
    "REFUSED_UNDO",
    "Action",
    "CommandInfo",
    "CommandLog",
    "Replayed",
    "Spec",
    "commands_by_id",
    "delete_logged",
    "list_deleted",
    "list_history",
    "redo",
    "register",
    "row_data",
    "scrub",
    "spec_of",
    "undo",
    "update_logged",
]

Action = Literal["ADD", "EDIT", "DELETE"]
VERBS: Final[Mapping[str, str]] = {"ADD": "added", "EDIT": "edited", "DELETE": "deleted"}
INVERSE: Final[Mapping[str, Action]] = {"ADD": "DELETE", "DELETE": "ADD", "EDIT": "EDIT"}
#: Rows per INSERT when replaying (asyncpg takes at most 32 767 parameters a statement).
INSERT_CHUNK: Final = 1000
#: Set on commands whose cascade cannot be rebuilt from snapshots (decision 4).
REFUSED_UNDO = "You cannot delete your last operation!"

JSON = dict[str, Any]
Authorize = Callable[[Context, Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """What a mutation tells its caller about the command it recorded."""

    id: int
    action: str
    domain: str
    message: str
    print_message: bool = True


@dataclass(frozen=True)
class Spec:
    """How the commands of one domain are recorded and replayed.

    Args:
        domain: Cytomine's simple class name ("Term"); also the envelope's key, lower-cased.
        model: the domain's mapped class (snapshots are whole rows of its table).
        label: the object's part of a message, e.g. "12 (Tumour)".
        message: the whole message when §8.4 words it differently than "<domain> <label> <verb>".
        project_of: the project a command belongs to, for project histories.
        authorize: raises unless the caller may (still) write the object; run before undo/redo.
        scope: what `authorize` reads of a row: the rows of one batch command with the same
            scope are checked once (a batch of annotations, by project and creator); None:
            every row is checked.
        acl: snapshots carry the object's ACL rows, restored with it.
        counters: columns kept by triggers, never written from a snapshot.
        derived: columns left out of snapshots and rebuilt from them when replaying (an
            annotation's geometry from its WKT).
        after_replay: what must follow a replay that leaves the rows in place (an add or an
            edit) beside the rows themselves: an image's annotations re-measured after its
            calibration came back, a restored annotation's count of reviewed copies.
    """

    domain: str
    model: type[Base]
    label: Callable[[Mapping[str, Any]], str]
    message: Callable[[Mapping[str, Any], str], str] | None = None
    project_of: Callable[[Mapping[str, Any]], int | None] = lambda row: None
    authorize: Authorize | None = None
    scope: Callable[[Mapping[str, Any]], Hashable] | None = None
    acl: bool = False
    counters: tuple[str, ...] = ()
    derived: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)
    after_replay: Callable[[Connection, list[JSON]], Awaitable[None]] | None = None
    restorable: tuple[str, ...] = field(init=False, default=())

    @property
    def table(self) -> Table:
        return table_of(self.model)

    def __post_init__(self) -> None:
        skip = {"id", *self.counters, *self.derived}
        object.__setattr__(
            self, "restorable", tuple(c.key for c in self.table.c if c.key not in skip)
        )

    def text(self, row: Mapping[str, Any], action: str) -> str:
        verb = VERBS[action]
        if self.message is not None:
            return self.message(row, verb)
        return f"{self.domain} {self.label(row)} {verb}"


#: Every command-based domain, filled by the area modules as they are imported.
SPECS: dict[str, Spec] = {}


def register(spec: Spec) -> Spec:
    """Make a domain's commands replayable; returns the spec for the module to keep."""
    if SPECS.get(spec.domain, spec) is not spec:
        raise ValueError(f"domain {spec.domain} is registered twice")
    SPECS[spec.domain] = spec
    return spec


def spec_of(domain: str) -> Spec:
    return SPECS[domain]


# --- snapshots -------------------------------------------------------------------------------


#: What a snapshot keeps as ISO text.
_DATES: Final = (datetime, date)


def row_data(row: Row[Any] | Mapping[str, Any]) -> JSON:
    """A JSON-ready copy of a row (dates as ISO text); inlined, as a bulk write snapshots
    every row it makes."""
    mapping = row._mapping if isinstance(row, Row) else row
    return {
        key: value.isoformat() if isinstance(value, _DATES) else value
        for key, value in mapping.items()
        if key[:1] != "_"
    }


def rows_data(spec: Spec, rows: Sequence[Row[Any] | Mapping[str, Any]]) -> list[JSON]:
    """`row_data` of many rows of the spec's table: which of its columns hold dates is known
    from their types, so a row costs a dict copy (a bulk write snapshots every row it makes;
    labels beside the table's columns are looked at one by one, as `row_data` does)."""
    known, dated = _column_names(spec.table)
    snapshots: list[JSON] = []
    for row in rows:
        data = dict(row._mapping if isinstance(row, Row) else row)
        for key in data.keys() - known:
            if key[:1] == "_":
                del data[key]
            elif isinstance(data[key], _DATES):
                data[key] = data[key].isoformat()
        for key in dated:
            value = data.get(key)
            if value is not None:
                data[key] = value.isoformat()
        snapshots.append(data)
    return snapshots


@cache
def _column_names(table: Table) -> tuple[frozenset[str], tuple[str, ...]]:
    """The names of a table's columns, and those of its date and time columns."""
    dated = tuple(c.name for c in table.c if isinstance(c.type, Date | DateTime))
    return frozenset(c.name for c in table.c), dated


def _decode(spec: Spec, data: Mapping[str, Any], *, with_id: bool) -> JSON:
    """A snapshot back into column values: restorable columns, and the id to re-insert."""
    out: JSON = {"id": data["id"]} if with_id else {}
    for key in spec.restorable:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str) and isinstance(spec.table.c[key].type, DateTime):
            value = datetime.fromisoformat(value)
        out[key] = value
    for key, rebuild in spec.derived.items():
        out[key] = rebuild(data)
    return out


async def _snapshot(conn: Connection, spec: Spec, row: Row[Any] | Mapping[str, Any]) -> JSON:
    data = row_data(row)
    if spec.acl:
        acl = await conn.execute(
            select(AclEntry.user_id, AclEntry.mask)
            .where(AclEntry.object_id == data["id"])
            .order_by(AclEntry.user_id)
        )
        data["_acl"] = [[user_id, mask] for user_id, mask in acl]
    return data


# --- recording -------------------------------------------------------------------------------


#: The columns a command is stored with (its dates are the defaults).
_COMMAND_COLUMNS: Final = [
    "id",
    "type",
    "user_id",
    "project_id",
    "domain",
    "service_name",
    "data",
    "action_message",
    "print_message",
    "transaction_id",
    "refuse_undo",
]
#: The snapshot's column type: its bound value is encoded by the engine's JSON serializer.
_DATA: Final = table_of(Command).c.data.type


class CommandLog:
    """The commands of one mutation, run in its transaction under one transaction id.

    Args:
        undoable: False keeps the commands off the caller's undo stack (they stay in the
            history): for a change that cannot be taken back, such as one that sent an e-mail.
    """

    def __init__(self, conn: Connection, viewer: Viewer, *, undoable: bool = True) -> None:
        self.conn = conn
        self.viewer = viewer
        self.undoable = undoable

    async def record(
        self,
        spec: Spec,
        action: Action,
        data: JSON,
        message: str,
        *,
        project_id: int | None,
        printed: bool = True,
        refuse_undo: bool = False,
    ) -> CommandInfo:
        """Store one command with its history row (printed ones) and undo item (when
        undoable), in one statement. The transaction id, which groups the commands of one
        database transaction for undo (a tool joining several writes is undone as one), is the
        transaction's first command's id."""
        statement = self._statement(spec, action, data, message, project_id=project_id,
                                    printed=printed, refuse_undo=refuse_undo)  # fmt: skip
        stored = (await self.conn.execute(statement)).one()
        self.conn.memo.setdefault("transaction_id", int(stored.transaction_id))
        return CommandInfo(int(stored.id), action, spec.domain, message, printed)

    def _statement(
        self,
        spec: Spec,
        action: Action,
        data: JSON,
        message: str,
        *,
        project_id: int | None,
        printed: bool,
        refuse_undo: bool = False,
        command_id: int | None = None,
    ) -> Executable:
        """The INSERT of `record`: the command (with `command_id` when reserved, else the
        sequence's next), its history row and its undo item."""
        known = self.conn.memo.get("transaction_id")
        next_id = (
            ID_SEQUENCE.next_value() if command_id is None else literal(command_id, BigInteger)
        )
        new = select(next_id.label("id")).cte("new")
        values = select(
            new.c.id, literal(action), literal(self.viewer.id, BigInteger),
            literal(project_id, BigInteger), literal(spec.domain),
            literal(f"{spec.domain}Service"), literal(data, _DATA),
            literal(f"{message} by {self.viewer.username}"), literal(printed),
            func.coalesce(literal(known, BigInteger), new.c.id), literal(refuse_undo),
        )  # fmt: skip
        command = (
            insert(Command)
            .from_select(_COMMAND_COLUMNS, values)
            .returning(Command.id, Command.transaction_id)
            .cte("command")
        )
        statement = select(command.c.id, command.c.transaction_id)
        user = literal(self.viewer.id, BigInteger)
        if printed:
            history = select(command.c.id, user, literal(project_id, BigInteger), literal(message))
            statement = statement.add_cte(
                insert(CommandHistory)
                .from_select(["command_id", "user_id", "project_id", "message"], history)
                .cte("history")
            )
        if self.undoable:
            item = select(command.c.id, user, command.c.transaction_id)
            statement = statement.add_cte(
                insert(UndoStackItem)
                .from_select(["command_id", "user_id", "transaction_id"], item)
                .cte("undo")
            )
        return statement

    async def add(
        self, spec: Spec, row: Row[Any] | Mapping[str, Any], *, printed: bool = True
    ) -> CommandInfo:
        data = await _snapshot(self.conn, spec, row)
        return await self.record(spec, "ADD", data, spec.text(data, "ADD"),
                                 project_id=spec.project_of(data), printed=printed)  # fmt: skip

    async def add_many(self, spec: Spec, rows: Sequence[Row[Any] | Mapping[str, Any]]) -> None:
        """Record rows added by a cascade as one silent command, so undo removes them with
        their parent and redo brings them back."""
        await self._record_rows(spec, "ADD", rows)

    async def edit(
        self,
        spec: Spec,
        before: Row[Any] | Mapping[str, Any],
        after: Row[Any] | Mapping[str, Any],
        *,
        printed: bool = True,
    ) -> CommandInfo:
        """Record an edit; `printed=False` for rows a mutation changed besides its object,
        which undo reverts with it but no history shows."""
        previous, new = row_data(before), row_data(after)
        data = {f"previous{spec.domain}": previous, f"new{spec.domain}": new}
        return await self.record(spec, "EDIT", data, spec.text(new, "EDIT"),
                                 project_id=spec.project_of(new), printed=printed)  # fmt: skip

    async def edit_each(
        self, spec: Spec, previous: Sequence[Row[Any]], updated: Sequence[Row[Any]]
    ) -> None:
        """Record rows a cascade changed as silent edits, each paired with its previous state
        by id."""
        new_by_id = {row.id: row for row in updated}
        for old in previous:
            await self.edit(spec, old, new_by_id[old.id], printed=False)

    async def delete(
        self, spec: Spec, row: Row[Any] | Mapping[str, Any], *, printed: bool = True,
        refuse_undo: bool = False, project_id: int | Literal["own"] | None = "own",
    ) -> CommandInfo:  # fmt: skip
        """Record a deletion; call before deleting when the snapshot carries ACL rows."""
        data = await _snapshot(self.conn, spec, row)
        project = spec.project_of(data) if project_id == "own" else project_id
        return await self.record(spec, "DELETE", data, spec.text(data, "DELETE"),
                                 project_id=project, printed=printed,
                                 refuse_undo=refuse_undo)  # fmt: skip

    async def delete_many(self, spec: Spec, rows: Sequence[Row[Any] | Mapping[str, Any]]) -> None:
        """Record rows deleted by a cascade as one silent command, so undo brings them back."""
        await self._record_rows(spec, "DELETE", rows)

    async def delete_rows(
        self, spec: Spec, rows: Sequence[Row[Any] | Mapping[str, Any]]
    ) -> CommandInfo | None:
        """Record many objects a mutation deleted as one command of the history (a delete by
        filter), which undo brings back as a whole."""
        return await self._record_rows(spec, "DELETE", rows, printed=True)

    async def _record_rows(
        self,
        spec: Spec,
        action: Action,
        rows: Sequence[Row[Any] | Mapping[str, Any]],
        *,
        printed: bool = False,
    ) -> CommandInfo | None:
        """One command holding the snapshots of `rows` (replay reads `rows`); None without
        rows."""
        if not rows:
            return None
        if spec.acl:
            snapshots = [await _snapshot(self.conn, spec, row) for row in rows]
        else:
            snapshots = rows_data(spec, rows)
        return await self._record_snapshots(spec, action, snapshots, printed=printed)

    async def send_snapshots(
        self, spec: Spec, snapshots: list[JSON], command_id: int, *, printed: bool = True
    ) -> tuple[CommandInfo, asyncio.Future[Any]]:
        """Record many objects a mutation created, snapshotted by the mutation itself as
        `rows_data` would (a bulk create, without reading them back), as one command, which
        undo removes as a whole; printed in the history unless they come with their parent
        (as `add_many`).

        The command is sent without waiting for PostgreSQL (`Connection.send`: await the
        future returned with it before the transaction ends), under `command_id`, reserved
        by the caller from the sequence: the transaction id it may become is then known
        before it runs, so that the commands sent after it join it. The snapshots are
        encoded here, while PostgreSQL still works on the statements before.
        """
        assert not spec.acl, "an ACL-bearing snapshot reads the object's ACL rows"
        assert snapshots, "a command records at least one object"
        self.conn.memo.setdefault("transaction_id", command_id)
        message = f"{len(snapshots)} {spec.domain} {VERBS['ADD']}"
        data = {"rows": orjson.Fragment(orjson.dumps(snapshots))}
        statement = self._statement(spec, "ADD", data, message, printed=printed,
                                    project_id=spec.project_of(snapshots[0]),
                                    command_id=command_id)  # fmt: skip
        sent = await self.conn.send(statement)
        return CommandInfo(command_id, "ADD", spec.domain, message, printed), sent

    async def _record_snapshots(
        self, spec: Spec, action: Action, snapshots: list[JSON], *, printed: bool
    ) -> CommandInfo | None:
        if not snapshots:
            return None
        message = f"{len(snapshots)} {spec.domain} {VERBS[action]}"
        return await self.record(spec, action, {"rows": snapshots}, message,
                                 project_id=spec.project_of(snapshots[0]),
                                 printed=printed)  # fmt: skip


async def update_logged(
    log: CommandLog,
    spec: Spec,
    row_id: int,
    values: Mapping[str, Any],
    *,
    conflict: str | None = None,
) -> tuple[Row[Any], Row[Any], CommandInfo]:
    """UPDATE one row of the spec's table and record the edit: the row before, after, and the
    command. `conflict` is the 409 message of a unique violation."""
    if conflict is None:
        before, after = await update_row(log.conn, spec.model, spec.domain, row_id, values)
    else:
        with constraint_errors(conflict):
            before, after = await update_row(log.conn, spec.model, spec.domain, row_id, values)
    return before, after, await log.edit(spec, before, after)


async def delete_logged(log: CommandLog, spec: Spec, row_id: int) -> tuple[Row[Any], CommandInfo]:
    """Lock one row of the spec's table, record its deletion (the snapshot reads its ACL
    first), then DELETE it; `NotFound` when missing."""
    row = await lock_row(log.conn, spec.model, spec.domain, row_id)
    command = await log.delete(spec, row)
    await log.conn.execute(delete(spec.table).where(spec.table.c.id == row_id))
    return row, command


# --- replay ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replayed:
    """One undone or redone command, as the answer lists it: what was done to which object."""

    command_id: int
    action: Action
    domain: str
    message: str
    data: JSON


def _rows_of(command: Row[Any], spec: Spec, state: Literal["previous", "new"]) -> list[JSON]:
    data: JSON = command.data
    if "rows" in data:
        return list(data["rows"])
    if command.type == "EDIT":
        return [data[f"{state}{spec.domain}"]]
    return [data]


async def _insert(conn: Connection, spec: Spec, rows: list[JSON]) -> None:
    with constraint_errors(
        f"Cannot restore {spec.domain}: an object with the same unique values exists",
        f"Cannot restore {spec.domain}: an object it refers to no longer exists or has changed",
    ):
        decoded = [_decode(spec, row, with_id=True) for row in rows]
        for start in range(0, len(decoded), INSERT_CHUNK):  # bound parameters per statement
            await conn.execute(insert(spec.table).values(decoded[start : start + INSERT_CHUNK]))
        grants = [(row["id"], user, mask) for row in rows for user, mask in row.get("_acl", ())]
        for object_id, user_id, mask in grants:
            values = select(literal(object_id), SecUser.id, literal(mask)).where(
                SecUser.id == user_id
            )
            stmt = pg_insert(AclEntry).from_select(["object_id", "user_id", "mask"], values)
            await conn.execute(stmt.on_conflict_do_nothing())


@cache
def _dependents(table: Table) -> tuple[tuple[Table, Column[Any]], ...]:
    """The foreign keys of command-based tables that delete their rows with a row of
    `table` (tables with a `created` column: what was made since is told by it)."""
    children = {spec.table for spec in SPECS.values()}
    found = [
        (child, key.parent)
        for child in children
        if "created" in child.c
        for key in child.foreign_keys
        if key.column.table is table and (key.ondelete or "").upper() == "CASCADE"
    ]
    return tuple(sorted(found, key=lambda pair: (pair[0].name, pair[1].name)))


async def _refuse_dependents(conn: Connection, spec: Spec, ids: list[int], since: datetime) -> None:
    """400 when objects made after the command (`since`) would go with the rows through a
    cascading foreign key: an undone add would take others' later work with it (terms on
    annotations, images in a project, annotations on an image), which no redo brings back
    and which a delete of the object refuses or records. What the command's own transaction
    made is replayed before, newest first, so it is gone by now."""
    checks = []
    for child, column in _dependents(spec.table):
        where = [among(column, ids), child.c.created > since]
        if child is spec.table:
            where.append(~among(child.c.id, ids))
        checks.append(exists().where(*where))
    if checks and await conn.scalar(select(or_(*checks))):
        raise InvalidInput(f"Cannot delete {spec.domain}: objects made since refer to it")


async def _delete(
    conn: Connection, spec: Spec, rows: list[JSON], *, strict: bool, since: datetime
) -> None:
    """Delete the rows again, unless objects made since the command (`since`) depend on
    them. `strict` (the object a printed command is about): `NotFound` when it is already
    gone, as a delete of it would answer, rather than a success that did nothing and a redo
    that would bring back what someone else deleted. Rows of cascades and batches may have
    gone with their parent or one by one: they pass."""
    ids = [row["id"] for row in rows]
    await _refuse_dependents(conn, spec, ids, since)
    refused = f"Cannot delete {spec.domain}: other objects still refer to it"
    with constraint_errors(refused, refused):  # a RESTRICT foreign key (a tag in use)
        done = await conn.execute(delete(spec.table).where(among(spec.table.c.id, ids)))
    if strict and done.rowcount == 0:
        raise NotFound(spec.domain, ids[0])


async def _revert(conn: Connection, spec: Spec, rows: list[JSON]) -> None:
    with constraint_errors(f"Cannot restore {spec.domain}: its unique values are taken"):
        for row in rows:
            values = _decode(spec, row, with_id=False)
            values.pop("created", None)
            found = await conn.execute(
                update(spec.table).where(spec.table.c.id == row["id"]).values(**values)
            )
            if found.rowcount == 0:
                raise NotFound(spec.domain, row["id"])


async def _apply(conn: Connection, command: Row[Any], *, forward: bool) -> Replayed:
    """Run a command again (redo) or its inverse (undo)."""
    spec = SPECS[command.domain]
    action: Action = command.type if forward else INVERSE[command.type]
    if action == "ADD":
        rows = _rows_of(command, spec, "new")
        await _insert(conn, spec, rows)
    elif action == "DELETE":
        rows = _rows_of(command, spec, "new")
        strict = command.print_message and "rows" not in command.data
        await _delete(conn, spec, rows, strict=strict, since=command.created)
    else:
        rows = _rows_of(command, spec, "new" if forward else "previous")
        await _revert(conn, spec, rows)
    if action != "DELETE" and spec.after_replay is not None:
        await spec.after_replay(conn, rows)
    message = spec.text(rows[0], action) if "rows" not in command.data else command.domain
    return Replayed(command.id, action, spec.domain, message, rows[0])


Stack = type[UndoStackItem] | type[RedoStackItem]
#: forward (redo) or not (undo) → (stack popped, stack pushed, history prefix).
_STACKS: Final[dict[bool, tuple[Stack, Stack, str]]] = {
    True: (RedoStackItem, UndoStackItem, "REDO"),
    False: (UndoStackItem, RedoStackItem, "UNDO"),
}


async def _replay(ctx: Context, command_id: int | None, *, forward: bool) -> list[Replayed]:
    """Pop the caller's latest transaction off one stack, replay it, push it on the other."""
    viewer = ctx.require_viewer()
    source, target, prefix = _STACKS[forward]
    async with ctx.db.transaction() as conn:
        latest = select(source.id, source.transaction_id, source.command_id).where(
            source.user_id == viewer.id
        )
        if command_id is not None:
            known = await conn.execute(select(exists().where(Command.id == command_id)))
            if not known.scalar_one():
                raise NotFound("Command", command_id)
            latest = latest.where(source.command_id == command_id)
        popped = await _pop(conn, source, viewer.id, latest, forward=forward)
        if popped is None:
            return []
        top, stacked, commands = popped
        if not forward and any(command.refuse_undo for command in commands):
            raise InvalidInput(REFUSED_UNDO)
        await _authorize(ctx, commands, forward=forward)
        done = [await _apply(conn, command, forward=forward) for command in commands]
        await conn.execute(delete(source).where(among(source.id, [item.id for item in stacked])))
        await conn.execute(
            insert(target),
            [{"command_id": c.id, "user_id": viewer.id, "transaction_id": top.transaction_id}
             for c in commands],
        )  # fmt: skip
        printed = [c for c in commands if c.print_message]
        if printed:
            await conn.execute(
                insert(CommandHistory),
                [{"command_id": c.id, "user_id": viewer.id, "project_id": c.project_id,
                  "message": d.message, "prefix_action": prefix}
                 for c, d in zip(commands, done, strict=True) if c.print_message],
            )  # fmt: skip
    printed_ids = {c.id for c in printed}
    return [replayed for replayed in done if replayed.command_id in printed_ids]


async def _pop(
    conn: Connection, source: Stack, user_id: int, latest: Any, *, forward: bool
) -> tuple[Any, Sequence[Any], Sequence[Any]] | None:
    """The latest transaction of a stack (`latest` selects its candidate items): its top
    item, its locked items and its commands in replay order; None when there is none.

    A transaction whose first command is gone lost its project (a project's deletion erases
    the project's commands, not those recorded without a project, such as an annotation's
    term links): its leftovers cannot be replayed alone, so their items are dropped and the
    next transaction is taken."""
    while True:
        top = (
            await conn.execute(latest.order_by(source.id.desc()).limit(1).with_for_update())
        ).first()
        if top is None:
            return None
        items = select(source.id, source.command_id).where(source.user_id == user_id)
        if top.transaction_id is None:
            items = items.where(source.id == top.id)
        else:
            items = items.where(source.transaction_id == top.transaction_id)
        stacked = (await conn.execute(items.with_for_update())).all()
        commands = (
            await conn.execute(
                select(Command)
                .where(among(Command.id, [item.command_id for item in stacked]))
                .order_by(Command.id if forward else Command.id.desc())
            )
        ).all()
        first = top.transaction_id
        if first is None or any(c.id == first for c in commands):
            return top, stacked, commands
        opening = await conn.execute(select(Command.id).where(Command.id == first))
        if opening.first() is not None:  # the transaction opened with a command kept off the
            return top, stacked, commands  # stacks (not undoable): the rest is undone alone
        await conn.execute(delete(source).where(among(source.id, [item.id for item in stacked])))


async def _authorize(ctx: Context, commands: Iterable[Row[Any]], *, forward: bool) -> None:
    """The caller's rights on every object of the printed commands (a batch may span
    projects: each row counts, once per `Spec.scope`); silent ones come with their parent.

    A snapshot's ACL rows stand in for the live ones only when the replay re-creates the
    object: one that deletes it (an undone add) is checked against the rights held now, or
    a creator removed from a project since could still delete it by undoing its creation."""
    state: Literal["previous", "new"] = "new" if forward else "previous"
    for command in commands:
        spec = SPECS[command.domain]
        if not command.print_message or spec.authorize is None:
            continue
        deletes = (command.type if forward else INVERSE[command.type]) == "DELETE"
        checked: set[Hashable] = set()
        for row in _rows_of(command, spec, state):
            scope = row["id"] if spec.scope is None else spec.scope(row)
            if scope not in checked:
                checked.add(scope)
                live = {k: v for k, v in row.items() if k != "_acl"} if deletes else row
                await spec.authorize(ctx, live)


async def undo(ctx: Context, command_id: int | None = None) -> list[Replayed]:
    """Undo the caller's latest transaction (or the latest one holding `command_id`)."""
    return await _replay(ctx, command_id, forward=False)


async def redo(ctx: Context, command_id: int | None = None) -> list[Replayed]:
    """Redo the caller's latest undone transaction (or the one holding `command_id`)."""
    return await _replay(ctx, command_id, forward=True)


# --- history ---------------------------------------------------------------------------------

#: Keys a command snapshot may hold that nobody is shown (a user's credentials).
SECRET_KEYS: Final = frozenset(("password_hash", "private_key", "public_key"))


def scrub(data: Any) -> Any:
    """A snapshot without credentials, for display."""
    if isinstance(data, dict):
        return {k: scrub(v) for k, v in data.items() if k not in SECRET_KEYS}
    if isinstance(data, list):
        return [scrub(item) for item in data]
    return data


def _history() -> Any:
    return select(
        CommandHistory.id,
        CommandHistory.created,
        CommandHistory.message,
        CommandHistory.prefix_action,
        CommandHistory.user_id,
        CommandHistory.project_id,
        CommandHistory.command_id,
    ).order_by(CommandHistory.created.desc(), CommandHistory.id.desc())


async def list_history(
    ctx: Context,
    *,
    project_id: int | None = None,
    user_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Any] | RowStream:
    """History entries, newest first: of one project (READ on it), or of every project the
    caller is a member of (no admin bypass, core.md §8.2); bounds are exclusive. Every entry
    (REST's `max=0`) is a stream: a project's history grows with each of its writes."""
    viewer = ctx.require_viewer()
    stmt = _history()
    if project_id is not None:
        async with ctx.db.read() as conn:
            found = await conn.execute(select(Project.id).where(Project.id == project_id))
        if found.first() is None:
            raise NotFound("Project", project_id)
        await require(ctx, project_id, READ)
        stmt = stmt.where(CommandHistory.project_id == project_id)
    else:
        member = entries_of(viewer.id)
        stmt = stmt.where(CommandHistory.project_id.in_(member))
    if user_id is not None:
        stmt = stmt.where(CommandHistory.user_id == user_id)
    created = func.date_trunc("milliseconds", CommandHistory.created)  # as clients see it
    if after is not None:
        stmt = stmt.where(created > after)
    if before is not None:
        stmt = stmt.where(created < before)
    page_size = ctx.page_limit(limit)
    return await page_or_stream(ctx.db, stmt, limit=page_size, offset=offset)


async def commands_by_id(db: Lease, ids: list[int]) -> list[Row[Any] | None]:
    """Commands by id, one SELECT per batch."""
    async with db.read() as conn:
        rows = (await conn.execute(select(Command).where(among(Command.id, ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def list_deleted(
    ctx: Context, *, domain: str | None, after: datetime | None, limit: int | None, offset: int = 0
) -> Page[Any]:
    """Delete commands, newest first (administrators): of one service stem ("project" →
    ProjectService) and after a date when given."""
    viewer = ctx.require_viewer()
    if not viewer.is_admin:
        raise Forbidden("Only an administrator may list deleted objects")
    stmt = select(Command).where(Command.type == "DELETE")
    if domain:
        stmt = stmt.where(func.lower(Command.service_name) == f"{domain.lower()}service")
    if after is not None:
        stmt = stmt.where(Command.created > after)
    stmt = stmt.order_by(Command.created.desc(), Command.id.desc())
    async with ctx.db.read() as conn:
        return await fetch_page(conn, stmt, limit=ctx.page_limit(limit), offset=offset)
