#!/bin/sh
# ensure-chromium.sh: make sure the tools the browser end-to-end tests need are present:
#   /usr/bin/chromium (Debian's build; Playwright's own browser download is not reachable here);
#   ip (iproute2) and unshare (util-linux) for scripts/netns-run.sh;
#   ffmpeg, which makes the test sound files the fake microphone plays (test/e2e/audio.e2e.test.ts);
#   nft (nftables) and turnserver (coturn) for the NAT lab (test/harness/nat-lab.ts, coturn.ts):
#   the routers' NAT rules and the TURN server. Installing coturn does not start a TURN daemon
#   here (no systemd); the lab starts its own instance inside its namespaces.
# Idempotent: prints nothing and exits 0 when everything is already installed.
# As root it installs the missing Debian packages with apt; otherwise it prints the command and exits 1.
set -eu

PKGS=""
[ -x /usr/bin/chromium ] || PKGS="$PKGS chromium"
command -v ip >/dev/null 2>&1 || PKGS="$PKGS iproute2"
command -v unshare >/dev/null 2>&1 || PKGS="$PKGS util-linux"
command -v ffmpeg >/dev/null 2>&1 || PKGS="$PKGS ffmpeg"
# nft and turnserver live in /usr/sbin, which a non-root PATH may lack: look there too.
[ -x /usr/sbin/nft ] || command -v nft >/dev/null 2>&1 || PKGS="$PKGS nftables"
[ -x /usr/bin/turnserver ] || command -v turnserver >/dev/null 2>&1 || PKGS="$PKGS coturn"

[ -z "$PKGS" ] && exit 0

CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$PKGS"

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: missing Debian package(s):$PKGS" >&2
  echo "ensure-chromium: install them as root with:" >&2
  echo "  sudo sh -c '$CMD'" >&2
  exit 1
fi

echo "ensure-chromium: installing$PKGS (apt)..." >&2
apt-get update -qq
# $PKGS is a space-separated list of fixed package names, so word splitting is what we want.
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-chromium: apt finished but /usr/bin/chromium is still missing" >&2
  exit 1
fi
# Everything was either present before or just installed, so every tool must be there now.
for tool in ip unshare ffmpeg nft turnserver; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "ensure-chromium: apt finished but $tool is still missing" >&2
    exit 1
  fi
done
echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null)" >&2
