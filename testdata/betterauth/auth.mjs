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
//   FIXTURE_REQUIRE_EMAIL_VERIFICATION
//                                "1" => emailAndPassword.requireEmailVerification (no
//                                   sendVerificationEmail: unverified users get 403 EMAIL_NOT_VERIFIED)
//   FIXTURE_RATE_LIMIT           "1" => rateLimit = { enabled: true } with better-auth's defaults
//                                   (100 requests / 10 s, sign-in and sign-up 3 / 10 s, in memory),
//                                   even outside production; "0" => { enabled: false }, even in
//                                   production; unset => better-auth's default (on only in production)
//   FIXTURE_SAMESITE             none | lax | strict => advanced.defaultCookieAttributes.sameSite
//   FIXTURE_SECURE               "0" | "1" => advanced.defaultCookieAttributes.secure (both override
//                                   what FIXTURE_CROSS_SUBDOMAIN sets). better-call, better-auth's
//                                   HTTP layer, still adds Secure to every SameSite=None cookie and
//                                   to __Secure- names: "0" removes it only from the others
//   FIXTURE_BASE_PATH            a path, e.g. /auth => basePath (default /api/auth); server.mjs
//                                   routes that path to better-auth
//   FIXTURE_PARTITIONED          "1" => advanced.defaultCookieAttributes.partitioned (better-call
//                                   then adds Partitioned, and Secure, to every cookie: CHIPS)
//   FIXTURE_CACHE_MAX_AGE        seconds (with FIXTURE_CACHE) => session.cookieCache.maxAge
//                                   (better-auth's default: 300)
//   FIXTURE_JWT                  "1" => jwt() plugin from better-auth/plugins (GET /token, /jwks,
//                                   set-auth-jwt on get-session); keys in the jwks table
//   FIXTURE_REDIS_URL            redis://127.0.0.1:PORT => secondaryStorage on that Redis (resp.mjs):
//                                   sessions live in the store; the migrations then create no
//                                   session table unless FIXTURE_STORE_SESSION_IN_DB=1
//   FIXTURE_STORE_SESSION_IN_DB  "1" (with FIXTURE_REDIS_URL) => session.storeSessionInDatabase
//   FIXTURE_OIDC_ISSUER          an OIDC issuer URL (e.g. internal/oidctest's http://127.0.0.1:P/oidc)
//                                => genericOAuth() plugin from better-auth/plugins with one provider,
//                                   providerId "authtui-oidc", discoveryUrl
//                                   <issuer>/.well-known/openid-configuration, scopes openid email
//                                   profile (PKCE and the id_token nonce on: better-auth's defaults).
//                                   Discovery runs at startup; a provider down then is retried on each
//                                   request for it (sign-in answers 404 PROVIDER_NOT_FOUND meanwhile).
//                                   Sign-in: POST /api/auth/sign-in/social {"provider":"authtui-oidc"};
//                                   callback: /api/auth/callback/authtui-oidc
//   FIXTURE_OIDC_CLIENT_ID       (with FIXTURE_OIDC_ISSUER, required) the client id
//   FIXTURE_OIDC_CLIENT_SECRET   (with FIXTURE_OIDC_ISSUER, required) the client secret
//   FIXTURE_OIDC_REDIRECT_URI    (optional) the provider config's redirectURI: sent as redirect_uri
//                                   instead of <BETTER_AUTH_URL>/api/auth/callback/authtui-oidc
//   DATABASE_URL                 set: PostgreSQL through a pg Pool (better-auth's Kysely adapter);
//                                unset: better-auth's memory adapter
// emailAndPassword is enabled, without email verification unless asked. Telemetry is off.

import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { bearer, genericOAuth, jwt } from "better-auth/plugins";
import { redisClient } from "./resp.mjs";

const CACHE_STRATEGIES = ["off", "compact", "jwt", "jwe"];
const SAMESITE_VALUES = ["none", "lax", "strict"];

