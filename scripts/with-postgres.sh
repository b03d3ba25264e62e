#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL 15 cluster on 127.0.0.1, then removes it.
#   scripts/with-postgres.sh pytest …      (sets DATABASE_URL for the command)
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=${BEATDESK_TEST_PG_PORT:-54329}
DIR=$(mktemp -d /tmp/beatdesk-pg.XXXXXX)
RUN=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: run the server as the postgres user.
  chown postgres: "$DIR"
  RUN=(runuser -u postgres --)
fi
cleanup() {
  "${RUN[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
"${RUN[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE beatdesk"
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/beatdesk"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
"$@"
