#!/usr/bin/env bash
# Installs what cytogate needs and is missing: PostgreSQL + PostGIS from Debian's packages,
# then a virtual environment with the project and its test extra. Safe to run again.
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

if ! pg_bindir >/dev/null || ! postgis_present; then
    echo "==> installing PostgreSQL and PostGIS from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    if ! pg_bindir >/dev/null; then
        as_root apt-get update -qq
        as_root apt-get install -y -qq postgresql >/dev/null
    fi
    major=$("$(pg_bindir)/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
    if ! postgis_present; then
        as_root apt-get update -qq
        as_root apt-get install -y -qq "postgresql-$major-postgis-3" >/dev/null
    fi
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
