#!/usr/bin/env bash
# Set up and run every check: lint, format, types, layer contracts, and the tests on
# SQLite and on a real PostgreSQL server. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# PostgreSQL 15 is installed on the machine but may not be running.
if ! pg_isready --quiet; then
    pg_ctlcluster --skip-systemctl-redirect 15 main start
    for _ in $(seq 1 30); do pg_isready --quiet && break; sleep 0.5; done
fi
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- psql -tAc \
        "SELECT 1 FROM pg_roles WHERE rolname = 'root'" | grep -q 1; then
    runuser -u postgres -- psql --quiet -c "CREATE ROLE root SUPERUSER LOGIN"
fi
test_db="wuye_test_$$"
createdb "$test_db"
trap 'dropdb --if-exists "$test_db" || true' EXIT
export WUYE_TEST_POSTGRES_URL="postgresql+psycopg://$(id -un)@/${test_db}?host=/var/run/postgresql"
export WUYE_REQUIRE_POSTGRES=1

echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy" && .venv/bin/mypy
echo "== import-linter" && .venv/bin/lint-imports
# Two workers, a test file each at a time (its module's fixtures stay in one process).
echo "== pytest (SQLite and PostgreSQL)" && .venv/bin/pytest -n 2 --dist loadfile "$@"
