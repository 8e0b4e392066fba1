#!/usr/bin/env bash
# Runs the whole test suite: checks the Swift code's format (swift format, .swift-format; generated code excluded),
# builds once (debug), starts a private PostgreSQL, runs every Swift Testing suite (the engine's again on PostgreSQL),
# then installs the Python SDK
# (pip install ./python, into a private venv under .build), checks the Python code with ruff (ruff.toml) and runs its
# pytest suite against the daemon just built.
# Usage: scripts/test.sh [extra swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# The SQLite headers are needed to build, jq by the tests that run the original CLI documentation's pipelines and
# chromium by the web console's browser test (Playwright drives Debian's build; its own download is not reachable);
# install what is missing (CI machines start clean).
missing=()
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: missing ${missing[*]} (Debian package names)" >&2
        exit 1
    fi
fi

# Layout rules the toolchain's formatter enforces (`swift format format -i FILE...` fixes them); before the build, so
# a finding costs seconds, not a build.
git ls-files 'Sources/*.swift' 'Tests/*.swift' 'Plugins/*.swift' Package.swift | grep -v '^Sources/StatehouseProto/' \
    | xargs swift format lint --strict

swift build --build-tests

# A private PostgreSQL for the PostgreSQL backend's tests (scripts/postgres.sh: its own data directory, loopback, a free
# port; Debian's server package installed when missing), stopped by its PID when this script ends.
postgres_dir="$(mktemp -d)"
trap 'scripts/postgres.sh stop "$postgres_dir"; rm -rf "$postgres_dir"' EXIT
STATEHOUSE_TEST_POSTGRES_URL="$(scripts/postgres.sh start "$postgres_dir")"
export STATEHOUSE_TEST_POSTGRES_URL

swift test --skip-build "$@"
# The engine's and the services' behaviour suites once more, on PostgreSQL: every test there that does not name its
# store (withTestEngine's default, StoreKind.standard, which the in-process gRPC server of the service and client
# tests uses too) runs against a fresh database of the private server. Tests that need SQLite's files (crashes,
# pragmas, backups, file sizes) name their store and run on SQLite again. One test at a time: postgres-nio's decoding
# is unspecialized generic code in a debug build, and 27 suites at once on two cores pushed the slowest (100,000 keys
# listed three ways) past its time limit; in sequence the run takes about 3 minutes.
STATEHOUSE_TEST_STORE=postgres swift test --skip-build --no-parallel \
    --filter "StatehouseSQLiteTests|StatehouseGRPCTests|StatehouseClientTests" "$@"

venv=.build/python-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check "./python[test]"
# The Python code's lint and format rules (ruff.toml; the test extra installs ruff), before its tests.
"$venv/bin/ruff" check python
"$venv/bin/ruff" format --check python
STATEHOUSE_REQUIRE_BROWSER=1 STATEHOUSED="$PWD/.build/debug/statehoused" "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
# The Python suite once more with every daemon on PostgreSQL (a database of its own per daemon, python/tests/daemon.py),
# except the tests marked sqlite_only (they need the SQLite store's files; each says why) and the file that is about
# several daemons on PostgreSQL already. About 7 minutes.
STATEHOUSE_TEST_BACKEND=postgres STATEHOUSE_REQUIRE_BROWSER=1 STATEHOUSED="$PWD/.build/debug/statehoused" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests --ignore=python/tests/test_postgres_daemons.py
