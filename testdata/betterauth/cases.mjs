// cases.mjs: the fixture cases captured by capture.mjs (one child process each).
// The names are the keys authtui's Go tests use (testdata/fixtures/<name>.json).
// Secrets are fixed, obviously fake test values (>= 32 characters).

export const SECRET_A = "authtui-fixture-secret-A-0123456789abcdef";
export const SECRET_B = "authtui-fixture-secret-B-fedcba9876543210";
export const SECRET_C = "authtui-fixture-secret-C-00112233445566778899";
export const BETTER_AUTH_DEFAULT_SECRET = "better-auth-secret-12345678901234567890";

const LOCAL = "http://localhost:3000";
const HTTPS = "https://auth.example.com";

// Each case:
//   env         the child process's environment, besides PATH and HOME
//               (for two-server cases: the server that issues the cookie)
//   verifierEnv two-server cases only: process.env is replaced by this (plus
//               PATH/HOME) before the second auth instance, which shares the
//               first one's memory database, is built
//   flow        what capture-case.mjs does (see there)
export const CASES = {
	"plain": {
		description: "Single BETTER_AUTH_SECRET, http base URL, no cookie cache: sign-up, sign-in, get-session.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL },
		flow: "standard",
	},
	"plain-dont-remember": {
		description: "As plain, but sign-in with rememberMe:false: session cookie without Max-Age plus a signed dont_remember cookie.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL },
		flow: "standard",
		rememberMe: false,
	},
	"secure": {
		description: "https base URL: cookie names get the __Secure- prefix and the Secure attribute.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: HTTPS },
		flow: "standard",
	},
	"prefix": {
		description: "advanced.cookiePrefix = myapp: cookies are named myapp.session_token etc.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL, FIXTURE_COOKIE_PREFIX: "myapp" },
		flow: "standard",
	},
	"cache-compact": {
		description: "session.cookieCache with strategy compact: session_data is base64url JSON signed with HMAC-SHA256.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL, FIXTURE_CACHE: "compact" },
		flow: "standard",
	},
	"cache-jwt": {
		description: "session.cookieCache with strategy jwt: session_data is an HS256 JWT.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL, FIXTURE_CACHE: "jwt" },
		flow: "standard",
	},
	"cache-jwe": {
		description: "session.cookieCache with strategy jwe: session_data is a dir/A256CBC-HS512 JWE.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL, FIXTURE_CACHE: "jwe" },
		flow: "standard",
	},
	"cache-chunked": {
		description: "Compact cookie cache with a user whose name and image are several KB: session_data is split into session_data.0, .1, ...",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL, FIXTURE_CACHE: "compact" },
		flow: "standard",
		bigUser: true,
	},
	"rotation": {
		description: "BETTER_AUTH_SECRETS=\"2:B,1:A\" with the jwe cookie cache: what the current secret (version 2) signs and encrypts.",
		env: { BETTER_AUTH_SECRETS: `2:${SECRET_B},1:${SECRET_A}`, BETTER_AUTH_URL: LOCAL, FIXTURE_CACHE: "jwe" },
		flow: "standard",
	},
	"rotation-old-cookie": {
		description: "Cookies issued by a server on BETTER_AUTH_SECRET=A (jwe cache), then presented to a server on BETTER_AUTH_SECRETS=\"2:B,1:A\" sharing the same database.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL, FIXTURE_CACHE: "jwe" },
		verifierEnv: { BETTER_AUTH_SECRETS: `2:${SECRET_B},1:${SECRET_A}`, BETTER_AUTH_URL: LOCAL, FIXTURE_CACHE: "jwe" },
		flow: "two-servers",
	},
	"no-secret": {
		description: "No secret in the environment, NODE_ENV=development: cookies are signed with better-auth's built-in default secret.",
		env: { NODE_ENV: "development", BETTER_AUTH_URL: LOCAL },
		flow: "standard",
	},
	"cross-subdomain": {
		description: "crossSubDomainCookies on example.com plus defaultCookieAttributes SameSite=None; Secure, https base URL.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: HTTPS, FIXTURE_CROSS_SUBDOMAIN: "example.com" },
		flow: "standard",
	},
	"bearer": {
		description: "bearer plugin: sign-in answers set-auth-token; get-session with Authorization: Bearer and no cookie.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL, FIXTURE_BEARER: "1" },
		flow: "bearer",
	},
	"wrong-secret": {
		description: "A plain-case cookie (issued on secret A) presented to a server on secret C sharing the same database: 200 null without Set-Cookie.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL },
		verifierEnv: { BETTER_AUTH_SECRET: SECRET_C, BETTER_AUTH_URL: LOCAL },
		flow: "two-servers",
	},
	"no-row": {
		description: "A random 32-character token correctly HMAC-signed with secret A but with no session row: 200 null plus clearing Set-Cookie lines.",
		env: { BETTER_AUTH_SECRET: SECRET_A, BETTER_AUTH_URL: LOCAL },
		flow: "no-row",
	},
	// Extra cases (not in the original brief), for secret-handling diagnostics.
	"weak-secret": {
		description: "BETTER_AUTH_SECRET=\"changeme\": the server still starts and signs with it, but logs its short and low-entropy warnings (see server_log).",
		env: { BETTER_AUTH_SECRET: "changeme", BETTER_AUTH_URL: LOCAL },
		flow: "standard",
	},
	"secret-whitespace": {
		description: "BETTER_AUTH_SECRET = secret A plus a trailing space and newline: better-auth does not trim it, so cookies are signed with the untrimmed value.",
		env: { BETTER_AUTH_SECRET: `${SECRET_A} \n`, BETTER_AUTH_URL: LOCAL },
		flow: "standard",
	},
};
