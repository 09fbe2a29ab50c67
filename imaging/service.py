"""The built-in image server's process-wide machinery (DESIGN.md, "Pixel rendering and imports
never run on the event loop"): a bounded thread pool for renders (libvips and OpenSlide release
the GIL), a worker process pool for imports and conversions, a bounded in-memory cache of
rendered bytes, single flight for identical concurrent requests, and the open-slide cache.

Started and stopped with the application (gateway/app.py). Nothing here reads the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar

from imaging.errors import FileMissing
from imaging.histogram import compute, load, shaped
from imaging.readers import SlideCache
from imaging.render import AssociatedJob, RegionJob, Source, run
from imaging.store import ImageStore, is_file

__all__ = ["ByteCache", "PixelService", "ServiceLimits"]

P = ParamSpec("P")
T = TypeVar("T")
Job = RegionJob | AssociatedJob
#: Stored paths whose representation `PixelService.source` keeps.
SOURCES_KEPT: Final = 4096
#: Jobs whose ETag `etag_of` keeps.
ETAGS_KEPT: Final = 8192


@dataclass(frozen=True, slots=True)
class ServiceLimits:
    """Pool sizes and the cache's budget (settings.py reads them)."""

    render_threads: int = 4
    import_workers: int = 1
    cache_bytes: int = 256 * 1024 * 1024


class ByteCache:
    """Rendered answers by key, least recently used out first past `budget` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.budget // 4 or key in self._items:
            return
        self._items[key] = value
        self.used += len(value)
        while self.used > self.budget:
            _, old = self._items.popitem(last=False)
            self.used -= len(old)


def etag_of(job: Job) -> str:
    """A weak ETag from everything the answer depends on (file identity included), decided
    before any pixel is read. Kept per job, but for annotation crops (whose geometries may be
    large): a viewer asks the same tiles again and again, and hashing a job's fields costs a
    fraction of describing them."""
    if isinstance(job, RegionJob) and job.overlay is not None:
        return _etag(job)
    return _kept_etag(job)


def _etag(job: Job) -> str:
    return 'W/"' + hashlib.sha1(repr(job).encode()).hexdigest()[:32] + '"'


_kept_etag: Final = lru_cache(maxsize=ETAGS_KEPT)(_etag)


class PixelService:
    """See the module docstring."""

    def __init__(self, root: Path, limits: ServiceLimits) -> None:
        self.store = ImageStore(root)
        self.limits = limits
        self.slides = SlideCache()
        self.cache = ByteCache(limits.cache_bytes)
        self._flights: dict[str, asyncio.Future[bytes]] = {}
        self._sources: dict[str, tuple[str, str]] = {}
        self._render: ThreadPoolExecutor | None = None
        self._workers: ProcessPoolExecutor | None = None
        self._client: Any = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background (an import), kept until it ends; cancelled when the
        service closes (the next start marks such an import failed)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the background work running now (tests, orderly stops)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def relay_client(self) -> Any:
        """The HTTP client requests to an external image server go through (made on first
        use, closed with the service)."""
        if self._client is None:
            import aiohttp

            timeout = aiohttp.ClientTimeout(total=120, connect=10)
            self._client = aiohttp.ClientSession(timeout=timeout)
        return self._client

    async def aclose(self) -> None:
        """Close the relay's client (async), then the pools."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        self.close()

    def start(self) -> None:
        self.store.ensure()
        self._render = ThreadPoolExecutor(self.limits.render_threads, "render")
        context = multiprocessing.get_context("spawn")
        self._workers = ProcessPoolExecutor(self.limits.import_workers, mp_context=context)

    def close(self) -> None:
        if self._render is not None:
            self._render.shutdown(wait=True, cancel_futures=True)
        if self._workers is not None:
            self._workers.shutdown(wait=True, cancel_futures=True)
        self.slides.clear()

    # --- sources ------------------------------------------------------------------------------

    def source(self, relative: str, width: int | None, height: int | None) -> Source:
        """The file tiles of a stored path are read from, with its identity on disk (checked
        on every request: a replaced file gives new ETags); sizes from the database
        (`FileMissing` when the file is gone).

        Where the import's layout names the file (`processed/visualisation.<FMT>`), the
        answer is kept: resolving it inside the store costs more than a warm tile."""
        found = self._sources.get(relative)
        if found is None:
            stored, format_id = self.store.representation(relative)
            path = str(stored)
            if format_id is not None:
                found = self._sources[relative] = (path, format_id)
                while len(self._sources) > SOURCES_KEPT:
                    del self._sources[next(iter(self._sources))]
        else:
            path, format_id = found
        try:
            stat = os.stat(path)
        except OSError:
            self._sources.pop(relative, None)
            raise FileMissing("The image's file is missing on the server's disk") from None
        if format_id is None:
            from imaging.formats import detect_format

            format_id = detect_format(Path(path)) or "UNKNOWN"
        return Source(path, format_id, int(width or 0), int(height or 0),
                      stat.st_mtime_ns, stat.st_size)  # fmt: skip

    def original(self, relative: str) -> Path:
        """The file as uploaded (downloads)."""
        path = self.store.resolve(relative)
        if not is_file(path):
            raise FileMissing("The file is missing on the server's disk")
        return path

    # --- running work -------------------------------------------------------------------------

    async def in_pool(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn` in the render pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._render, lambda: fn(*args, **kwargs))

    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn` (a top-level function of picklable arguments) in a worker process."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers, fn, *args)

    async def render(self, job: Job, key: str) -> bytes:
        """The job's bytes: from the cache, from an identical render already running, or
        rendered now in the pool."""
        found = self.cache.get(key)
        if found is not None:
            return found
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        try:
            data = await self.in_pool(run, job, self.slides)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when alone
            raise
        finally:
            self._flights.pop(key, None)
        future.set_result(data)
        self.cache.put(key, data)
        return data

    # --- JSON answers -------------------------------------------------------------------------

    def _slide(self, source: Source) -> Any:
        return self.slides.get(Path(source.path), source.format_id)

    async def associated_names(self, source: Source) -> list[str]:
        slide = await self.in_pool(self._slide, source)
        return list(slide.associated_names())

    async def metadata(self, source: Source) -> list[dict[str, str]]:
        slide = await self.in_pool(self._slide, source)
        return [{"key": i.key, "value": i.value, "type": i.type, "namespace": i.namespace}
                for i in slide.items]  # fmt: skip

    async def histogram(
        self, relative: str, source: Source, what: str, n_bins: str | None,
        plane: tuple[int, int, int],
    ) -> Any:  # fmt: skip
        """A histogram answer; computed now (and kept) for an image imported without one."""
        stored = self.store.histogram(relative)
        data = None if stored is None else load(stored)
        if data is None:
            slide = await self.in_pool(self._slide, source)
            slide.check_renderable()
            data = await self.in_pool(compute, slide)
            if stored is not None and stored.parent.is_dir():
                import json

                stored.write_text(json.dumps(data))
        return shaped(data, what, n_bins, plane)
