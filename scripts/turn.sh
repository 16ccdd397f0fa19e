#!/usr/bin/env bash
# make turn: run coturn, the TURN server meshmeet is made for, set up for this relay, in the
# foreground (Ctrl-C stops it). It writes the relay's side too, so the two always share a secret:
#
#   make turn                              # terminal 1: coturn on 127.0.0.1:3479, UDP and TCP
#   make run CONFIG=config/turn.toml       # terminal 2: the relay, minting credentials for it
#
# Environment:
#   TURN_HOST    address coturn listens and relays on (default 127.0.0.1; a LAN address to let
#                other machines in)
#   TURN_PORT    its port (default 3479: 3478 on the same host is the relay's own STUN server)
#   TURN_SECRET  the shared secret; default: the one in config/turn-secret, made on first use
#   TURN_CONFIG_DIR  where turn-secret and turn.toml go (default: config/ of this checkout)
#
# This is for trying TURN out and for development. A deployment runs coturn as a service with
# TLS on 443: the README's "Deploying on the internet" and config/default.toml show that setup.
set -euo pipefail

cd "$(dirname "$0")/.."
HOST="${TURN_HOST:-127.0.0.1}"
PORT="${TURN_PORT:-3479}"
DIR="${TURN_CONFIG_DIR:-config}"

if ! command -v turnserver >/dev/null 2>&1 && [ ! -x /usr/bin/turnserver ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "turn: coturn is not installed; as root: apt-get install coturn" >&2
    exit 1
  fi
  echo "turn: installing coturn (apt)..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends coturn >/dev/null
fi

mkdir -p "$DIR"
if [ -n "${TURN_SECRET:-}" ]; then
  SECRET="$TURN_SECRET"
elif [ -s "$DIR/turn-secret" ]; then
  SECRET="$(cat "$DIR/turn-secret")"
else
  # base64url: no quote or backslash that would need escaping in TOML or turnserver.conf.
  SECRET="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  (umask 077 && printf '%s\n' "$SECRET" >"$DIR/turn-secret")
fi
# The relay refuses a secret shorter than 16 characters; say so here, before coturn starts.
if [ "${#SECRET}" -lt 16 ]; then
  echo "turn: TURN_SECRET must be at least 16 characters" >&2
  exit 1
fi
case "$SECRET" in *[\"\\]*) echo "turn: TURN_SECRET must not contain \" or \\" >&2; exit 1 ;; esac

URL_HOST="$HOST"
case "$HOST" in *:*) URL_HOST="[$HOST]" ;; esac
cat >"$DIR/turn.toml" <<EOF
# Written by \`make turn\`: the relay's side of the coturn it runs (TURN_HOST=$HOST TURN_PORT=$PORT).
# Use it with: make run CONFIG=$DIR/turn.toml
[turn]
urls = ["turn:$URL_HOST:$PORT?transport=udp", "turn:$URL_HOST:$PORT?transport=tcp"]
secret = "$SECRET"
EOF

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/meshmeet-turn.XXXXXX")"
trap 'rm -rf "$RUN_DIR"' EXIT
LOOPBACK=""
case "$HOST" in 127.*|::1) LOOPBACK="allow-loopback-peers" ;; esac
cat >"$RUN_DIR/turnserver.conf" <<EOF
listening-ip=$HOST
relay-ip=$HOST
listening-port=$PORT
min-port=49160
max-port=49359
use-auth-secret
static-auth-secret=$SECRET
realm=meshmeet.local
fingerprint
no-tls
no-dtls
no-cli
no-multicast-peers
$LOOPBACK
simple-log
log-file=stdout
pidfile=$RUN_DIR/turnserver.pid
userdb=$RUN_DIR/turndb
EOF

echo "turn: coturn on $HOST:$PORT (UDP and TCP); relay side in $DIR/turn.toml:" >&2
echo "turn:   make run CONFIG=$DIR/turn.toml" >&2
# Not exec: the trap removes the run directory once coturn exits.
turnserver -c "$RUN_DIR/turnserver.conf" &
TURN_PID=$!
trap 'kill "$TURN_PID" 2>/dev/null; wait "$TURN_PID" 2>/dev/null; rm -rf "$RUN_DIR"' EXIT INT TERM
wait "$TURN_PID"
