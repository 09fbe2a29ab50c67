"""`db.memo.Memo` and the written tables `Database.watch` reports: what a memo keeps, for how
long, and which committed writes make it forget (a rolled-back write does not)."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext

import pytest
from sqlalchemy import update

from db.engine import Database
from db.memo import Memo
from db.models import Project


def test_memo_keeps_a_value_until_it_expires(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("db.memo.time.monotonic", lambda: now[0])
    memo: Memo[str, int] = Memo({"project"}, ttl=5, size=10)
    memo.put("a", 1, memo.generation)
    now[0] = 104.9
    assert memo.get("a") == 1
    now[0] = 105.1
    assert memo.get("a") is None and len(memo) == 0


def test_memo_keeps_a_value_that_lapses_sooner_only_until_then(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("db.memo.time.monotonic", lambda: now[0])
    memo: Memo[str, int] = Memo({"project"}, ttl=5, size=10)
    memo.put("soon", 1, memo.generation, lapses=2)
    memo.put("later", 2, memo.generation, lapses=60)  # the memo's own bound still holds
    memo.put("gone", 3, memo.generation, lapses=-1)
    now[0] = 101.9
    assert (memo.get("soon"), memo.get("later"), memo.get("gone")) == (1, 2, None)
    now[0] = 102.1
    assert (memo.get("soon"), memo.get("later")) == (None, 2)
    now[0] = 105.1
    assert memo.get("later") is None


def test_memo_forgets_on_its_tables_only():
    memo: Memo[str, int] = Memo({"project", "acl_entry"}, ttl=5, size=10)
    memo.put("a", 1, memo.generation)
    memo.written(frozenset({"user_annotation", "annotation_term"}))
    assert memo.get("a") == 1
    memo.written(frozenset({"acl_entry"}))
    assert memo.get("a") is None


def test_memo_drops_a_value_computed_across_a_write():
    memo: Memo[str, int] = Memo({"project"}, ttl=5, size=10)
    started = memo.generation
    memo.written(frozenset({"project"}))  # committed while the value was being computed
    memo.put("a", 1, started)
    assert memo.get("a") is None


def test_memo_keeps_at_most_size_entries_oldest_out_first():
    memo: Memo[int, int] = Memo({"project"}, ttl=5, size=3)
    for key in range(5):
        memo.put(key, key, memo.generation)
    assert [memo.get(key) for key in range(5)] == [None, None, 2, 3, 4]


def test_memo_with_no_lifetime_keepsnullcontext():
    memo: Memo[str, int] = Memo({"project"}, ttl=0, size=3)
    memo.put("a", 1, memo.generation)
    assert memo.get("a") is None


@pytest.mark.parametrize("outcome", ["commit", "rollback", "autocommit"])
def test_database_reports_the_tables_of_committed_writes(database_url, outcome):
    reported: list[frozenset[str]] = []

    async def run() -> None:
        db = Database(database_url, pool_size=1)
        db.watch(reported.append)
        rename = update(Project).where(Project.id == -1).values(name="x")
        try:
            async with db.lease() as lease:
                if outcome == "autocommit":
                    async with lease.read() as conn:
                        await conn.execute(rename)
                    return
                with pytest.raises(RuntimeError) if outcome == "rollback" else nullcontext():
                    async with lease.transaction() as conn:
                        await conn.execute(rename)
                        assert reported == []  # not before the commit
                        if outcome == "rollback":
                            raise RuntimeError("rolled back")
        finally:
            await db.dispose()

    asyncio.run(run())
    assert reported == ([] if outcome == "rollback" else [frozenset({"project"})])
