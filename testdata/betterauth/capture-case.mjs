// capture-case.mjs <case> <out.json>
// Runs ONE fixture case in this process, with the environment capture.mjs gave
// it: builds the auth instance(s) with auth.mjs (memory adapter), drives
// auth.handler(new Request(...)) in process (no network) the way a browser
// would (a cookie jar, Origin on POSTs), and writes the raw capture to
// <out.json>. capture.mjs adds the server log and writes the fixture.

import { createHmac, randomInt } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { CASES } from "./cases.mjs";
import { createAuth } from "./auth.mjs";

const [caseName, outFile] = process.argv.slice(2);
const def = CASES[caseName];
if (!def || !outFile) {
	console.error(`usage: node capture-case.mjs <case> <out.json>; cases: ${Object.keys(CASES).join(", ")}`);
	process.exit(2);
}

const EMAIL = "alice@example.com";
const PASSWORD = "authtui-fixture-password";
const NAME = "Alice Fixture";

// ---- a minimal browser-like cookie jar -------------------------------------
// name -> value, kept in creation order; a Set-Cookie with Max-Age<=0 deletes.
// Values are kept exactly as the server sent them (still URL-encoded).
class CookieJar {
	constructor() {
		this.cookies = new Map();
	}
	apply(setCookieLines) {
		for (const line of setCookieLines) {
			const [pair, ...attrs] = line.split(";");
			const eq = pair.indexOf("=");
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const maxAge = attrs
				.map((a) => a.trim())
				.find((a) => a.toLowerCase().startsWith("max-age="));
			if (maxAge !== undefined && Number(maxAge.slice(8)) <= 0) this.cookies.delete(name);
			else this.cookies.set(name, value);
		}
	}
	header() {
		return [...this.cookies].map(([n, v]) => `${n}=${v}`).join("; ");
	}
}

// ---- exchanges --------------------------------------------------------------
const exchanges = [];
const jar = new CookieJar();

async function exchange(server, name, method, path, { body, headers = {}, useJar = true, label } = {}) {
	const url = new URL(`/api/auth${path}`, server.baseURL).toString();
	const requestHeaders = { ...headers };
	if (method !== "GET") {
		requestHeaders.origin = server.origin;
		requestHeaders["content-type"] = "application/json";
	}
	if (useJar && jar.cookies.size > 0) requestHeaders.cookie = jar.header();
	const res = await server.auth.handler(
		new Request(url, {
			method,
			headers: requestHeaders,
			body: body === undefined ? undefined : JSON.stringify(body),
		}),
	);
	const setCookie = res.headers.getSetCookie();
	const text = await res.text();
	let parsed = null;
	if (text !== "") {
		try {
			parsed = JSON.parse(text);
		} catch {
			parsed = text;
		}
	}
	const responseHeaders = {};
	for (const [k, v] of res.headers) if (k !== "set-cookie") responseHeaders[k] = v;
	const ex = {
		name,
		...(label ? { server: label } : {}),
		method,
		url,
		request_headers: requestHeaders,
		...(body === undefined ? {} : { request_body: body }),
		status: res.status,
		set_cookie: setCookie,
		set_auth_token: res.headers.get("set-auth-token"),
		response_headers: responseHeaders,
		body: parsed,
	};
	exchanges.push(ex);
	jar.apply(setCookie);
	return ex;
}

// ---- servers -----------------------------------------------------------------
async function startServer(memoryDb) {
	const built = await createAuth({ memoryDb });
	const ctx = await built.auth.$context;
	const baseURL = ctx.options.baseURL; // origin better-auth resolved from BETTER_AUTH_URL
	return { ...built, baseURL, origin: new URL(baseURL).origin };
}

function replaceEnv(vars) {
	const keep = { PATH: process.env.PATH, HOME: process.env.HOME };
	for (const k of Object.keys(process.env)) delete process.env[k];
	for (const [k, v] of Object.entries({ ...keep, ...vars })) if (v !== undefined) process.env[k] = v;
}

