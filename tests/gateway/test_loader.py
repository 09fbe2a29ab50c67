"""`resolvers.loader.Loader`: `load_many` answers as strawberry's does (values in the keys'
order, repeats included, one batch, errors raised) while waiting once per group."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.loader import Loader


class Missing(Exception):
    pass


def _loader(calls: list[list[int]]) -> Loader[int, str]:
    async def batch(keys: list[int]) -> list[str | BaseException]:
        calls.append(list(keys))
        return [Missing(key) if key < 0 else f"v{key}" for key in keys]

    return Loader(load_fn=batch)


def test_load_many_keeps_the_order_and_repeats_with_one_batch_of_distinct_keys():
    calls: list[list[int]] = []

    async def run() -> list[str]:
        return await _loader(calls).load_many([3, 1, 3, 2, 1])

    assert asyncio.run(run()) == ["v3", "v1", "v3", "v2", "v1"]
    assert calls == [[3, 1, 2]]


def test_groups_of_one_tick_share_a_batch_and_the_cache_serves_later_groups():
    calls: list[list[int]] = []

    async def run() -> tuple[list[str], list[str], list[str]]:
        loader = _loader(calls)
        first, second = await asyncio.gather(loader.load_many([1, 2]), loader.load_many([2, 3]))
        again = await loader.load_many([3, 1])
        return first, second, again

    assert asyncio.run(run()) == (["v1", "v2"], ["v2", "v3"], ["v3", "v1"])
    assert calls == [[1, 2, 3]]


def test_an_error_value_is_raised_and_leaves_the_other_keys_loaded():
    calls: list[list[int]] = []

    async def run() -> str:
        loader = _loader(calls)
        with pytest.raises(Missing):
            await loader.load_many([1, -1, 2])
        return await loader.load(2)

    assert asyncio.run(run()) == "v2"
    assert calls == [[1, -1, 2]]


def test_an_empty_group_loads_nothing():
    calls: list[list[int]] = []
    assert asyncio.run(_loader(calls).load_many([])) == []
    assert calls == []


def test_single_loads_and_groups_of_one_tick_share_a_batch():
    calls: list[list[int]] = []

    async def run() -> tuple[str, list[str], str]:
        loader = _loader(calls)
        return await asyncio.gather(loader.load(4), loader.load_many([5, 4]), loader.load(6))

    assert asyncio.run(run()) == ["v4", ["v5", "v4"], "v6"]
    assert [sorted(keys) for keys in calls] == [[4, 5, 6]]


def test_a_group_cancelled_before_its_batch_runs_skips_the_query_and_is_loaded_again_later():
    calls: list[list[int]] = []

    async def run() -> list[str]:
        loader = _loader(calls)
        waiting = asyncio.ensure_future(loader.load_many([7, 8]))
        await asyncio.sleep(0)  # the group is in the batch, which has not run yet
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await loader.load_many([8, 7])

    assert asyncio.run(run()) == ["v8", "v7"]
    assert calls == [[8, 7]]
