#!/usr/bin/env bash
# scripts/pg.sh: a throwaway PostgreSQL cluster for demos and manual testing,
# the same kind internal/pgtest starts for the Go tests.
#
#   scripts/pg.sh start DIR [PORT]   initdb + start in DIR (must be absent or
#                                    empty), print the DATABASE_URL on stdout
#   scripts/pg.sh stop DIR           stop it (immediate) and remove DIR
#
# Trust authentication, listening only on 127.0.0.1, the unix socket inside
# DIR, fsync/full_page_writes/synchronous_commit off: never use for real data.
# PostgreSQL refuses to run as root, so as root its binaries run as the
# `postgres` user (runuser), which must be able to traverse DIR's parents.
# Binaries: initdb from PATH, else the newest /usr/lib/postgresql/*/bin;
# PG_BIN=/path/to/bin overrides.
set -euo pipefail

MARKER=".authtui-pg"

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 start DIR [PORT] | $0 stop DIR" >&2
	exit 2
}

find_bin() {
	if [ -n "${PG_BIN:-}" ]; then
		[ -x "$PG_BIN/initdb" ] || die "PostgreSQL binaries not found in PG_BIN=$PG_BIN"
		echo "$PG_BIN"
		return
	fi
	local initdb
	if initdb=$(command -v initdb 2>/dev/null); then
		dirname "$(readlink -f "$initdb")"
		return
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
		return
	fi
	die "PostgreSQL binaries not found: install postgresql-15 or put initdb on PATH"
}

# as_pg CMD...: run CMD as the postgres user when we are root.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_in_use() {
	# Something accepts connections on 127.0.0.1:$1.
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
	local dir=${1:-} want_port=${2:-}
	[ -n "$dir" ] || usage
	if [ -n "$want_port" ]; then
		case $want_port in
		*[!0-9]*) die "PORT must be a number, got '$want_port'" ;;
		esac
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	case $dir in
	*"'"* | *" "*) die "DIR must not contain quotes or spaces: $dir" ;;
	esac
	if [ -n "$(ls -A "$dir")" ]; then
		die "$dir is not empty"
	fi
	local bin
	bin=$(find_bin)
	touch "$dir/$MARKER"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user"
		chown postgres: "$dir"
		runuser -u postgres -- test -w "$dir" ||
			die "user postgres cannot reach $dir (a parent directory is not traversable)"
	fi

	as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
		--no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
		{
			cat "$dir/initdb.log" >&2
			die "initdb failed"
		}
	cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/pg.sh: throwaway cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
synchronous_commit = off
EOF

	local attempt port
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		if [ -n "$want_port" ]; then
			port=$want_port
		else
			port=$((20000 + RANDOM % 40000))
			if port_in_use "$port"; then continue; fi
		fi
		: >"$dir/postgres.log"
		[ "$(id -u)" = 0 ] && chown postgres: "$dir/postgres.log"
		if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
			-o "-p $port" start >/dev/null 2>&1; then
			echo "$port" >"$dir/port"
			echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			return 0
		fi
		if [ -z "$want_port" ] && grep -q "already in use" "$dir/postgres.log"; then
			continue # lost a race for the port: try another
		fi
		break
	done
	cat "$dir/postgres.log" >&2 || true
	die "postgres did not start (log above; DIR $dir left in place, remove it with: $0 stop $dir)"
}

cmd_stop() {
	local dir=${1:-}
	[ -n "$dir" ] || usage
	[ -d "$dir" ] || die "$dir does not exist"
	[ -e "$dir/$MARKER" ] || die "$dir was not created by $0 start; not removing it"
	if [ -e "$dir/data/postmaster.pid" ]; then
		local bin
		bin=$(find_bin)
		as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf -- "$dir"
}

case ${1:-} in
start) shift && cmd_start "$@" ;;
stop) shift && cmd_stop "$@" ;;
*) usage ;;
esac
