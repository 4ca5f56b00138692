#!/usr/bin/env bash
# Make sure the tools the tests and the demo need are on this machine:
# Go, Node.js (>= 20) with npm, PostgreSQL server binaries and psql, tmux,
# redis-server (session-store tests), chromium (browser tests).
# As root on Debian it installs what is missing with apt-get; otherwise it
# says what to install and fails.
set -euo pipefail

missing=()
command -v go >/dev/null || missing+=(golang)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v psql >/dev/null || missing+=(postgresql-client)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	missing+=(postgresql)
fi
command -v tmux >/dev/null || missing+=(tmux)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "ensure-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	exit 0
fi
echo "ensure-deps: missing ${missing[*]}; install them (Debian/Ubuntu: apt-get install ${missing[*]})" >&2
exit 1