function userBody() {
	if (!def.bigUser) return { email: EMAIL, password: PASSWORD, name: NAME };
	// Several KB, so the cookie cache exceeds better-auth's per-cookie limit.
	return {
		email: EMAIL,
		password: PASSWORD,
		name: `${NAME} ${"long-name-".repeat(200)}`.trim(),
		image: `https://cdn.example.com/avatars/alice.png?padding=${"0123456789abcdef".repeat(250)}`,
	};
}

async function signUpAndIn(server, label) {
	await exchange(server, "sign-up", "POST", "/sign-up/email", { body: userBody(), label });
	const signInBody = { email: EMAIL, password: PASSWORD };
	if (def.rememberMe !== undefined) signInBody.rememberMe = def.rememberMe;
	return exchange(server, "sign-in", "POST", "/sign-in/email", { body: signInBody, label });
}

function sessionRow(memoryDb, token) {
	const row = memoryDb.session.find((s) => s.token === token);
	return row ? JSON.parse(JSON.stringify(row)) : null;
}

// ---- flows ---------------------------------------------------------------------
// resolved_secret: the current secret better-auth resolved (ctx.secret of the
// server that answered last), read from its context, not from our env.
const result = { fixture_options: null, session_token: null, session_row: null, resolved_secret: null };

if (def.flow === "standard" || def.flow === "bearer") {
	const server = await startServer();
	result.fixture_options = server.fixture;
	const signIn = await signUpAndIn(server);
	if (def.flow === "bearer") {
		await exchange(server, "get-session-bearer", "GET", "/get-session", {
			headers: { authorization: `Bearer ${signIn.set_auth_token}` },
			useJar: false,
		});
	} else {
		await exchange(server, "get-session", "GET", "/get-session");
	}
	result.session_row = sessionRow(server.memoryDb, signIn.body?.token);
	result.session_token = result.session_row?.token ?? null;
	result.resolved_secret = (await server.auth.$context).secret;
} else if (def.flow === "two-servers") {
	const issuer = await startServer();
	const signIn = await signUpAndIn(issuer, "issuer");
	await exchange(issuer, "get-session", "GET", "/get-session", { label: "issuer" });
	replaceEnv(def.verifierEnv);
	const verifier = await startServer(issuer.memoryDb);
	result.fixture_options = verifier.fixture;
	result.issuer_fixture_options = issuer.fixture;
	await exchange(verifier, "get-session-other-server", "GET", "/get-session", { label: "verifier" });
	result.session_row = sessionRow(issuer.memoryDb, signIn.body?.token);
	result.session_token = result.session_row?.token ?? null;
	result.issuer_resolved_secret = (await issuer.auth.$context).secret;
	result.resolved_secret = (await verifier.auth.$context).secret;
} else if (def.flow === "no-row") {
	const server = await startServer();
	result.fixture_options = server.fixture;
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	let token = "";
	for (let i = 0; i < 32; i++) token += alphabet[randomInt(alphabet.length)];
	// Signed like better-call's signCookieValue: HMAC-SHA256(secret, token) as
	// standard padded base64, "<token>.<sig>" URL-encoded. Computed here with
	// node:crypto, independently of better-auth.
	const sig = createHmac("sha256", process.env.BETTER_AUTH_SECRET).update(token).digest("base64");
	const ctx = await server.auth.$context;
	jar.cookies.set(ctx.authCookies.sessionToken.name, encodeURIComponent(`${token}.${sig}`));
	await exchange(server, "get-session", "GET", "/get-session");
	result.session_token = token;
	result.session_row = sessionRow(server.memoryDb, token);
	result.resolved_secret = ctx.secret;
} else {
	throw new Error(`unknown flow ${def.flow}`);
}

const pkg = JSON.parse(readFileSync(new URL("./node_modules/better-auth/package.json", import.meta.url), "utf8"));
writeFileSync(
	outFile,
	JSON.stringify({
		better_auth_version: pkg.version,
		...result,
		exchanges,
		cookie_header: jar.header(),
	}),
);
