#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only those that are missing.
# As root it installs them; otherwise it prints the apt-get line to run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
test -x /usr/bin/chromium || missing+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
# WeasyPrint needs Pango at run time.
grep -q 'libpangoft2-1.0.so' <<<"$(ldconfig -p)" || missing+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b)
test -x "$PG_BIN/initdb" || missing+=(postgresql-15)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "   system packages: nothing to install" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "   missing system packages; run: sudo apt-get install ${missing[*]}" >&2
    exit 0
fi
echo "   apt-get install ${missing[*]}" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
