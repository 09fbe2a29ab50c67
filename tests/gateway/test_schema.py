"""What must not drift: the committed SDL, the REST operations against the schema, and the
Alembic migrations against the models (DESIGN.md "GraphQL", "Data")."""

from __future__ import annotations

import ast
import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine

import rest_compat.table
from db.models import Base
from rest_compat.bridge import Bridge
from schema.root import build_schema
from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ENV = ROOT / "db" / "migrations" / "env.py"


def _env_include_object() -> Any:
    """`include_object` of db/migrations/env.py, which runs Alembic on import: compile just that
    function (it leaves out reflected tables the models do not know, e.g. spatial_ref_sys)."""
    tree = ast.parse(ENV.read_text())
    function = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "include_object"
    )
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module([function], []), str(ENV), "exec"), namespace)
    return namespace["include_object"]


def test_schema_graphql_committed_equals_built():
    committed = (ROOT / "schema.graphql").read_text()
    built = build_schema(Settings()).as_str() + "\n"
    assert committed == built, "schema.graphql is stale: run `cytogate export-schema`"


def test_shared_fields_and_payloads_are_described_through_introspection():
    """Ids, dates, pages, commands and related ids are described wherever they appear, as
    introspection shows them (schema/shared_docs.py); a type's own description wins."""
    schema = build_schema(Settings())
    answer = schema.execute_sync(
        "{ __schema { types { name kind description fields { name description } } } }"
    )
    assert answer.errors is None
    types = {t["name"]: t for t in answer.data["__schema"]["types"]}  # type: ignore[index]
    bare = [
        f"{t['name']}.{f['name']}"
        for t in types.values()
        if t["kind"] == "OBJECT" and not t["name"].startswith("__")
        for f in t["fields"]
        if not f["description"]
        and (f["name"] in ("id", "created", "updated", "totalCount", "nodes", "pageInfo")
             or f["name"].endswith("Id"))
    ]  # fmt: skip
    assert not bare, bare
    assert not [
        name for name in types if name.endswith("Payload") and not types[name]["description"]
    ]
    fields = {f["name"]: f["description"] for f in types["AbstractImage"]["fields"]}
    assert fields["uploadedFileId"] == "The id of its uploaded file."
    assert fields["userId"] == "Who created it.", "its own description kept"


INTROSPECTION = """{ __schema { types { name kind description
  fields { name description args { name description } }
  inputFields { name description } enumValues { name description } } } }"""


def test_every_type_field_argument_and_enum_value_is_described():
    """What introspection tools and GraphiQL's documentation show: nothing of the schema
    without a description (the built-in scalars and introspection types aside)."""
    answer = build_schema(Settings()).execute_sync(INTROSPECTION)
    assert answer.errors is None
    bare = []
    for type_ in answer.data["__schema"]["types"]:  # type: ignore[index]
        name = type_["name"]
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        bare += [name] if not type_["description"] else []
        for field in type_["fields"] or ():
            bare += [f"{name}.{field['name']}"] if not field["description"] else []
            bare += [f"{name}.{field['name']}({arg['name']})" for arg in field["args"]
                     if not arg["description"]]  # fmt: skip
        for part in (type_["inputFields"] or []) + (type_["enumValues"] or []):
            bare += [f"{name}.{part['name']}"] if not part["description"] else []
    assert not bare, f"{len(bare)} undescribed: {bare}"


def test_rest_routes_operations_exist_and_validate():
    bridge = Bridge(build_schema(Settings()), rest_compat.table.ROUTES, lambda request: None)  # type: ignore[arg-type,return-value]
    assert {route.operation for route in rest_compat.table.ROUTES} <= set(bridge.operations)


def test_rest_routes_no_duplicate_method_path_predicate():
    keys = Counter((r.method, r.path, r.when) for r in rest_compat.table.ROUTES)
    duplicates = [key[:2] for key, count in keys.items() if count > 1]
    assert not duplicates, f"routes declared twice: {duplicates}"


def test_migrations_head_matches_models(database_url):
    include_object = _env_include_object()

    def compare(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(
            sync_conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert "spatial_ref_sys" in sync_conn.dialect.get_table_names(sync_conn)
        return compare_metadata(context, Base.metadata)  # type: ignore[no-any-return]

    async def diff() -> list[Any]:
        engine = create_async_engine(database_url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    differences = asyncio.run(diff())
    assert differences == [], "models and migrations differ: write a migration\n" + "\n".join(
        map(str, differences)
    )
