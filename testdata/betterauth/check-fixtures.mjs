// check-fixtures.mjs: re-derives, with node:crypto only (no better-auth code),
// what authtui relies on, from the captured fixtures in ../fixtures:
// cookie signatures, the compact / jwt / jwe cookie cache, chunking, rotation.
// Run: npm run check (after npm run capture). Exits non-zero on a mismatch.

import { createDecipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CASES, SECRET_A, SECRET_B, SECRET_C, BETTER_AUTH_DEFAULT_SECRET } from "./cases.mjs";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");
const load = (name) => JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"));
let failures = 0;
let passes = 0;
function check(label, ok, detail = "") {
	if (ok) passes++;
	else failures++;
	console.log(`${ok ? "ok  " : "FAIL"} ${label}${detail ? `: ${detail}` : ""}`);
}

const b64urlDecode = (s) => Buffer.from(s, "base64url");
const parseCookieHeader = (h) =>
	new Map(
		h
			.split("; ")
			.filter(Boolean)
			.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]),
	);
const setCookieParts = (line) => {
	const [pair, ...attrs] = line.split("; ");
	const eq = pair.indexOf("=");
	return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
};

/** Which known secret signed "<value>.<sig>" (HMAC-SHA256, padded std base64)? */
function signedBy(decoded, candidates) {
	const dot = decoded.lastIndexOf(".");
	const value = decoded.slice(0, dot);
	const sig = decoded.slice(dot + 1);
	for (const [label, secret] of Object.entries(candidates)) {
		if (createHmac("sha256", secret).update(value).digest("base64") === sig) return label;
	}
	return null;
}
const KNOWN = { A: SECRET_A, B: SECRET_B, C: SECRET_C, default: BETTER_AUTH_DEFAULT_SECRET };

function sessionDataValue(cookies, name) {
	if (cookies.has(name)) return cookies.get(name);
	const chunks = [...cookies]
		.filter(([n]) => n.startsWith(`${name}.`))
		.map(([n, v]) => [Number(n.slice(name.length + 1)), v])
		.sort((a, b) => a[0] - b[0]);
	return chunks.length ? chunks.map(([, v]) => v).join("") : null;
}

/** Compact: MAC over raw bytes of "session" with ,"expiresAt":N} appended. */
function verifyCompact(value, secret) {
	const json = b64urlDecode(value).toString("utf8");
	const outer = JSON.parse(json);
	const start = json.indexOf('{"session":') + '{"session":'.length;
	const end = json.lastIndexOf(',"expiresAt":');
	const rawS = json.slice(start, end);
	const rawExp = json.slice(end + ',"expiresAt":'.length, json.lastIndexOf(',"signature":'));
	const input = `${rawS.slice(0, -1)},"expiresAt":${rawExp}}`;
	const mac = createHmac("sha256", secret).update(input).digest("base64url");
	return { ok: mac === outer.signature, payload: outer.session, input, outer };
}

function verifyJwt(value, secret) {
	const [h, p, s] = value.split(".");
	const mac = createHmac("sha256", secret).update(`${h}.${p}`).digest("base64url");
	return { ok: mac === s, header: JSON.parse(b64urlDecode(h)), payload: JSON.parse(b64urlDecode(p)) };
}

function jweKey(secret) {
	return Buffer.from(hkdfSync("sha256", Buffer.from(secret), Buffer.from("better-auth-session"), Buffer.from("BetterAuth.js Generated Encryption Key"), 64));
}
function thumbprint(key) {
	return createHash("sha256").update(`{"k":"${key.toString("base64url")}","kty":"oct"}`).digest("base64url");
}
function decryptJwe(value, secret) {
	const [h, ek, iv, ct, tag] = value.split(".");
	const header = JSON.parse(b64urlDecode(h));
	const key = jweKey(secret);
	if (header.alg !== "dir" || header.enc !== "A256CBC-HS512" || ek !== "") return { ok: false, header };
	const aad = Buffer.from(h, "ascii");
	const al = Buffer.alloc(8);
	al.writeBigUInt64BE(BigInt(aad.length * 8));
	const macInput = Buffer.concat([aad, b64urlDecode(iv), b64urlDecode(ct), al]);
	const fullTag = createHmac("sha512", key.subarray(0, 32)).update(macInput).digest().subarray(0, 32);
	if (!timingSafeEqual(fullTag, b64urlDecode(tag))) return { ok: false, header, kidMatches: header.kid === thumbprint(key) };
	const d = createDecipheriv("aes-256-cbc", key.subarray(32), b64urlDecode(iv));
	const plain = Buffer.concat([d.update(b64urlDecode(ct)), d.final()]).toString("utf8");
	return { ok: true, header, kidMatches: header.kid === thumbprint(key), payload: JSON.parse(plain) };
}

