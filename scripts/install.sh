#!/usr/bin/env bash
# Installs what cytogate needs and is missing: PostgreSQL + PostGIS and, for the GraphiQL
# browser test, Chromium and its driver from Debian's packages; a virtual environment with the
# project and its test extra; GraphiQL's browser files (package-lock.json) into node_modules/.
# Safe to run again, and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bindir() {
    local dir
    for dir in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
        if [ -n "$dir" ] && [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then
            echo "$dir"; return 0
        fi
    done
    return 1
}

postgis_present() {
    local bindir major
    bindir=$(pg_bindir) || return 1
    major=$("$bindir/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
    [ -f "/usr/share/postgresql/$major/extension/postgis.control" ]
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else
        echo "cytogate needs: $*" >&2
        echo "Run it as root (e.g. with sudo), then run make again." >&2
        exit 1
    fi
}

apt_updated=
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    as_root apt-get install -y -qq "$@" >/dev/null
}

if ! pg_bindir >/dev/null || ! postgis_present; then
    echo "==> installing PostgreSQL and PostGIS from Debian's packages"
    if ! pg_bindir >/dev/null; then
        apt_install postgresql
    fi
    major=$("$(pg_bindir)/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
    if ! postgis_present; then
        apt_install "postgresql-$major-postgis-3"
    fi
fi

# tests/gateway/test_graphiql.py drives these two paths.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "==> installing Chromium and chromedriver from Debian's packages"
    apt_install chromium chromium-driver
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.cytogate-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> installing cytogate and its test and bench extras into .venv"
    log=.venv/install.log
    if ! { .venv/bin/python -m pip install -q --upgrade pip &&
           .venv/bin/python -m pip install -q --progress-bar off -e '.[test,bench]'; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "pip failed: see $log" >&2
        exit 1
    fi
    touch "$stamp"
fi

# package.json sits at the repository root so that `npm ci` there is all it takes and the one
# node_modules/ is where gateway/graphiql.py looks. npm ci starts by emptying node_modules/, so
# a stamp inside it only survives a complete install.
npm_stamp=node_modules/.cytogate-installed
if [ ! -f "$npm_stamp" ] || [ package-lock.json -nt "$npm_stamp" ] || [ package.json -nt "$npm_stamp" ]; then
    echo "==> installing GraphiQL's browser files into node_modules"
    if ! command -v npm >/dev/null; then
        apt_install npm
    fi
    log=.venv/npm.log
    if ! npm ci --omit=dev --no-audit --no-fund >"$log" 2>&1; then
        cat "$log" >&2
        echo "npm ci failed: see $log" >&2
        exit 1
    fi
    touch "$npm_stamp"
fi
