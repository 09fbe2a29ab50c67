"""GraphiQL, the page a browser gets from GET /graphql, with every file it loads served by this
server from the npm packages that package-lock.json pins and scripts/install.sh installs.

DESIGN: strawberry's own page loads React and GraphiQL from a public CDN, so on a lab network
without internet it never gets past "Loading…". This page is ours and loads only the files of
`ASSETS` from /graphql/assets/: a fixed table from a name to a file under node_modules/ (never a
path taken from the URL). Their URLs carry the package's version, so a browser keeps them for a
year and fetches them anew after an upgrade; they are relative, so the page also works behind a
proxy that strips a path prefix. Queries are posted to /graphql with the session cookie and the
headers of GraphiQL's header editor (where a user pastes `{"Authorization": "Bearer …"}`).
Without the files (npm never ran) the page would stay blank: /graphql then answers 503 saying
how to install them.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Final

from aiohttp import web

from resolvers.errors import Unavailable

__all__ = ["ASSETS", "ASSET_PATHS", "ASSET_ROUTE", "asset", "page"]

#: Where `npm ci` puts the packages of package.json, which sits at the repository's root so that
#: a bare `npm ci` there installs them and one git-ignored node_modules/ holds them.
NODE_MODULES: Path = Path(__file__).resolve().parent.parent / "node_modules"

ASSETS_PATH: Final = "/graphql/assets"
ASSET_ROUTE: Final = ASSETS_PATH + "/{name}"
#: A year: an asset's URL changes with its package's version.
CACHE_CONTROL: Final = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    """A file of an npm package and the type it is served as."""

    package: str
    file: str
    content_type: str

    @property
    def path(self) -> Path:
        return NODE_MODULES / self.package / self.file


#: All the page loads. graphiql.min.js is a UMD build that bundles graphql-js and expects React
#: and ReactDOM as globals, which their UMD builds define.
ASSETS: Final = {
    "react.js": Asset("react", "umd/react.production.min.js", "text/javascript"),
    "react-dom.js": Asset("react-dom", "umd/react-dom.production.min.js", "text/javascript"),
    "graphiql.js": Asset("graphiql", "graphiql.min.js", "text/javascript"),
    "graphiql.css": Asset("graphiql", "graphiql.min.css", "text/css"),
}

#: The assets' exact paths, which anonymous requests may reach (the page loads them before any
#: credential is chosen).
ASSET_PATHS: Final = frozenset(f"{ASSETS_PATH}/{name}" for name in ASSETS)

MISSING: Final = (
    "GraphiQL's files are not installed (node_modules/ is missing or incomplete): "
    "run `make install` (or `npm ci --omit=dev` at the repository's root)"
)

PAGE: Final = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cytogate · GraphiQL</title>
<link rel="icon" href="data:,">
$stylesheets
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading…</div>
$scripts
<script>
"use strict";
const DEFAULT_QUERY = `# cytogate's GraphQL API: run a query with Ctrl-Enter or the ▶ button.
#
# A browser signed in to cytogate sends its session cookie with each query. Otherwise sign in
# here with
#   mutation { login(username: "…", password: "…", session: true) { token } }
# or put a token in the Headers tab below: {"Authorization": "Bearer <token>"}

{
  viewer {
    user { username }
  }
}
`;

// Posts to the URL of this page, which is /graphql (behind a proxy, with its prefix).
async function fetcher(params, options) {
  const response = await fetch(window.location.pathname, {
    method: "POST",
    credentials: "same-origin",
    headers: Object.assign(
      { "Content-Type": "application/json", Accept: "application/json" },
      options && options.headers,
    ),
    body: JSON.stringify(params),
  });
  return response.json();
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);
</script>
</body>
</html>
""")


def _url(name: str, item: Asset) -> str:
    """The asset's URL relative to the page's; `Unavailable` when npm has not installed it."""
    manifest = NODE_MODULES / item.package / "package.json"
    if not (item.path.is_file() and manifest.is_file()):
        raise Unavailable(MISSING)
    version = json.loads(manifest.read_bytes())["version"]
    return html.escape(f"{ASSETS_PATH.lstrip('/')}/{name}?v={version}")


def page() -> web.Response:
    """The GraphiQL page, which loads the files of `ASSETS` in their order."""
    stylesheets, scripts = [], []
    for name, item in ASSETS.items():
        if item.content_type == "text/css":
            stylesheets.append(f'<link rel="stylesheet" href="{_url(name, item)}">')
        else:
            scripts.append(f'<script src="{_url(name, item)}"></script>')
    text = PAGE.substitute(stylesheets="\n".join(stylesheets), scripts="\n".join(scripts))
    return web.Response(text=text, content_type="text/html")


async def asset(request: web.Request) -> web.FileResponse:
    """One file of `ASSETS`, by name; any other name is 404."""
    item = ASSETS.get(request.match_info["name"])
    if item is None or not item.path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(
        item.path,
        headers={
            "Content-Type": f"{item.content_type}; charset=utf-8",
            "Cache-Control": CACHE_CONTROL,
        },
    )
