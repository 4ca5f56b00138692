// seed.mjs: fills a PostgreSQL database with real better-auth data for
// authtui's tests (internal/pgtest.SeedBetterAuth runs it).
//
//   DATABASE_URL=postgres://... node seed.mjs
//
// Runs better-auth's own migrations (auth.mjs runMigrations), then, in process
// (auth.handler(new Request(...)), no network), signs up SEED_USERS users
// (default 3: user1@example.com, user2@example.com, ...) and signs each one in
// SEED_SESSIONS_PER_USER times (default 2), every sign-in with its own
// User-Agent and x-forwarded-for. The first user's first session carries a
// hostile User-Agent with terminal escape sequences.
//
// Environment:
//   DATABASE_URL            required
//   BETTER_AUTH_SECRET      default: cases.mjs SECRET_A (unless BETTER_AUTH_SECRETS is set)
//   BETTER_AUTH_URL         default: http://localhost:3000
//   SEED_USERS              default 3
//   SEED_SESSIONS_PER_USER  default 2
//   FIXTURE_*               as in auth.mjs (cookie prefix, cookie cache, ...)
//
// Sign-up runs with emailAndPassword.autoSignIn = false (the only difference
// from auth.mjs's options), so every session row comes from a sign-in.
//
// stdout: ONE JSON object
//   {"cookie_name": "better-auth.session_token",
//    "users":    [{"id", "email"}],
//    "sessions": [{"id", "user_id", "token", "cookie", "user_agent", "ip_address"}]}
// cookie is the session_token value exactly as in Set-Cookie ("<token>.<sig>",
// URL-encoded); user_agent and ip_address are what better-auth stored. No
// passwords (random, never printed) and no secrets. Everything else, better-auth's
// own logs included, goes to stderr.

import { randomBytes } from "node:crypto";

// better-auth logs some levels with console.log: keep stdout for the JSON.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const started = performance.now();
const { SECRET_A } = await import("./cases.mjs");
if (!process.env.BETTER_AUTH_SECRET && !process.env.BETTER_AUTH_SECRETS) {
	process.env.BETTER_AUTH_SECRET = SECRET_A;
}
if (!process.env.BETTER_AUTH_URL) process.env.BETTER_AUTH_URL = "http://localhost:3000";

function count(name, def, min) {
	const raw = process.env[name];
	if (raw === undefined || raw === "") return def;
	const n = Number(raw);
	if (!Number.isInteger(n) || n < min || n > 10000) {
		throw new Error(`${name} must be an integer in [${min}, 10000], got ${JSON.stringify(raw)}`);
	}
	return n;
}

export const HOSTILE_USER_AGENT = "evil\x1b]0;pwned\x07agent";
const BROWSERS = [
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"curl/8.5.0",
];

async function main() {
	if (!process.env.DATABASE_URL) throw new Error("DATABASE_URL is not set");
	const users = count("SEED_USERS", 3, 1);
	const perUser = count("SEED_SESSIONS_PER_USER", 2, 0);

	const { buildOptions, runMigrations } = await import("./auth.mjs");
	const { betterAuth } = await import("better-auth");
	const built = await buildOptions();
	built.options.emailAndPassword.autoSignIn = false;
	const auth = betterAuth(built.options);
	const pool = built.pool;
	// An idle client losing its server (e.g. the test's database dropped)
	// would otherwise crash the process with a dump of the whole client.
	pool?.on("error", (err) => console.error(`seed.mjs: pg pool: ${err.message}`));
	try {
		const ctx = await auth.$context;
		const baseURL = ctx.options.baseURL;
		const origin = new URL(baseURL).origin;
		const cookieName = ctx.authCookies.sessionToken.name;
		await runMigrations(auth);

		async function post(path, body, headers = {}) {
			const res = await auth.handler(
				new Request(new URL(`/api/auth${path}`, baseURL), {
					method: "POST",
					headers: { origin, "content-type": "application/json", ...headers },
					body: JSON.stringify(body),
				}),
			);
			const text = await res.text();
			if (res.status !== 200) {
				// The body is better-auth's error ({code, message}): no password in it.
				throw new Error(`POST ${path} for ${body.email}: HTTP ${res.status} ${text.slice(0, 300)}`);
			}
			return { res, json: JSON.parse(text) };
		}

		const outUsers = [];
		const signIns = [];
		let n = 0;
		for (let u = 1; u <= users; u++) {
			const email = `user${u}@example.com`;
			const password = randomBytes(18).toString("base64url");
			const { json } = await post("/sign-up/email", { email, password, name: `Seed User ${u}` });
			outUsers.push({ id: json.user.id, email });
			for (let s = 1; s <= perUser; s++, n++) {
				const userAgent =
					u === 1 && s === 1 ? HOSTILE_USER_AGENT : `${BROWSERS[n % BROWSERS.length]} authtui-seed/u${u}s${s}`;
				const ip = `203.0.113.${(n % 254) + 1}`;
				const { res, json: signIn } = await post(
					"/sign-in/email",
					{ email, password },
					{ "user-agent": userAgent, "x-forwarded-for": ip },
				);
				const line = res.headers.getSetCookie().find((c) => c.startsWith(`${cookieName}=`));
				if (!line) throw new Error(`sign-in for ${email}: no ${cookieName} in Set-Cookie`);
				const cookie = line.slice(cookieName.length + 1).split(";")[0];
				signIns.push({ token: signIn.token, cookie, userId: json.user.id });
			}
		}

		const rows = new Map();
		if (signIns.length > 0) {
			const { rows: found } = await pool.query(
				'SELECT id, token, "userId", "userAgent", "ipAddress" FROM session WHERE token = ANY($1)',
				[signIns.map((s) => s.token)],
			);
			for (const r of found) rows.set(r.token, r);
		}
		const sessions = signIns.map((s) => {
			const row = rows.get(s.token);
			if (!row) throw new Error("a sign-in's token has no session row");
			if (row.userId !== s.userId) throw new Error("a session row belongs to the wrong user");
			return {
				id: row.id,
				user_id: row.userId,
				token: row.token,
				cookie: s.cookie,
				user_agent: row.userAgent,
				ip_address: row.ipAddress,
			};
		});
		process.stdout.write(`${JSON.stringify({ cookie_name: cookieName, users: outUsers, sessions })}\n`);
		console.error(
			`seed.mjs: ${outUsers.length} users, ${sessions.length} sessions in ${Math.round(performance.now() - started)} ms`,
		);
	} finally {
		if (pool) await pool.end();
	}
}

try {
	await main();
} catch (err) {
	console.error(`seed.mjs: ${err?.stack ?? err}`);
	process.exitCode = 1;
}
