#!/usr/bin/env bash
# scripts/demo.sh: `make demo`. Brings up a throwaway local stack with the
# classic "session is null" bug and opens the authtui console on it.
#
#   scripts/demo.sh              stack up, console, teardown when the console exits
#   scripts/demo.sh --stack-only stack up, write DIR/stack.env, print its path on
#                                stdout, then wait until killed (TERM/INT/HUP)
#   scripts/demo.sh --keep       do not tear down on exit (prints how to do it by hand)
#   scripts/demo.sh --help
#
# The stack, everything on 127.0.0.1, everything in one temp dir (DIR):
#   - PostgreSQL from scripts/pg.sh (DIR/pg)
#   - the auth service: testdata/betterauth/server.mjs with fake secret A,
#     migrations, bearer plugin; env file DIR/auth-service/.env, log DIR/auth.log
#   - the API service: the same server.mjs on the same database, but with a
#     DIFFERENT fake secret C, so its GET /api/me rejects every session the
#     auth service issues; env file DIR/api/.env, log DIR/api.log
#   - a demo user (demo@example.com) signed up and signed in 3 times over HTTP
#
# DIR/stack.env (--stack-only) holds, one KEY=value a line, shell-sourceable:
#   DATABASE_URL AUTH_URL API_URL AUTH_ENV API_ENV AUTH_LOG DEMO_EMAIL
#   DEMO_PASSWORD_VAR (the name of the variable holding the password) and that
#   variable itself (AUTHTUI_DEMO_PASSWORD=<the fixed fake demo password>).
#
# DEMO_SOCIAL=1: one broken social sign-in instead of the console. The stack
# gets an OIDC provider on loopback (internal/oidctest/cmd/oidc-provider, built
# into DIR with go; it signs demo-social@example.com in without a person), both
# services get it as the genericOAuth provider "authtui-oidc", and the auth
# service's redirectURI points at the API instance, which runs with the other
# secret; then `authtui login --social authtui-oidc --provider-auto` runs in the
# terminal (no TTY needed) and names the cause: oauth-state-mismatch.
#
# DEMO_BROWSER=1: a cross-site front end instead of the console. The auth
# service trusts and answers CORS for a front end on http://localhost:PORT
# (another site than 127.0.0.1) but keeps BetterAuth's default SameSite=Lax;
# then `authtui browser --origin http://localhost:PORT` signs in from that
# origin in a real headless Chromium (make deps installs it) and names
# Chrome's reason: the session cookie is refused (SchemefulSameSiteLax).
#
# Environment: AUTHTUI_BIN overrides the console binary (default bin/authtui,
# built with `go build` when missing). Needs node >= 20 (npm ci runs in
# testdata/betterauth when node_modules is missing), PostgreSQL server
# binaries and curl. As root, PostgreSQL runs as the postgres user (pg.sh).
# Every secret and password here is a fake, fixed, demo-only value.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BA_DIR="$ROOT/testdata/betterauth"
PG_SH="$ROOT/scripts/pg.sh"

# Fixed fake demo values: never use them anywhere real.
SECRET_AUTH="authtui-demo-secret-A-0123456789abcdef0123"
SECRET_API="authtui-demo-secret-C-fedcba9876543210fedc"
DEMO_EMAIL="demo@example.com"
DEMO_PASSWORD="authtui-demo-password-1234"
DEMO_PASSWORD_VAR="AUTHTUI_DEMO_PASSWORD"
START_TIMEOUT=20

MODE=console
KEEP=0
SOCIAL=${DEMO_SOCIAL:-0}
BROWSER=${DEMO_BROWSER:-0}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--stack-only) MODE=stack ;;
	--keep) KEEP=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "demo.sh: unknown argument '$1' (try --help)" >&2
		exit 2
		;;
	esac
	shift
done

say() { echo "demo: $*" >&2; }

DIR=""
PG_STARTED=0
AUTH_PID=""
API_PID=""
SLEEP_PID=""
OIDC_PID=""

