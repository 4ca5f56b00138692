// server.mjs: a real better-auth (auth.mjs's env-driven options) behind
// node:http, plus a tiny "user's own backend" route, for authtui's tests
// (internal/batest starts it) and for trying authtui by hand.
//
//   BETTER_AUTH_SECRET=... BETTER_AUTH_URL=http://127.0.0.1:3000 PORT=3000 node server.mjs
//
// Environment read HERE:
//   HOST                        listen address (default 127.0.0.1)
//   PORT                        listen port (default 0 = any free port)
//   MIGRATE                     "1" with DATABASE_URL: run better-auth's migrations before
//                               listening (under a PostgreSQL advisory lock, so servers sharing
//                               a database may start together)
//   FIXTURE_CORS_ORIGIN         set: every response carries Access-Control-Allow-Origin: <it> and
//                               Access-Control-Allow-Credentials: true; OPTIONS preflights are
//                               answered here with 204
//   FIXTURE_EXPOSE_AUTH_TOKEN   "1" (with FIXTURE_CORS_ORIGIN): every response also exposes
//                               set-auth-token (merged with what better-auth exposes itself)
//   FIXTURE_API                 how GET /api/me (the app's own backend) judges a request:
//                               session      (default) 200 {"user":{"id","email"}} or
//                                            401 {"error":"unauthorized"}
//                               null         200 with getSession's result as JSON, unchanged:
//                                            the session object, or the literal null when rejected
//                                            (a handler that never checks it)
//                               cookie-only  as session, but drops Authorization before getSession
//                                            (a backend that forwards only cookies)
//                               jwt          verifies Authorization: Bearer <JWT> with jose (better-auth's
//                                            own dependency) against FIXTURE_JWKS_URL (default the
//                                            auth service of BETTER_AUTH_URL: <it>/api/auth/jwks),
//                                            issuer and audience = BETTER_AUTH_URL, as a non-JS
//                                            backend of the jwt() plugin does; cookies are ignored
//                               bearer-only  as session, but drops Cookie before getSession (a
//                                            non-JS backend that reads only Authorization; the
//                                            server needs FIXTURE_BEARER=1 to accept bearer tokens)
//   DATABASE_URL, FIXTURE_*     as in auth.mjs (FIXTURE_BEARER=1: bearer plugin)
// Read by better-auth itself (never passed from here): BETTER_AUTH_SECRET(S), AUTH_SECRET,
// BETTER_AUTH_URL, BETTER_AUTH_TRUSTED_ORIGINS, NODE_ENV.
//
// Routes:
//   /api/auth/*     better-auth (toNodeHandler)
//   GET /api/me     the app's own backend: auth.api.getSession({headers}) =>
//                   200 {"user":{"id","email"}} or 401 {"error":"unauthorized"}
//                   (cookie, or Authorization: Bearer with FIXTURE_BEARER=1); FIXTURE_API
//                   changes which headers it reads and what it answers
//   GET /healthz    200 "ok"
//
// stdout: first, exactly one line
//   authtui-betterauth listening on http://127.0.0.1:<port>
// then one line per request (written just before the response ends) and
// better-auth's own log lines (those from before the listening line are held
// back and flushed right after it), every line starting with an ISO timestamp:
//   <ISO> http <METHOD> <path> <status> <ms>ms[ session=found|none|error][ aborted]
//   <ISO> better-auth <LEVEL> <message>      (LEVEL: DEBUG INFO WARN ERROR)
//   <ISO> server <message>                   (migrations, ready, shutdown, errors)
//   <ISO> console <message>                  (anything else printed through console)
// session= only on GET /api/auth/get-session (from its body: null => none; non-200 => error)
// and /api/me. The path has no query string, and token-like segments (24+
// characters, e.g. reset-password/<token>) read ":token". Cookie values,
// tokens and secrets are never printed: they are scrubbed from every line,
// better-auth's messages included, as are control characters.
// Fatal startup errors go to stderr, exit code 1.

import http from "node:http";
import { format } from "node:util";

const started = performance.now();
const env = process.env;
// FIXTURE_BASE_PATH (see auth.mjs): better-auth's basePath, routed here too.
const AUTH_BASE_PATH = env.FIXTURE_BASE_PATH || "/api/auth";

// ---- logging ------------------------------------------------------------------

let listening = false;
const held = []; // lines logged before the listening line