for (const name of Object.keys(CASES)) {
	const fx = load(name);
	check(`${name}: better-auth version`, fx.better_auth_version === "1.7.25", fx.better_auth_version);
	const cookies = parseCookieHeader(fx.cookie_header);
	const tokenName = [...cookies.keys()].find((n) => n.endsWith(".session_token"));
	const last = fx.exchanges[fx.exchanges.length - 1];

	if (name === "no-row") {
		const sent = parseCookieHeader(last.request_headers.cookie);
		const v = decodeURIComponent(sent.get("better-auth.session_token"));
		check(`${name}: forged cookie signed by A`, signedBy(v, KNOWN) === "A");
		check(`${name}: 200 null with clearing lines`, last.status === 200 && last.body === null && last.set_cookie.length === 3 && last.set_cookie.every((l) => l.includes("=; Max-Age=0")), last.set_cookie.join(" | "));
		check(`${name}: no session row`, fx.session_row === null);
		continue;
	}

	const signed = decodeURIComponent(cookies.get(tokenName));
	const expectSigner = {
		"no-secret": "default",
		rotation: "B",
		"weak-secret": "weak",
		"secret-whitespace": "ws",
	}[name] ?? "A";
	const cands = { ...KNOWN, weak: "changeme", ws: `${SECRET_A} \n` };
	check(`${name}: session_token signed by ${expectSigner}`, signedBy(signed, cands) === expectSigner, signedBy(signed, cands));
	check(`${name}: token part is the session row token`, signed.slice(0, signed.lastIndexOf(".")) === fx.session_token && /^[A-Za-z0-9]{32}$/.test(fx.session_token));
	check(`${name}: signature is 44 chars ending in =`, /^[A-Za-z0-9+/]{43}=$/.test(signed.slice(signed.lastIndexOf(".") + 1)));
	if (name === "secret-whitespace") check(`${name}: NOT signed by the trimmed secret`, signedBy(signed, { A: SECRET_A }) === null);
	if (name === "plain-dont-remember") {
		const dr = decodeURIComponent(cookies.get("better-auth.dont_remember"));
		check(`${name}: dont_remember = "true" signed by A`, dr.startsWith("true.") && signedBy(dr, KNOWN) === "A");
	}
	if (name === "bearer") {
		const signIn = fx.exchanges.find((e) => e.name === "sign-in");
		check(`${name}: set-auth-token is the decoded cookie value`, signIn.set_auth_token === signed);
		check(`${name}: bearer get-session returns the session`, last.status === 200 && last.body?.session?.token === fx.session_token);
	}
	if (name === "wrong-secret" || name === "rotation-old-cookie") {
		check(`${name}: verifier answers 200 null without Set-Cookie`, last.server === "verifier" && last.status === 200 && last.body === null && last.set_cookie.length === 0);
	}

	const strategy = fx.fixture_options.FIXTURE_CACHE;
	const dataName = tokenName.replace(/session_token$/, "session_data");
	const data = sessionDataValue(cookies, dataName);
	if (strategy === "off") {
		check(`${name}: no session_data cookie`, data === null);
		continue;
	}
	const currentSecret = { rotation: SECRET_B }[name] ?? SECRET_A;
	if (strategy === "compact") {
		const r = verifyCompact(data, currentSecret);
		check(`${name}: compact signature (raw-bytes method)`, r.ok);
		check(`${name}: compact signing input = JSON.stringify({...S, expiresAt})`, r.input === JSON.stringify({ ...r.payload, expiresAt: r.outer.expiresAt }));
		check(`${name}: compact payload session.session.token`, r.payload.session.token === fx.session_token, Object.keys(r.payload).join(","));
		if (name === "cache-chunked") {
			const names = [...cookies.keys()].filter((n) => n.startsWith(dataName));
			check(`${name}: chunked into ${names.join(", ")}`, names.length > 1 && !cookies.has(dataName));
		}
	} else if (strategy === "jwt") {
		const r = verifyJwt(data, currentSecret);
		check(`${name}: jwt HS256 with secret bytes`, r.ok && r.header.alg === "HS256", JSON.stringify(r.header));
		check(`${name}: jwt payload session.token`, r.payload.session.token === fx.session_token, Object.keys(r.payload).join(","));
	} else if (strategy === "jwe") {
		const r = decryptJwe(data, currentSecret);
		check(`${name}: jwe decrypts with HKDF key of current secret, kid = thumbprint`, r.ok && r.kidMatches, JSON.stringify(r.header));
		check(`${name}: jwe payload session.token`, r.ok && r.payload.session.token === fx.session_token, r.ok ? Object.keys(r.payload).join(",") : "");
	}
}

console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
