#!/usr/bin/env bash
# Idempotent installer of the tier-3 interop peers (see interop/README.md):
#   apt: libcoap3-bin (coap-server-openssl/-gnutls, coap-client-*), build tools for DTLSSocket
#        (autoconf automake libtool pkg-config build-essential), python3-venv python3-dev,
#        nodejs+npm only when no node/npm is on PATH already
#   npm: interop/node (npm ci from the committed package-lock.json)
#   pip: interop/.venv from interop/aiocoap/requirements.txt (aiocoap, DTLSSocket)
# Re-running does nothing that is already done.  PYTHON=/path/to/python3 overrides the
# interpreter used for the venv (default /usr/bin/python3 when present, CPython 3.11 on Debian 12).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { printf 'install.sh: %s\n' "$*"; }

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo_cmd=(sudo); else say "not root and no sudo: apt step may fail"; fi
fi

# ---- apt -----------------------------------------------------------------------------------
apt_pkgs=(libcoap3-bin autoconf automake libtool pkg-config build-essential python3-venv python3-dev)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_pkgs+=(nodejs npm)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    say "apt packages present: ${apt_pkgs[*]}"
fi
say "libcoap3-bin $(dpkg-query -W -f='${Version}' libcoap3-bin) ($(coap-server-openssl -h 2>&1 | grep -m1 'TLS Library' || true))"

# ---- npm -----------------------------------------------------------------------------------
say "node $(node --version), npm $(npm --version 2>/dev/null)"
lock_sum=$(sha256sum "$here/node/package-lock.json" | cut -d' ' -f1)
stamp="$here/node/node_modules/.interop-install-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
    say "interop/node/node_modules up to date"
else
    say "npm ci in interop/node (lwm2m-node-lib $(grep -m1 '"lwm2m-node-lib"' "$here/node/package.json" | tr -d ' ,'))"
    (cd "$here/node" && npm ci --no-audit --no-fund)
    echo "$lock_sum" > "$stamp"
fi

# ---- python venv ---------------------------------------------------------------------------
py="${PYTHON:-}"
if [ -z "$py" ]; then
    if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py="$(command -v python3)"; fi
fi
venv="$here/.venv"
req="$here/aiocoap/requirements.txt"
if [ ! -x "$venv/bin/python" ]; then
    say "creating venv $venv with $py ($("$py" --version 2>&1))"
    "$py" -m venv "$venv"
fi
req_sum=$(sha256sum "$req" | cut -d' ' -f1)
pstamp="$venv/.interop-install-stamp"
if [ -f "$pstamp" ] && [ "$(cat "$pstamp")" = "$req_sum" ] && "$venv/bin/python" -c 'import aiocoap, DTLSSocket' 2>/dev/null; then
    say "venv up to date: $(tr '\n' ' ' < "$req")"
else
    say "pip install -r aiocoap/requirements.txt: $(tr '\n' ' ' < "$req")"
    "$venv/bin/pip" install --disable-pip-version-check -r "$req"
    "$venv/bin/python" -c 'import aiocoap, DTLSSocket'
    echo "$req_sum" > "$pstamp"
fi
say "python $("$venv/bin/python" --version 2>&1): $("$venv/bin/pip" freeze --disable-pip-version-check | tr '\n' ' ')"
say "done"
