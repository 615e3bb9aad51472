#!/usr/bin/env bash
# Launch libcoap's example coap-server (Debian libcoap3-bin) with DTLS-PSK on loopback.
#
#   coap_server.sh --port 5684 --identity urn:imei:356000000000001 --key-hex 73656372657431
#                  [--key ASCII] [--wrong-key] [--tls openssl|gnutls] [--host 127.0.0.1]
#                  [--verbose 4] [-- extra coap-server options]
#
# --port P     DTLS port.  coap-server is given -p P-1: it then also serves plain CoAP on UDP P-1
#              (and CoAP over TCP on P-1, TLS on P), all bound to --host only.
# --identity   the only PSK identity accepted (matched through an -i identity file; any other
#              identity gets a random key, so its handshake fails).
# --key-hex    the PSK as hex (what lwm2m-carrier takes); libcoap 4.3.1 only takes a key as a
#              command-line string, so bytes 00, 0a, 0d and 2c (",") cannot be used.
# --key        the PSK as an ASCII string instead.
# --wrong-key  serve a different key for that identity (the key with its last byte XOR 0x01),
#              for the "wrong PSK" case: the client's handshake must fail.
# --tls        which Debian build: coap-server-openssl (default) or coap-server-gnutls.
#              Both offer TLS_PSK_WITH_AES_128_CCM_8 among others.
# The script execs coap-server (its pid is the script's pid); the identity file is passed on an
# inherited file descriptor, so nothing is left behind.
set -euo pipefail

port=5684
host=127.0.0.1
identity=""
key=""
key_hex=""
wrong=0
tls=openssl
verbose=4
extra=()

die() { echo "coap_server.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --host) host="$2"; shift 2 ;;
        --identity) identity="$2"; shift 2 ;;
        --key) key="$2"; shift 2 ;;
        --key-hex) key_hex="$2"; shift 2 ;;
        --wrong-key) wrong=1; shift ;;
        --tls) tls="$2"; shift 2 ;;
        --verbose) verbose="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

[ -n "$identity" ] || die "--identity is required"
if [ -n "$key_hex" ]; then
    [ -z "$key" ] || die "give --key or --key-hex, not both"
    [[ "$key_hex" =~ ^([0-9a-fA-F]{2})+$ ]] || die "--key-hex must be an even number of hex digits"
    lower=$(printf '%s' "$key_hex" | tr 'A-F' 'a-f')
    for ((i = 0; i < ${#lower}; i += 2)); do
        case "${lower:i:2}" in
            00|0a|0d|2c) die "key byte 0x${lower:i:2} cannot be passed to coap-server 4.3.1 (string key)" ;;
        esac
    done
    key_bytes_hex="$lower"
else
    [ -n "$key" ] || die "--key or --key-hex is required"
    key_bytes_hex=$(printf '%s' "$key" | od -An -tx1 | tr -d ' \n')
fi

if [ "$wrong" = 1 ]; then
    last=$((16#${key_bytes_hex: -2} ^ 1))
    key_bytes_hex="${key_bytes_hex:0:${#key_bytes_hex}-2}$(printf '%02x' "$last")"
    case "${key_bytes_hex: -2}" in 00|0a|0d|2c) die "wrong key would end in an unusable byte; pick another key" ;; esac
fi

hex_to_bytes() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }
psk=$(hex_to_bytes "$key_bytes_hex")
case "$identity" in *,*|*$'\n'*) die "identity must not contain ',' or newline" ;; esac

bin="coap-server-$tls"
command -v "$bin" >/dev/null || die "$bin not found (apt-get install libcoap3-bin)"
[ "$port" -gt 1 ] || die "--port must be > 1"
plain_port=$((port - 1))

# Unmatched identities get a random default key, so only --identity can complete a handshake.
default_key=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

printf '{"event":"starting","binary":"%s","host":"%s","dtls_port":%d,"coap_port":%d,"identity":"%s","key_hex":"%s","wrong_key":%s}\n' \
    "$bin" "$host" "$port" "$plain_port" "$identity" "$key_bytes_hex" \
    "$([ "$wrong" = 1 ] && echo true || echo false)"

# -i lines are "hint_to_match,identity_to_match,use_key"; an empty hint matches any hint.
exec "$bin" -A "$host" -p "$plain_port" -v "$verbose" -k "$default_key" -i /dev/fd/3 "${extra[@]}" \
    3< <(printf ',%s,%s\n' "$identity" "$psk")