/** Fails with the variable's name and what it accepts. */
function invalid(name, accepted, got) {
	return new Error(`${name} must be ${accepted}, got ${JSON.stringify(got)}`);
}

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
	// The options below join `fixture` only when set, so fixtures captured
	// before they existed keep the same fixture_options.
	if (env.FIXTURE_REQUIRE_EMAIL_VERIFICATION) {
		if (env.FIXTURE_REQUIRE_EMAIL_VERIFICATION !== "1") throw invalid("FIXTURE_REQUIRE_EMAIL_VERIFICATION", '"1"', env.FIXTURE_REQUIRE_EMAIL_VERIFICATION);
		fixture.FIXTURE_REQUIRE_EMAIL_VERIFICATION = true;
	}
	if (env.FIXTURE_RATE_LIMIT) {
		if (!["0", "1"].includes(env.FIXTURE_RATE_LIMIT)) throw invalid("FIXTURE_RATE_LIMIT", '"0" or "1"', env.FIXTURE_RATE_LIMIT);
		fixture.FIXTURE_RATE_LIMIT = env.FIXTURE_RATE_LIMIT === "1";
	}
	if (env.FIXTURE_SAMESITE) {
		if (!SAMESITE_VALUES.includes(env.FIXTURE_SAMESITE)) throw invalid("FIXTURE_SAMESITE", `one of ${SAMESITE_VALUES.join("|")}`, env.FIXTURE_SAMESITE);
		fixture.FIXTURE_SAMESITE = env.FIXTURE_SAMESITE;
	}
	if (env.FIXTURE_SECURE) {
		if (!["0", "1"].includes(env.FIXTURE_SECURE)) throw invalid("FIXTURE_SECURE", '"0" or "1"', env.FIXTURE_SECURE);
		fixture.FIXTURE_SECURE = env.FIXTURE_SECURE === "1";
	}
	if (env.FIXTURE_CACHE_MAX_AGE) {
		const n = Number(env.FIXTURE_CACHE_MAX_AGE);
		if (!/^[0-9]+$/.test(env.FIXTURE_CACHE_MAX_AGE) || n <= 0) throw invalid("FIXTURE_CACHE_MAX_AGE", "a positive number of seconds", env.FIXTURE_CACHE_MAX_AGE);
		// better-auth ignores maxAge while the cache is off: refuse rather than pretend.
		if (fixture.FIXTURE_CACHE === "off") throw new Error("FIXTURE_CACHE_MAX_AGE needs FIXTURE_CACHE=compact|jwt|jwe");
		fixture.FIXTURE_CACHE_MAX_AGE = n;
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
	if (fixture.FIXTURE_REQUIRE_EMAIL_VERIFICATION) options.emailAndPassword.requireEmailVerification = true;
	if (fixture.FIXTURE_RATE_LIMIT !== undefined) options.rateLimit = { enabled: fixture.FIXTURE_RATE_LIMIT };
	if (env.FIXTURE_BASE_PATH) {
		if (!/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/.test(env.FIXTURE_BASE_PATH)) throw invalid("FIXTURE_BASE_PATH", "a path like /auth", env.FIXTURE_BASE_PATH);
		options.basePath = env.FIXTURE_BASE_PATH;
	}
	if (env.FIXTURE_PARTITIONED && env.FIXTURE_PARTITIONED !== "1") throw invalid("FIXTURE_PARTITIONED", '"1"', env.FIXTURE_PARTITIONED);
	if (fixture.FIXTURE_SAMESITE !== undefined || fixture.FIXTURE_SECURE !== undefined || env.FIXTURE_PARTITIONED === "1") {
		const attrs = { ...options.advanced.defaultCookieAttributes };
		if (fixture.FIXTURE_SAMESITE !== undefined) attrs.sameSite = fixture.FIXTURE_SAMESITE;
		if (fixture.FIXTURE_SECURE !== undefined) attrs.secure = fixture.FIXTURE_SECURE;
		if (env.FIXTURE_PARTITIONED === "1") attrs.partitioned = true;
		options.advanced.defaultCookieAttributes = attrs;
	}
	if (fixture.FIXTURE_CACHE_MAX_AGE !== undefined) options.session.cookieCache.maxAge = fixture.FIXTURE_CACHE_MAX_AGE;
	if (env.FIXTURE_JWT) {
		if (env.FIXTURE_JWT !== "1") throw invalid("FIXTURE_JWT", '"1"', env.FIXTURE_JWT);
		fixture.FIXTURE_JWT = true;
		options.plugins.push(jwt());
	}
	if (env.FIXTURE_OIDC_ISSUER) {
		if (!/^https?:\/\/[^/]+/.test(env.FIXTURE_OIDC_ISSUER)) throw invalid("FIXTURE_OIDC_ISSUER", "an http(s) URL", env.FIXTURE_OIDC_ISSUER);
		if (!env.FIXTURE_OIDC_CLIENT_ID || !env.FIXTURE_OIDC_CLIENT_SECRET) throw new Error("FIXTURE_OIDC_ISSUER needs FIXTURE_OIDC_CLIENT_ID and FIXTURE_OIDC_CLIENT_SECRET");
		if (env.FIXTURE_OIDC_REDIRECT_URI && !/^https?:\/\/[^/]+/.test(env.FIXTURE_OIDC_REDIRECT_URI)) throw invalid("FIXTURE_OIDC_REDIRECT_URI", "an http(s) URL", env.FIXTURE_OIDC_REDIRECT_URI);
		fixture.FIXTURE_OIDC = true;
		const provider = {
			providerId: "authtui-oidc",
			discoveryUrl: env.FIXTURE_OIDC_ISSUER.replace(/\/+$/, "") + "/.well-known/openid-configuration",
			clientId: env.FIXTURE_OIDC_CLIENT_ID,
			clientSecret: env.FIXTURE_OIDC_CLIENT_SECRET,
			scopes: ["openid", "email", "profile"],
		};
		if (env.FIXTURE_OIDC_REDIRECT_URI) provider.redirectURI = env.FIXTURE_OIDC_REDIRECT_URI;
		options.plugins.push(genericOAuth({ config: [provider] }));
	}
	let store = null;
	if (env.FIXTURE_REDIS_URL) {
		if (!/^redis:\/\/[^/]+/.test(env.FIXTURE_REDIS_URL)) throw invalid("FIXTURE_REDIS_URL", "a redis:// URL", "(not shown)");
		store = redisClient(env.FIXTURE_REDIS_URL);
		fixture.FIXTURE_REDIS = true;
		options.secondaryStorage = store;
	}
	if (env.FIXTURE_STORE_SESSION_IN_DB) {
		if (env.FIXTURE_STORE_SESSION_IN_DB !== "1") throw invalid("FIXTURE_STORE_SESSION_IN_DB", '"1"', env.FIXTURE_STORE_SESSION_IN_DB);
		if (!store) throw new Error("FIXTURE_STORE_SESSION_IN_DB needs FIXTURE_REDIS_URL");
		options.session = { ...options.session, storeSessionInDatabase: true };
	}

	return { options, fixture, pool, memoryDb, store };
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
			if (built.store) built.store.close();
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
