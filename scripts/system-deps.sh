#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when it is missing:
# PostgreSQL 15 (started on loopback by scripts/with-postgres.sh), Chromium (Playwright)
# and Redis (the RQ task queue's test starts its own on loopback); for `make interop`,
# Dovecot's IMAP server (the tests run their own, unprivileged, never the system service)
# and Node.js with npm and its headers (Bluesky's development network, built with node-gyp).
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
[ -x /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
[ -f /usr/include/node/node_version.h ] || need+=(libnode-dev)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing from Debian: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts a cluster on install; the tests run their own on another port.
# Nor is Dovecot's system service wanted: the interop tests start their own.
if [[ " ${need[*]} " == *" dovecot-imapd "* ]] && command -v service >/dev/null; then
  $SUDO service dovecot stop >/dev/null 2>&1 || true
fi
