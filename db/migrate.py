"""Alembic, driven from code: `upgrade` to head and `check` that a database is current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["alembic_config", "current_revision", "earlier_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for `url`, independent of the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every migration up to `revision` (runs its own event loop: call from sync code)."""
    command.upgrade(alembic_config(url), revision)


def earlier_revision(filename: str) -> ModuleType:
    """The module of a revision in `versions/`, loaded from its file (revision files are not
    importable by name): a migration that restores or amends what an earlier one made reads
    it there instead of copying it."""
    spec = importlib.util.spec_from_file_location(
        f"revision_{Path(filename).stem}", MIGRATIONS / "versions" / filename
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def head_revision() -> str | None:
    script = ScriptDirectory(str(MIGRATIONS))
    return script.get_current_head()


async def current_revision(conn: AsyncConnection) -> str | None:
    """The revision the database is at (None for an empty database)."""

    def read(sync_conn: object) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()  # type: ignore[arg-type]

    return await conn.run_sync(read)
