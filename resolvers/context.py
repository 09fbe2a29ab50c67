"""`Context`: one per request, for GraphQL and REST alike (viewer, database, loaders)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.dataloader import DataLoader

from resolvers.errors import Forbidden, NotFound, Unauthenticated

if TYPE_CHECKING:
    from aiohttp import web

    from db.engine import Database
    from gateway.settings import Settings
    from resolvers.viewer import Viewer

__all__ = ["BatchFn", "Context"]

K = TypeVar("K")
V = TypeVar("V")

#: A batch function: given the database and keys, one value (or exception) per key, in order.
BatchFn = Callable[["Database", list[K]], Awaitable[Sequence[V | BaseException]]]


class Context:
    """What every resolver receives.

    Args:
        db: the database.
        settings: the process configuration.
        viewer: the authenticated caller, or None for an anonymous request.
        request: the HTTP request.
        token: the bearer or session token the caller authenticated with, for logout.
        trusted: True for the REST bridge's own documents, which may ask for unbounded pages
            (`max=0` means "everything" to Cytomine clients, decision 6).
        by_cookie: the caller authenticated with the session cookie alone, which a browser
            attaches even to a request another site made it send.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        viewer: Viewer | None,
        *,
        request: web.Request | None = None,
        trusted: bool = False,
        token: str | None = None,
        by_cookie: bool = False,
    ) -> None:
        self.db = db
        self.settings = settings
        self.viewer = viewer
        self.request = request
        self.trusted = trusted
        self.token = token
        self.by_cookie = by_cookie
        #: Cookies to set (a value) or clear (None) on the response, e.g. by login/logout.
        self.cookies: dict[str, str | None] = {}
        self._loaders: dict[Any, DataLoader[Any, Any]] = {}

    def loader(self, batch_fn: BatchFn[K, V]) -> DataLoader[K, V]:
        """The request's DataLoader for `batch_fn` (one per function per request)."""
        found = self._loaders.get(batch_fn)
        if found is None:
            found = DataLoader(load_fn=partial(batch_fn, self.db))
            self._loaders[batch_fn] = found
        return found

    async def found(self, batch_fn: BatchFn[K, V | None], key: K, domain: str) -> V:
        """What the request's loader for `batch_fn` gives for `key`; `NotFound(domain, key)`
        when it gives nothing."""
        row = await self.loader(batch_fn).load(key)
        if row is None:
            raise NotFound(domain, key)
        return row

    def forget(self, batch_fn: BatchFn[K, V], *keys: K) -> None:
        """Drop what the request's loader for `batch_fn` cached for `keys`, after a write.
        A key never loaded is fine (strawberry's `DataLoader.clear` raises KeyError for it)."""
        loader = self._loaders.get(batch_fn)
        if loader is None:
            return
        for key in keys:
            if loader.cache_map.get(key) is not None:
                loader.clear(key)

    @property
    def public_url(self) -> str:
        """The server's public base URL for absolute links in JSON (`thumb`, …): the
        configured one, else the request's own scheme and host."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        if self.request is None:
            return ""
        return f"{self.request.scheme}://{self.request.host}"

    def require_viewer(self) -> Viewer:
        """The caller, or `Unauthenticated` for an anonymous request."""
        if self.viewer is None:
            raise Unauthenticated()
        return self.viewer

    def require_guest(self) -> Viewer:
        """The caller, who must hold at least the guest role (403 for an account without
        any role)."""
        viewer = self.require_viewer()
        if not viewer.is_guest:
            raise Forbidden()
        return viewer

    def page_limit(self, requested: int | None, default: int = 100) -> int | None:
        """The row limit for a list: bounded for GraphQL callers, as asked for trusted ones."""
        if self.trusted:
            return requested or None
        cap = self.settings.graphql_max_page
        if requested is None:
            return min(default, cap)
        return min(requested, cap)
