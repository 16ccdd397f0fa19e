#!/usr/bin/env bash
# netns-run.sh: run a command inside a private, throw-away network namespace.
#
#   unshare -n scripts/netns-run.sh <cmd...>      (explicit; needs root)
#   scripts/netns-run.sh <cmd...>                  (re-execs itself under `unshare -n`, or
#                                                   `unshare -r -n` when not root)
#
# Why: Chromium never gathers ICE candidates on loopback and only gathers host candidates on an
# interface when a default route exists. A fresh namespace with a
# veth pair and a default route to an address nobody owns gives it a real-looking interface while
# guaranteeing no test packet (ICE, mDNS, DNS, telemetry) can leave the machine.
#
# Layout inside the namespace:  lo (up), v0 10.99.0.1/24 <-> v1 (no address), both up,
# default via 10.99.0.2 dev v0 (10.99.0.2 does not exist, so off-link traffic goes nowhere).
#
# The command runs in its own process group. When it exits (or this script gets INT/TERM/HUP),
# the group gets SIGTERM, then SIGKILL; finally any other process still living in this namespace
# (e.g. one that called setsid) is killed too, because everything in a fresh namespace was started
# by us. The command's exit status is propagated (128+N if we were stopped by signal N).
# TMPDIR points at a fresh directory for the run, deleted at the end (after the processes).
# If stdin is a terminal the command gets /dev/null instead: it runs as a background job, and a
# read from the terminal would stop it (SIGTTIN) and hang the run.
set -u

die() {
  echo "netns-run: $*" >&2
  exit 1
}

[ "$#" -gt 0 ] || die "usage: unshare -n $0 <cmd...>   (or: $0 <cmd...>)"
command -v ip >/dev/null 2>&1 || die "'ip' not found; run scripts/ensure-chromium.sh (installs iproute2)"

net_ns_of() { stat -L -c %i "/proc/$1/ns/net" 2>/dev/null || echo "?"; }

link_names() { ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | tr '\n' ' '; }

# "Fresh" = a namespace other than PID 1's that holds nothing but lo: what `unshare -n` gives.
# Both checks matter: a host (or container) with only lo must never get our veth + route.
is_fresh_namespace() {
  [ "$(net_ns_of $$)" != "$(net_ns_of 1)" ] && [ "$(link_names)" = "lo " ]
}

if ! is_fresh_namespace; then
  [ -z "${MESHMEET_NETNS_REEXEC:-}" ] || die "after unshare the namespace is not fresh (links: $(link_names)); refusing to touch it"
  command -v unshare >/dev/null 2>&1 || die "'unshare' not found (Debian package util-linux)"
  if [ "$(id -u)" -eq 0 ]; then UNSHARE=(unshare -n); else UNSHARE=(unshare -r -n); fi
  # Probe first: once we exec we can no longer tell unshare's failure from the command's.
  if ! probe_err=$("${UNSHARE[@]}" true 2>&1); then
    die "the kernel refused a new network namespace ('${UNSHARE[*]}': $probe_err). Run as root (or enable unprivileged user namespaces); inside a container it needs CAP_SYS_ADMIN."
  fi
  export MESHMEET_NETNS_REEXEC=1
  exec "${UNSHARE[@]}" "$0" "$@"
fi

ip link set lo up || die "cannot bring lo up"
ip link add v0 type veth peer name v1 2>/dev/null || die "the kernel refused to create a veth pair (needs CAP_NET_ADMIN and veth support)"
ip addr add 10.99.0.1/24 dev v0 || die "cannot address v0"
ip link set v0 up && ip link set v1 up || die "cannot bring v0/v1 up"
ip route add default via 10.99.0.2 dev v0 || die "cannot add the default route"

MY_NS=$(net_ns_of $$)

# A private TMPDIR, removed once every process is dead: a killed run (Playwright's exit handlers
# cut short) would otherwise leave Chromium profiles and bundled test sites in /tmp.
RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/netns-run.XXXXXX") || die "cannot create a temporary directory"
export TMPDIR="$RUN_TMP"

# PIDs of processes other than us and our ancestors that live in this namespace.
namespace_stragglers() {
  local keep=" $$ $BASHPID " p=$$ ppid line
  while [ "$p" -gt 1 ] 2>/dev/null; do
    ppid=
    while read -r line; do
      case "$line" in PPid:*) ppid=${line#PPid:}; ppid=${ppid//[[:space:]]/}; break ;; esac
    done <"/proc/$p/status" 2>/dev/null
    [ -n "$ppid" ] || break
    keep="$keep$ppid "
    p=$ppid
  done
  stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null | while read -r ino path; do
    [ "$ino" = "$MY_NS" ] || continue
    p=${path#/proc/}
    p=${p%%/*}
    case "$keep" in *" $p "*) ;; *) echo "$p" ;; esac
  done
}

child=
cleaned=
cleanup() {
  [ -z "$cleaned" ] || return 0
  cleaned=1
  if [ -n "$child" ]; then
    kill -TERM -- "-$child" 2>/dev/null
    for _ in $(seq 1 30); do
      kill -0 -- "-$child" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$child" 2>/dev/null
  fi
  local left
  left=$(namespace_stragglers)
  if [ -n "$left" ]; then
    # shellcheck disable=SC2086  # a list of PIDs
    kill -KILL $left 2>/dev/null
    sleep 0.1 # let the kernel finish tearing them down before their files go
  fi
  rm -rf "$RUN_TMP"
  return 0
}

got_signal=0
on_signal() {
  got_signal=$1
  [ -z "$child" ] || kill "-$2" -- "-$child" 2>/dev/null
}
trap 'on_signal 130 INT' INT
trap 'on_signal 143 TERM' TERM
trap 'on_signal 129 HUP' HUP
trap cleanup EXIT

# Job control makes the background job the leader of its own process group, so we can signal
# the whole tree it spawns without hitting our caller (make, a CI runner) that shares our group.
set -m
if [ -t 0 ]; then
  "$@" </dev/null &
else
  "$@" &
fi
child=$!
set +m

# `wait` returns early (128+N) when a trapped signal arrives; keep waiting until the child is gone.
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break
done
[ "$got_signal" -eq 0 ] || rc=$got_signal
cleanup
exit "$rc"