// Values that must never reach the log.
const SECRET_VALUES = [];
// Trimmed too: a secret read with a stray newline is still that secret.
for (const k of ["BETTER_AUTH_SECRET", "AUTH_SECRET"]) if (env[k]) SECRET_VALUES.push(env[k], env[k].trim());
if (env.BETTER_AUTH_SECRETS) {
	for (const entry of env.BETTER_AUTH_SECRETS.split(",")) {
		const i = entry.indexOf(":");
		SECRET_VALUES.push(entry.trim(), i >= 0 ? entry.slice(i + 1).trim() : entry.trim());
	}
}
if (env.DATABASE_URL) {
	try {
		const p = new URL(env.DATABASE_URL).password;
		if (p) SECRET_VALUES.push(p, decodeURIComponent(p));
	} catch {}
}
const SECRETS = SECRET_VALUES.filter((s) => s && s.length >= 4).sort((a, b) => b.length - a.length);
// A session token as sent in a cookie or Authorization header: 32
// alphanumerics, ".", signature (base64, possibly URL-encoded).
const SIGNED_TOKEN = /[A-Za-z0-9]{32}\.[A-Za-z0-9+/=%_-]{20,}/g;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/%=-]{16,}/gi;
// eslint-disable-next-line no-control-regex
const CONTROL = /\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]/g;

function scrub(text) {
	let s = String(text);
	for (const secret of SECRETS) s = s.split(secret).join("[REDACTED]");
	return s.replace(SIGNED_TOKEN, "[TOKEN]").replace(BEARER, "$1[TOKEN]").replace(CONTROL, "");
}

/** Writes one or more log lines (text may span lines), each with a timestamp. */
function logLine(source, text) {
	const ts = new Date().toISOString();
	for (const line of scrub(text).split(/\r?\n/)) {
		if (line.trim() === "") continue;
		const out = `${ts} ${source} ${line}\n`;
		if (listening) process.stdout.write(out);
		else held.push(out);
	}
}

// better-auth's default logger (and anything else) prints through console:
// route it into the same timestamped, scrubbed lines.
// Lines of better-auth's default logger ("<ISO> WARN [Better Auth]: msg") keep
// their level but get the same shape as the configured logger's.
const DEFAULT_LOGGER_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO|SUCCESS|WARN|ERROR) \[Better Auth\]: /;
for (const level of ["log", "info", "debug", "warn", "error"]) {
	console[level] = (...args) => {
		const text = format(...args);
		const m = DEFAULT_LOGGER_LINE.exec(text);
		if (m) logLine("better-auth", `${m[1] === "SUCCESS" ? "INFO" : m[1]} ${text.slice(m[0].length)}`);
		else logLine("console", text);
	};
}

function describe(err) {
	if (!(err instanceof Error)) return String(err);
	// BetterAuthError's stack can be empty.
	const head = `${err.name}: ${err.message}`;
	return err.stack && err.stack.includes(err.message) ? err.stack : `${head}\n${err.stack ?? ""}`;
}

function fatal(err) {
	for (const line of held) process.stderr.write(line);
	process.stderr.write(`authtui-betterauth: ${scrub(describe(err))}\n`);
	process.exit(1);
}

// ---- better-auth ---------------------------------------------------------------

const { buildOptions, runMigrations } = await import("./auth.mjs").catch(fatal);
const { betterAuth } = await import("better-auth").catch(fatal);
const { toNodeHandler, fromNodeHeaders } = await import("better-auth/node").catch(fatal);

const API_MODES = ["session", "null", "cookie-only", "bearer-only", "jwt"];
const API_MODE = env.FIXTURE_API || "session";
if (!API_MODES.includes(API_MODE)) fatal(new Error(`FIXTURE_API must be one of ${API_MODES.join("|")}, got ${JSON.stringify(API_MODE)}`));

