#!/usr/bin/env bash
# Interop and fault tests of lwm2m-carrier-sim against third-party peers (interop/tests/).
#
#   interop/run_tests.sh                     build the simulator (release), install the peers if
#                                            missing, run every test; exit 1 on any failure
#   interop/run_tests.sh test_faults.FaultTests.test_server_restart_reregisters   a subset
#
# Environment: CARGO_TARGET_DIR (where the simulator is built), LWM2M_CARRIER_SIM (use this
# binary, skip the build), INTEROP_FAULT_SEED (seed of the fault proxy), INTEROP_JOBS (how many
# test groups run at once, default 3; the link-loss test alone takes about 4 minutes, so the
# groups run side by side to keep the suite around 4-5 minutes).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
say() { printf 'run_tests.sh: %s\n' "$*"; }

# ---- simulator --------------------------------------------------------------------------------
if [ -z "${LWM2M_CARRIER_SIM:-}" ]; then
    say "cargo build --release -p lwm2m-carrier-host --bin lwm2m-carrier-sim"
    (cd "$repo" && cargo build --release -p lwm2m-carrier-host --bin lwm2m-carrier-sim)
    target="${CARGO_TARGET_DIR:-$repo/target}"
    case "$target" in /*) ;; *) target="$repo/$target" ;; esac
    export LWM2M_CARRIER_SIM="$target/release/lwm2m-carrier-sim"
fi
[ -x "$LWM2M_CARRIER_SIM" ] || { say "no simulator at $LWM2M_CARRIER_SIM"; exit 1; }
say "simulator: $LWM2M_CARRIER_SIM"

# ---- peers ------------------------------------------------------------------------------------
peers_ok() {
    [ -x "$here/.venv/bin/python" ] && "$here/.venv/bin/python" -c 'import aiocoap, DTLSSocket' 2>/dev/null &&
        [ -d "$here/node/node_modules/lwm2m-node-lib" ] && command -v node >/dev/null &&
        command -v coap-server-openssl >/dev/null && command -v coap-server-gnutls >/dev/null
}
if ! peers_ok; then
    say "peers missing: running interop/install.sh"
    "$here/install.sh"
    peers_ok || { say "peers still missing after install.sh"; exit 1; }
fi
py="$here/.venv/bin/python"

# ---- tests ------------------------------------------------------------------------------------
# Groups that run in parallel (each its own interpreter; every test starts its own peers on
# free loopback ports). The longest first.
if [ $# -gt 0 ]; then
    groups=("$@")
else
    groups=(test_faults.LinkLossTest test_faults.FaultTests test_node_lib test_libcoap_dtls test_aiocoap_bootstrap)
fi
jobs_max="${INTEROP_JOBS:-3}"
logdir="$(mktemp -d "${TMPDIR:-/tmp}/lwm2m-interop-run.XXXXXX")"
trap 'rm -rf "$logdir"' EXIT

start=$(date +%s)
pids=()
for g in "${groups[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    say "start $g"
    (cd "$here/tests" && exec timeout -k 10 480 "$py" -u -m unittest -v "$g") >"$logdir/$g.log" 2>&1 &
    pids+=("$!")
done

failed=()
for i in "${!groups[@]}"; do
    g="${groups[$i]}"
    if wait "${pids[$i]}"; then rc=0; else rc=$?; fi
    echo
    echo "================================ $g (rc $rc) ================================"
    cat "$logdir/$g.log"
    [ "$rc" = 0 ] || failed+=("$g")
done

took=$(( $(date +%s) - start ))
echo
if [ ${#failed[@]} -gt 0 ]; then
    say "FAILED after ${took} s: ${failed[*]}"
    exit 1
fi
say "all passed in ${took} s: ${groups[*]}"
