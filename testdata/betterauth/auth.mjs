// auth.mjs: builds a real better-auth (pinned 1.7.25) instance from environment
// variables only. capture-case.mjs uses it in process (memory adapter) to
// record authtui's test fixtures. The same module can back an HTTP server on
// PostgreSQL: set DATABASE_URL and run runMigrations() once before serving.
//
// Environment read BY BETTER-AUTH ITSELF (never passed as options from here, so
// the fixtures show better-auth's own resolution logic):
//   BETTER_AUTH_SECRETS          "<version>:<secret>,<version>:<secret>" (first entry = current);
//                                takes precedence over the single secret below
//   BETTER_AUTH_SECRET           the single secret
//   AUTH_SECRET                  used when BETTER_AUTH_SECRET is unset
//                                (none set: built-in "better-auth-secret-12345678901234567890",
//                                refused only with NODE_ENV=production)
//   BETTER_AUTH_URL              base URL (https:// => "__Secure-" cookie names)
//   BETTER_AUTH_TRUSTED_ORIGINS  extra trusted origins, comma separated (read on every request)
//   NODE_ENV                     read ONCE when better-auth is imported (production/test checks)
//
// Environment read HERE (FIXTURE_* = options for the fixtures):
//   FIXTURE_COOKIE_PREFIX        advanced.cookiePrefix (default "better-auth")
//   FIXTURE_CACHE                off (default) | compact | jwt | jwe
//                                => session.cookieCache = { enabled: true, strategy }
//   FIXTURE_CROSS_SUBDOMAIN      a domain, e.g. example.com
//                                => advanced.crossSubDomainCookies = { enabled: true, domain }
//                                   advanced.defaultCookieAttributes = { sameSite: "none", secure: true }
//   FIXTURE_BEARER               "1" => bearer() plugin from better-auth/plugins
//   DATABASE_URL                 set: PostgreSQL through a pg Pool (better-auth's Kysely adapter);
//                                unset: better-auth's memory adapter
// emailAndPassword is enabled, without email verification. Telemetry is off.

import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { bearer } from "better-auth/plugins";

const CACHE_STRATEGIES = ["off", "compact", "jwt", "jwe"];

/** A fresh, empty database object for better-auth's memory adapter. */
export function newMemoryDb() {
	return { user: [], session: [], account: [], verification: [] };
}

/**
 * Reads the FIXTURE_* / DATABASE_URL variables (from process.env, the same
 * place better-auth reads its own) and returns betterAuth options plus what
 * was used to build them.
 *
 * @param {{ memoryDb?: object }} [opts] memoryDb: reuse this memory-adapter
 *   database object (lets two instances share one store); ignored with DATABASE_URL.
 */
export async function buildOptions(opts = {}) {
	const env = process.env;
	const fixture = {
		FIXTURE_COOKIE_PREFIX: env.FIXTURE_COOKIE_PREFIX || null,
		FIXTURE_CACHE: env.FIXTURE_CACHE || "off",
		FIXTURE_CROSS_SUBDOMAIN: env.FIXTURE_CROSS_SUBDOMAIN || null,
		FIXTURE_BEARER: env.FIXTURE_BEARER === "1",
		DATABASE: env.DATABASE_URL ? "postgres" : "memory",
	};
	if (!CACHE_STRATEGIES.includes(fixture.FIXTURE_CACHE)) {
		throw new Error(`FIXTURE_CACHE must be one of ${CACHE_STRATEGIES.join("|")}, got ${JSON.stringify(fixture.FIXTURE_CACHE)}`);
	}

	const options = {
		emailAndPassword: { enabled: true, requireEmailVerification: false },
		telemetry: { enabled: false },
		advanced: {},
		plugins: [],
	};

	let pool = null;
	let memoryDb = null;
	if (env.DATABASE_URL) {
		const { Pool } = await import("pg");
		pool = new Pool({ connectionString: env.DATABASE_URL });
		options.database = pool;
	} else {
		memoryDb = opts.memoryDb ?? newMemoryDb();
		options.database = memoryAdapter(memoryDb);
	}

	if (fixture.FIXTURE_COOKIE_PREFIX) options.advanced.cookiePrefix = fixture.FIXTURE_COOKIE_PREFIX;
	if (fixture.FIXTURE_CACHE !== "off") {
		options.session = { cookieCache: { enabled: true, strategy: fixture.FIXTURE_CACHE } };
	}
	if (fixture.FIXTURE_CROSS_SUBDOMAIN) {
		options.advanced.crossSubDomainCookies = { enabled: true, domain: fixture.FIXTURE_CROSS_SUBDOMAIN };
		options.advanced.defaultCookieAttributes = { sameSite: "none", secure: true };
	}
	if (fixture.FIXTURE_BEARER) options.plugins.push(bearer());

	return { options, fixture, pool, memoryDb };
}

/**
 * Builds the betterAuth instance from the environment. Await `auth.$context`
 * before changing process.env again: better-auth resolves secret and base URL
 * while creating that context.
 *
 * @returns {Promise<{auth: ReturnType<typeof betterAuth>, options: object, fixture: object,
 *   pool: import("pg").Pool|null, memoryDb: object|null, close: () => Promise<void>}>}
 */
export async function createAuth(opts = {}) {
	const built = await buildOptions(opts);
	const auth = betterAuth(built.options);
	await auth.$context;
	return {
		...built,
		auth,
		close: async () => {
			if (built.pool) await built.pool.end();
		},
	};
}

/**
 * Runs better-auth's own schema migrations (getMigrations from
 * better-auth/db/migration) against the instance's database. Only meaningful
 * with DATABASE_URL. Returns the tables that were created or altered.
 */
export async function runMigrations(auth) {
	const { getMigrations } = await import("better-auth/db/migration");
	const { toBeCreated, toBeAdded, runMigrations: run } = await getMigrations(auth.options);
	await run();
	return {
		created: toBeCreated.map((t) => t.table),
		altered: toBeAdded.map((t) => t.table),
	};
}
