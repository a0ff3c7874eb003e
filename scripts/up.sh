#!/usr/bin/env bash
# Full mode without Docker: migrate, seed, then Daphne + a Celery worker + Celery beat against
# the DATABASE_URL (PostgreSQL) and REDIS_URL in the environment. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL (postgres://…)}"
: "${REDIS_URL:?set REDIS_URL (redis://…)}"
export DEBUG="${DEBUG:-1}"
BIN=.venv/bin
# One metrics directory for every process of this machine, so /metrics on Daphne adds up the
# worker's counters too (prometheus_client multiprocess mode). Emptied on start: files of
# processes from an earlier run would otherwise be added to this run's values.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
DB_NAME="${DATABASE_URL##*/}"
createdb -h 127.0.0.1 -U postgres "$DB_NAME" 2>/dev/null || true
$BIN/python manage.py migrate --noinput
$BIN/python manage.py seed_demo
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
$BIN/celery -A supportdesk worker --loglevel=INFO --concurrency=2 & pids+=($!)
$BIN/celery -A supportdesk beat --loglevel=INFO --schedule var/celerybeat-schedule & pids+=($!)
$BIN/python -m supportdesk.serve -b "${HOST:-127.0.0.1}" -p "${PORT:-8000}" \
  supportdesk.asgi:application & pids+=($!)
echo "supportdesk (full mode) on http://${HOST:-127.0.0.1}:${PORT:-8000}/"
wait -n
