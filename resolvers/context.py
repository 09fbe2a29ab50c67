"""`Context`: one per request, for GraphQL and REST alike (viewer, database, loaders)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from resolvers.errors import Forbidden, NotFound, Unauthenticated
from resolvers.forwarded import public_url
from resolvers.loader import Loader

if TYPE_CHECKING:
    from aiohttp import web

    from db.engine import Lease
    from db.memo import Memo
    from imaging.service import PixelService
    from resolvers.activity.recorder import ActivityRecorder
    from resolvers.viewer import Viewer
    from settings import Settings

__all__ = ["BatchFn", "Context"]

K = TypeVar("K")
V = TypeVar("V")

#: A batch function: given the database and keys, one value (or exception) per key, in order.
BatchFn = Callable[["Lease", list[K]], Awaitable[Sequence[V | BaseException]]]


class Context:
    """What every resolver receives.

    Args:
        db: the request's lease on the database (db/engine.py): every read and write of the
            request, loaders included, goes through its one connection. After each
            transaction the context forgets everything its loaders cached, so a later field or
            mutation of the same document reads what was written.
        settings: the process configuration.
        viewer: the authenticated caller, or None for an anonymous request.
        request: the HTTP request.
        token: the bearer or session token the caller authenticated with, for logout.
        trusted: True for the REST bridge's own documents, which may ask for unbounded pages
            (`max=0` means "everything" to Cytomine clients, decision 6).
        by_cookie: the caller authenticated with the session cookie alone, which a browser
            attaches even to a request another site made it send.
        activity: the process's activity recorder (resolvers/activity/recorder.py), which
            writes activity records in batches; None where nothing records activity.
        pixels: the built-in image server's machinery (pools, caches, image store), for the
            pixel answers and imports; None where no server runs (command-line tasks).
        access_memo: the process's access decisions kept across requests
            (resolvers/project_access.kept_access); None to read them every time.
    """

    def __init__(
        self,
        db: Lease,
        settings: Settings,
        viewer: Viewer | None,
        *,
        request: web.Request | None = None,
        trusted: bool = False,
        token: str | None = None,
        by_cookie: bool = False,
        activity: ActivityRecorder | None = None,
        pixels: PixelService | None = None,
        access_memo: Memo[tuple[Any, ...], Any] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.viewer = viewer
        self.request = request
        self.trusted = trusted
        self.token = token
        self.by_cookie = by_cookie
        self.activity = activity
        self.pixels = pixels
        self.access_memo = access_memo
        #: Cookies to set (a value) or clear (None) on the response, e.g. by login/logout.
        self.cookies: dict[str, str | None] = {}
        #: What the schema layer derives from a document once per execution rather than once
        #: per parent (the columns a field under 500 annotations selects), by its own keys.
        self.memo: dict[tuple[Any, ...], Any] = {}
        self._loaders: dict[Any, Loader[Any, Any]] = {}
        self._public_url: str | None = None
        db.after_transaction = self.forget_all

    def loader(self, batch_fn: BatchFn[K, V]) -> Loader[K, V]:
        """The request's DataLoader for `batch_fn` (one per function per request)."""
        found = self._loaders.get(batch_fn)
        if found is None:
            found = Loader(load_fn=partial(batch_fn, self.db))
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

    def forget_all(self) -> None:
        """Drop everything the request's loaders cached (after a write: a cached row, or a
        group of rows, may no longer be what the database holds)."""
        for loader in self._loaders.values():
            loader.clear_all()

    @property
    def public_url(self) -> str:
        """The server's public base URL for absolute links in JSON (`thumb`, …)
        (resolvers/forwarded.public_url), decided once per request."""
        if self.request is None:
            return self.settings.public_url.rstrip("/") if self.settings.public_url else ""
        found = self._public_url
        if found is None:
            found = self._public_url = public_url(self.request, self.settings)
        return found

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

    def require_user(self, doing: str = "do this") -> Viewer:
        """The caller, who must hold ROLE_USER (or be an administrator): a guest reads but
        writes nothing (core.md §7.1)."""
        viewer = self.require_viewer()
        if not viewer.is_user:
            raise Forbidden(f"A guest may not {doing}")
        return viewer

    def require_admin(self) -> Viewer:
        """The caller, who must be an administrator now (ROLE_ADMIN in an admin session, or
        ROLE_SUPER_ADMIN)."""
        viewer = self.require_viewer()
        if not viewer.is_admin:
            raise Forbidden("You must be an administrator to do this")
        return viewer

    @property
    def shares_results(self) -> bool:
        """Whether one completed object may stand in several places of the result (an
        annotation's term, met under many links; schema/executor.py): not for the REST
        bridge's documents (the trusted ones), whose results its shapers rewrite in place."""
        return not self.trusted

    def page_limit(self, requested: int | None, default: int = 100) -> int | None:
        """The row limit for a list: bounded for GraphQL callers, as asked for trusted ones."""
        if self.trusted:
            return requested or None
        cap = self.settings.graphql_max_page
        if requested is None:
            return min(default, cap)
        return min(requested, cap)
