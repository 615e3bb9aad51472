#!/usr/bin/env bash
# Self-test of the interop peers (run ./install.sh first).  Exits non-zero on any failure.
#   ./selftest.sh                 all: node bs-dtls bs-plain libcoap
#   ./selftest.sh node libcoap    a subset
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -x "$here/.venv/bin/python" ] || { echo "selftest.sh: run interop/install.sh first" >&2; exit 2; }
[ -d "$here/node/node_modules/lwm2m-node-lib" ] || { echo "selftest.sh: run interop/install.sh first" >&2; exit 2; }
exec "$here/.venv/bin/python" "$here/selftest.py" "$@"