let auth, pool;
try {
	const built = await buildOptions();
	pool = built.pool;
	pool?.on("error", (err) => logLine("server", `pg pool: ${err.message}`));
	built.options.logger = {
		disableColors: true,
		log: (level, message, ...args) => logLine("better-auth", `${level.toUpperCase()} ${format(message, ...args)}`),
	};
	auth = betterAuth(built.options);
	await auth.$context;
	if (env.MIGRATE === "1") {
		if (!pool) throw new Error("MIGRATE=1 needs DATABASE_URL");
		const lock = await pool.connect();
		try {
			// Same key for every authtui fixture server: concurrent starts on one database
			// would otherwise race on CREATE TABLE.
			await lock.query("SELECT pg_advisory_lock(7231946501)");
			const { created, altered } = await runMigrations(auth);
			logLine("server", `migrations: created [${created.join(", ")}] altered [${altered.join(", ")}]`);
		} finally {
			await lock.query("SELECT pg_advisory_unlock(7231946501)").catch(() => {});
			lock.release();
		}
	}
} catch (err) {
	fatal(err);
}

const authHandler = toNodeHandler(auth);
const GET_SESSION = `${AUTH_BASE_PATH}/get-session`;

// ---- CORS ----------------------------------------------------------------------

const CORS_ORIGIN = env.FIXTURE_CORS_ORIGIN || "";
const EXPOSE_AUTH_TOKEN = env.FIXTURE_EXPOSE_AUTH_TOKEN === "1";

function mergeList(existing, add) {
	const items = String(existing ?? "")
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean);
	for (const a of add) if (!items.some((i) => i.toLowerCase() === a.toLowerCase())) items.push(a);
	return items.join(", ");
}

/** Applies the CORS headers right before the head is written (after better-auth set its own). */
function withCORS(res) {
	if (!CORS_ORIGIN) return;
	const writeHead = res.writeHead;
	res.writeHead = function (...args) {
		if (!res.headersSent) {
			res.setHeader("Access-Control-Allow-Origin", CORS_ORIGIN);
			res.setHeader("Access-Control-Allow-Credentials", "true");
			res.setHeader("Vary", mergeList(res.getHeader("vary"), ["Origin"]));
			if (EXPOSE_AUTH_TOKEN) {
				res.setHeader(
					"Access-Control-Expose-Headers",
					mergeList(res.getHeader("access-control-expose-headers"), ["set-auth-token"]),
				);
			}
		}
		return writeHead.apply(this, args);
	};
}

// ---- routes --------------------------------------------------------------------

function sendJSON(res, status, obj) {
	const body = JSON.stringify(obj);
	res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
	res.end(body);
}

/** GET /api/me: what a user's backend does with better-auth. */
async function me(req, res, note) {
	if (req.method !== "GET" && req.method !== "HEAD") {
		res.setHeader("allow", "GET, HEAD");
		return sendJSON(res, 405, { error: "method_not_allowed" });
	}
	if (API_MODE === "jwt") return meJWT(req, res, note);
	const headers = fromNodeHeaders(req.headers);
	// The header this backend never looks at is gone before better-auth sees
	// the request, as it would be in such a backend.
	if (API_MODE === "cookie-only") headers.delete("authorization");
	if (API_MODE === "bearer-only") headers.delete("cookie");
	let session;
	try {
		session = await auth.api.getSession({ headers });
	} catch (err) {
		note.session = "error";
		logLine("server", `/api/me: getSession failed: ${describe(err)}`);
		return sendJSON(res, 500, { error: "session_lookup_failed" });
	}
	if (API_MODE === "null") {
		note.session = session ? "found" : "none";
		return sendJSON(res, 200, session ?? null);
	}
	if (!session) {
		note.session = "none";
		return sendJSON(res, 401, { error: "unauthorized" });
	}
	note.session = "found";
	return sendJSON(res, 200, { user: { id: session.user.id, email: session.user.email } });
}

let remoteJWKS = null;

/** GET /api/me of a backend that trusts only the jwt() plugin's tokens. */
async function meJWT(req, res, note) {
	const { createRemoteJWKSet, jwtVerify } = await import("jose");
	const base = (env.BETTER_AUTH_URL || "").replace(/\/+$/, "");
	remoteJWKS ??= createRemoteJWKSet(new URL(env.FIXTURE_JWKS_URL || base + "/api/auth/jwks"));
	const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization || "");
	if (!m) {
		note.session = "none";
		return sendJSON(res, 401, { error: "unauthorized" });
	}
	try {
		const { payload } = await jwtVerify(m[1], remoteJWKS, { issuer: base, audience: base });
		note.session = "found";
		return sendJSON(res, 200, { user: { id: payload.sub, email: payload.email ?? null } });
	} catch (err) {
		note.session = "none";
		return sendJSON(res, 401, { error: "unauthorized", reason: err.code || "invalid" });
	}
}