# now_ms: milliseconds since the epoch (1 s resolution without EPOCHREALTIME).
now_ms() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		local t=${EPOCHREALTIME//[!0-9]/}
		echo $((10#$t / 1000))
	else
		echo $(($(date +%s) * 1000))
	fi
}

die() {
	echo "demo.sh: $*" >&2
	exit 1
}

# die_log MESSAGE LOG: die, showing the end of LOG.
die_log() {
	local msg=$1 log=$2
	if [ -s "$log" ]; then
		echo "demo.sh: --- last lines of $log:" >&2
		tail -n 20 "$log" >&2 || true
		echo "demo.sh: ---" >&2
	fi
	die "$msg"
}

stop_pids() {
	local pid alive i
	for pid in "$@"; do
		if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
	done
	for ((i = 0; i < 50; i++)); do # server.mjs exits within 2 s of TERM
		alive=0
		for pid in "$@"; do
			if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for pid in "$@"; do
		if [ -n "$pid" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	if [ "$KEEP" = 1 ]; then
		if [ -n "$SLEEP_PID" ]; then kill "$SLEEP_PID" 2>/dev/null; fi
		if [ -n "$DIR" ]; then
			say "--keep: the stack is still up in $DIR. Tear it down with:"
			say "  kill ${AUTH_PID:-} ${API_PID:-} ${OIDC_PID:-}; bash scripts/pg.sh stop $DIR/pg; rm -rf $DIR"
		fi
		exit "$rc"
	fi
	stop_pids "$SLEEP_PID" "$AUTH_PID" "$API_PID" "$OIDC_PID"
	if [ "$PG_STARTED" = 1 ] && [ -d "$DIR/pg" ]; then
		bash "$PG_SH" stop "$DIR/pg" || say "could not stop PostgreSQL in $DIR/pg"
	fi
	if [ -n "$DIR" ] && [ -d "$DIR" ]; then
		rm -rf -- "$DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- prerequisites ---------------------------------------------------------------

command -v node >/dev/null || die "node (>= 20) is needed: run 'make deps' or install Node.js"
command -v curl >/dev/null || die "curl is needed"
AUTHTUI_BIN=${AUTHTUI_BIN:-$ROOT/bin/authtui}
if [ "$SOCIAL" = 1 ] && [ "$MODE" = console ]; then
	MODE=social
	command -v go >/dev/null || die "DEMO_SOCIAL=1 builds the demo's OIDC provider with go: install Go"
fi
if [ "$BROWSER" = 1 ] && [ "$MODE" = console ]; then
	MODE=browser
	command -v chromium >/dev/null || command -v google-chrome >/dev/null || command -v chromium-browser >/dev/null ||
		die "DEMO_BROWSER=1 needs Chrome or Chromium: run 'make deps' (Debian: apt-get install chromium)"
fi
if [ "$MODE" = console ] && { [ ! -t 0 ] || [ ! -t 1 ]; }; then
	die "the console needs a terminal (for automated runs: --stack-only)"
fi
if [ "$MODE" != stack ] && [ ! -x "$AUTHTUI_BIN" ]; then
	command -v go >/dev/null || die "$AUTHTUI_BIN is missing and go is not installed: run 'make build'"
	say "building $AUTHTUI_BIN"
	(cd "$ROOT" && go build -o "$AUTHTUI_BIN" ./cmd/authtui) || die "go build failed"
fi

T0=$(now_ms)
say "starting a local stack: PostgreSQL, an auth service and an API (BetterAuth)..."
DIR=$(mktemp -d "${TMPDIR:-/tmp}/authtui-demo.XXXXXX")
DIR=$(cd "$DIR" && pwd -P)
# As root, PostgreSQL runs as postgres, which must traverse DIR to reach DIR/pg.
chmod 711 "$DIR"

if [ ! -e "$BA_DIR/node_modules/.package-lock.json" ]; then
	say "installing testdata/betterauth's node modules (npm ci)"
	(cd "$BA_DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$DIR/npm.log" 2>&1 ||
		die_log "npm ci failed in $BA_DIR" "$DIR/npm.log"
fi

# ---- PostgreSQL ------------------------------------------------------------------

PG_STARTED=1 # pg.sh leaves DIR/pg behind on failure: stop removes it
DATABASE_URL=$(bash "$PG_SH" start "$DIR/pg" 2>"$DIR/pg-start.log") ||
	die_log "PostgreSQL did not start" "$DIR/pg-start.log"

# ---- the two BetterAuth services -------------------------------------------------

# Two distinct free loopback ports, held together while chosen.
read -r AUTH_PORT API_PORT FRONT_PORT < <(node -e '
	const net = require("node:net");
	const servers = [];
	for (let i = 0; i < 3; i++) {
		const s = net.createServer();
		s.listen(0, "127.0.0.1", () => {
			servers.push(s);
			if (servers.length === 3) {
				console.log(servers.map((x) => x.address().port).join(" "));
				for (const x of servers) x.close();
			}
		});
	}') || die "could not pick free ports"
if [ -z "${AUTH_PORT:-}" ] || [ -z "${API_PORT:-}" ]; then die "could not pick free ports"; fi
AUTH_URL="http://127.0.0.1:$AUTH_PORT"
FRONT_ORIGIN="http://localhost:$FRONT_PORT" # DEMO_BROWSER=1: another site than 127.0.0.1
API_URL="http://127.0.0.1:$API_PORT"

AUTH_ENV="$DIR/auth-service/.env"
API_ENV="$DIR/api/.env"
AUTH_LOG="$DIR/auth.log"
API_LOG="$DIR/api.log"
mkdir -p "$DIR/auth-service" "$DIR/api"
# What each service was deployed with: the files the console compares.
cat >"$AUTH_ENV" <<EOF
# auth service (demo; fake secret)
BETTER_AUTH_SECRET=$SECRET_AUTH
BETTER_AUTH_URL=$AUTH_URL
DATABASE_URL=$DATABASE_URL
EOF
auth_browser=()
if [ "$MODE" = browser ]; then
	# The front end is trusted and gets CORS; the cookie keeps SameSite=Lax.
	echo "BETTER_AUTH_TRUSTED_ORIGINS=$FRONT_ORIGIN" >>"$AUTH_ENV"
	auth_browser=(BETTER_AUTH_TRUSTED_ORIGINS="$FRONT_ORIGIN" FIXTURE_CORS_ORIGIN="$FRONT_ORIGIN")
fi
cat >"$API_ENV" <<EOF
# API service (demo; fake secret, deliberately not the auth service's)
BETTER_AUTH_SECRET=$SECRET_API
BETTER_AUTH_URL=$AUTH_URL
EOF
chmod 600 "$AUTH_ENV" "$API_ENV"

base_env=(PATH="$PATH" HOME="${HOME:-$DIR}")
if [ -n "${TMPDIR:-}" ]; then base_env+=(TMPDIR="$TMPDIR"); fi

# DEMO_SOCIAL=1: the OIDC provider, up before the services (BetterAuth runs
# discovery at startup); DIR/oidc.env holds its FIXTURE_OIDC_* variables.
auth_social=()
api_social=()
if [ "$MODE" = social ]; then
	say "building the demo's OIDC provider (internal/oidctest/cmd/oidc-provider)"
	(cd "$ROOT" && go build -o "$DIR/oidc-provider" ./internal/oidctest/cmd/oidc-provider) || die "go build of the OIDC provider failed"
	"$DIR/oidc-provider" -env-out "$DIR/oidc.env" -email demo-social@example.com >"$DIR/oidc.log" 2>&1 &
	OIDC_PID=$!
	deadline=$((SECONDS + START_TIMEOUT))
	until [ -s "$DIR/oidc.env" ]; do
		kill -0 "$OIDC_PID" 2>/dev/null || die_log "the OIDC provider exited while starting" "$DIR/oidc.log"
		[ "$SECONDS" -lt "$deadline" ] || die_log "the OIDC provider did not start" "$DIR/oidc.log"
		sleep 0.1
	done
	mapfile -t oidc_vars <"$DIR/oidc.env"
	# The broken part: the auth service's redirectURI is the API instance's
	# callback, and the API runs with the other secret.
	auth_social=("${oidc_vars[@]}" FIXTURE_OIDC_REDIRECT_URI="$API_URL/api/auth/callback/authtui-oidc")
	api_social=("${oidc_vars[@]}")
fi

# start_server LOG VAR=VALUE...: server.mjs with only PATH, HOME (TMPDIR) and
# these variables; sets STARTED_PID.
start_server() {
	local log=$1
	shift
	(cd "$BA_DIR" && exec env -i "${base_env[@]}" "$@" node server.mjs) >"$log" 2>&1 &
	STARTED_PID=$!
}

start_server "$AUTH_LOG" BETTER_AUTH_SECRET="$SECRET_AUTH" BETTER_AUTH_URL="$AUTH_URL" \
	DATABASE_URL="$DATABASE_URL" MIGRATE=1 FIXTURE_BEARER=1 PORT="$AUTH_PORT" ${auth_social[@]+"${auth_social[@]}"} \
	${auth_browser[@]+"${auth_browser[@]}"}
AUTH_PID=$STARTED_PID
start_server "$API_LOG" BETTER_AUTH_SECRET="$SECRET_API" BETTER_AUTH_URL="$AUTH_URL" \
	DATABASE_URL="$DATABASE_URL" PORT="$API_PORT" ${api_social[@]+"${api_social[@]}"}
API_PID=$STARTED_PID

# wait_listening NAME PID LOG URL: until the server printed its listening line.
wait_listening() {
	local name=$1 pid=$2 log=$3 url=$4
	local deadline=$((SECONDS + START_TIMEOUT))
	while ! grep -q '^authtui-betterauth listening on ' "$log" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || die_log "the $name service exited while starting" "$log"
		[ "$SECONDS" -lt "$deadline" ] ||
			die_log "the $name service did not start within ${START_TIMEOUT}s" "$log"
		sleep 0.1
	done
	grep -q "^authtui-betterauth listening on $url\$" "$log" ||
		die_log "the $name service is not listening on $url" "$log"
}
wait_listening auth "$AUTH_PID" "$AUTH_LOG" "$AUTH_URL"
wait_listening API "$API_PID" "$API_LOG" "$API_URL"

# ---- the demo user and its sessions ----------------------------------------------

# post_auth PATH JSON [USER-AGENT]: POST to the auth service like a browser
# on its own origin; dies unless 200.
post_auth() {
	local path=$1 body=$2 ua=${3:-authtui-demo}
	local code
	code=$(curl -sS --noproxy '*' --max-time 10 -o "$DIR/curl.out" -w '%{http_code}' \
		-X POST "$AUTH_URL/api/auth$path" \
		-H "Origin: $AUTH_URL" -H 'Content-Type: application/json' -H "User-Agent: $ua" \
		--data-binary "$body" 2>"$DIR/curl.err") || die_log "POST $path failed" "$DIR/curl.err"
	[ "$code" = 200 ] || die_log "POST $path: HTTP $code (auth log: $AUTH_LOG)" "$DIR/curl.out"
}
creds="{\"email\":\"$DEMO_EMAIL\",\"password\":\"$DEMO_PASSWORD\"}"
post_auth /sign-up/email "{\"email\":\"$DEMO_EMAIL\",\"password\":\"$DEMO_PASSWORD\",\"name\":\"Demo User\"}"
post_auth /sign-in/email "$creds" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
post_auth /sign-in/email "$creds" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
post_auth /sign-in/email "$creds" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
rm -f "$DIR/curl.out" "$DIR/curl.err"

UP_MS=$(($(now_ms) - T0))
UP_SECS="$((UP_MS / 1000)).$(((UP_MS % 1000) / 100))"

# ---- stack only --------------------------------------------------------------------

if [ "$MODE" = stack ]; then
	cat >"$DIR/stack.env" <<EOF
DATABASE_URL=$DATABASE_URL
AUTH_URL=$AUTH_URL
API_URL=$API_URL
AUTH_ENV=$AUTH_ENV
API_ENV=$API_ENV
AUTH_LOG=$AUTH_LOG
DEMO_EMAIL=$DEMO_EMAIL
DEMO_PASSWORD_VAR=$DEMO_PASSWORD_VAR
$DEMO_PASSWORD_VAR=$DEMO_PASSWORD
EOF
	say "stack up in ${UP_SECS}s: auth $AUTH_URL, API $API_URL/api/me, PostgreSQL; waiting (kill me to tear down)"
	echo "$DIR/stack.env"
	sleep 2147483647 &
	SLEEP_PID=$!
	wait "$SLEEP_PID" || true
	exit 0
fi

# ---- DEMO_SOCIAL=1: one broken social sign-in ---------------------------------------

if [ "$MODE" = social ]; then
	cat >&2 <<EOF
demo: stack up in ${UP_SECS}s (all on 127.0.0.1, torn down at the end):
demo:   auth service $AUTH_URL, whose redirectURI sends the provider's callback to
demo:   the API instance $API_URL (same database, a DIFFERENT secret); OIDC provider
demo:   $(head -n 1 "$DIR/oidc.log" | sed 's/^oidc-provider listening on //')
demo: running: authtui login --social authtui-oidc --provider-auto
EOF
	set +e
	(cd "$DIR" && "$AUTHTUI_BIN" login --env-file auth-service/.env --env-file api/.env \
		--database-url "$DATABASE_URL" --social authtui-oidc --provider-auto)
	rc=$?
	set -e
	say "authtui exited with status $rc (1: it found the error above)"
	exit 0
fi

# ---- DEMO_BROWSER=1: a cross-site front end, in Chrome ---------------------------

if [ "$MODE" = browser ]; then
	cat >&2 <<EOF
demo: stack up in ${UP_SECS}s (all on loopback, torn down at the end):
demo:   auth service $AUTH_URL (SameSite=Lax, the default), trusting and answering
demo:   CORS for a front end on $FRONT_ORIGIN: another site (no front end runs)
demo: running: authtui browser --origin $FRONT_ORIGIN --email $DEMO_EMAIL --password-env $DEMO_PASSWORD_VAR
EOF
	export "$DEMO_PASSWORD_VAR=$DEMO_PASSWORD"
	set +e
	(cd "$DIR" && "$AUTHTUI_BIN" browser --env-file auth-service/.env --database-url "$DATABASE_URL" \
		--origin "$FRONT_ORIGIN" --email "$DEMO_EMAIL" --password-env "$DEMO_PASSWORD_VAR")
	rc=$?
	set -e
	say "authtui exited with status $rc (1: it found the error above)"
	exit 0
fi

# ---- the console -----------------------------------------------------------------

cat >&2 <<EOF
demo: stack up in ${UP_SECS}s (all on 127.0.0.1, torn down when the console exits):
demo:   auth service $AUTH_URL  +  API $API_URL/api/me (validates with a DIFFERENT secret)
demo:   PostgreSQL; user $DEMO_EMAIL signed in 3 times; files in $DIR
demo: press 5 then enter to run the login flow; q to quit
EOF
sleep 2

export "$DEMO_PASSWORD_VAR=$DEMO_PASSWORD"
set +e
# Run from DIR so the env sources are labelled as a project would name
# them: auth-service/.env and api/.env.
(cd "$DIR" && "$AUTHTUI_BIN" --env-file auth-service/.env --env-file api/.env \
	--database-url "$DATABASE_URL" --api-url "$API_URL/api/me" \
	--email "$DEMO_EMAIL" --password-env "$DEMO_PASSWORD_VAR" --tail auth.log)
rc=$?
set -e
[ "$rc" = 0 ] || say "the console exited with status $rc"
exit "$rc"
