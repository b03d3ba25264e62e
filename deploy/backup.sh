#!/usr/bin/env bash
# A beatdesk backup: the database (pg_dump, custom format) and the files outside it that
# the database is useless or unverifiable without. docs/deployment.md, "Backups".
#   deploy/backup.sh DEST_DIR          (reads DATABASE_URL, BEATDESK_HOME, BEATDESK_AUDIT_DIR
#                                       from the environment, e.g. /etc/beatdesk/beatdesk.env)
# Writes DEST_DIR/beatdesk-<UTC time>.dump and DEST_DIR/beatdesk-<UTC time>-files.tar.gz
# (keys/ and the audit directory: the checkpoint signing key and signed checkpoints).
# The secret keys set in the environment file itself (BEATDESK_SECRET_KEY,
# BEATDESK_CREDENTIALS_KEY) are NOT in these files: keep a copy of that file apart.
set -euo pipefail
DEST=${1:?usage: backup.sh DEST_DIR}
: "${DATABASE_URL:?DATABASE_URL is not set}"
HOME_DIR=${BEATDESK_HOME:?BEATDESK_HOME is not set}
AUDIT_DIR=${BEATDESK_AUDIT_DIR:-$HOME_DIR/audit}
PG_DUMP=${PG_DUMP:-pg_dump}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$DEST"
umask 077

# Seal and sign the audit chain's head first, so the checkpoint file in this backup covers
# every event in the dump taken just after it.
"${BEATDESK:-beatdesk}" audit checkpoint

"$PG_DUMP" --format=custom --no-owner --file="$DEST/beatdesk-$STAMP.dump" "$DATABASE_URL"

files=()
[ -d "$HOME_DIR/keys" ] && files+=(-C "$HOME_DIR" keys)
[ -d "$AUDIT_DIR" ] && files+=(-C "$(dirname "$AUDIT_DIR")" "$(basename "$AUDIT_DIR")")
tar -czf "$DEST/beatdesk-$STAMP-files.tar.gz" "${files[@]}"
echo "$DEST/beatdesk-$STAMP.dump"
echo "$DEST/beatdesk-$STAMP-files.tar.gz"