/**
 * The request path as logged: without the query string (tokens
 * travel there, e.g. verify-email?token=), and with token-like segments
 * (reset-password/<token>) replaced by ":token".
 */
function loggedPath(rawURL) {
	const path = (rawURL ?? "/").split("?")[0];
	return path
		.split("/")
		.map((seg) => (/^[A-Za-z0-9_.%-]{24,}$/.test(seg) ? ":token" : seg))
		.join("/");
}

/**
 * Logs the request's line right before its response ends (so a client that
 * got the response finds the line already written), or when the connection
 * closes first. For get-session, the start of the body tells whether a
 * session was found: the literal null means none.
 */
function instrument(req, res, path, note) {
	const t0 = performance.now();
	const shown = loggedPath(path);
	const watchBody = path === GET_SESSION && (req.method === "GET" || req.method === "POST");
	let head = "";
	const grab = (chunk) => {
		if (!watchBody || chunk == null || typeof chunk === "function" || head.length >= 8) return;
		head += typeof chunk === "string" ? chunk.slice(0, 8) : Buffer.from(chunk).toString("utf8", 0, 8);
	};
	let logged = false;
	const log = (aborted) => {
		if (logged) return;
		logged = true;
		if (watchBody && !aborted) {
			const t = head.trim();
			note.session = res.statusCode !== 200 ? "error" : t === "" || t.startsWith("null") ? "none" : "found";
		}
		const ms = (performance.now() - t0).toFixed(1);
		const extra = note.session ? ` session=${note.session}` : "";
		logLine("http", `${req.method} ${shown} ${res.headersSent || !aborted ? res.statusCode : "-"} ${ms}ms${extra}${aborted ? " aborted" : ""}`);
	};
	const write = res.write;
	const end = res.end;
	res.write = function (chunk, ...rest) {
		grab(chunk);
		return write.call(this, chunk, ...rest);
	};
	res.end = function (chunk, ...rest) {
		grab(chunk);
		log(false);
		return end.call(this, chunk, ...rest);
	};
	res.on("close", () => log(true));
}

const server = http.createServer(async (req, res) => {
	const path = (req.url ?? "/").split("?")[0];
	const note = { session: null };
	instrument(req, res, path, note);
	withCORS(res);
	try {
		if (CORS_ORIGIN && req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
			res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
			if (req.headers["access-control-request-headers"]) {
				res.setHeader("Access-Control-Allow-Headers", req.headers["access-control-request-headers"]);
			}
			res.setHeader("Access-Control-Max-Age", "600");
			res.writeHead(204);
			return res.end();
		}
		if (path === "/healthz") {
			res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
			return res.end("ok");
		}
		if (path === "/api/me") return await me(req, res, note);
		if (path === AUTH_BASE_PATH || path.startsWith(`${AUTH_BASE_PATH}/`)) {
			return await authHandler(req, res);
		}
		return sendJSON(res, 404, { error: "not_found" });
	} catch (err) {
		logLine("server", `${req.method} ${loggedPath(path)}: ${describe(err)}`);
		if (!res.headersSent) sendJSON(res, 500, { error: "internal" });
		else res.destroy();
	}
});

// ---- lifecycle -----------------------------------------------------------------

let stopping = false;
async function shutdown(signal) {
	if (stopping) return;
	stopping = true;
	logLine("server", `${signal}: shutting down`);
	const force = setTimeout(() => process.exit(0), 2000);
	force.unref();
	server.close();
	server.closeIdleConnections();
	try {
		await pool?.end();
	} catch {}
	process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

const host = env.HOST || "127.0.0.1";
const port = env.PORT === undefined || env.PORT === "" ? 0 : Number(env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) fatal(new Error(`PORT must be an integer in [0, 65535], got ${JSON.stringify(env.PORT)}`));
server.on("error", fatal); // EADDRINUSE and friends, before listening
server.listen(port, host, () => {
	const addr = server.address();
	const shown = addr.family === "IPv6" || addr.family === 6 ? `[${addr.address}]` : addr.address;
	process.stdout.write(`authtui-betterauth listening on http://${shown}:${addr.port}\n`);
	listening = true;
	for (const line of held.splice(0)) process.stdout.write(line);
	logLine("server", `ready in ${Math.round(performance.now() - started)} ms`);
});
