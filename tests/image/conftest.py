"""Image fixtures: abstract images made through REST the way PIMS makes them (an uploaded file,
an abstract image, its slices), then placed in projects."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.factories import abstract_image
from tests.harness import Api, raw_connection


@pytest.fixture
def make_abstract_image(api: Api) -> Any:
    """`make_abstract_image(slices=N)`: an abstract image with N slices, made by the admin
    (or by `owner`, an `Api`, in their own storage)."""

    def make(owner: Api | None = None, **kw: Any) -> dict[str, Any]:
        return abstract_image(owner or api, **kw)

    return make


def run_sql(database_url: str, statement: str, *args: Any) -> None:
    """One statement straight into the test's database (counters kept by annotation triggers,
    which have no annotations to count yet)."""

    async def run() -> None:
        conn = await raw_connection(database_url)
        try:
            await conn.execute(statement, *args)
        finally:
            await conn.close()

    asyncio.run(run())
