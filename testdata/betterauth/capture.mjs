// capture.mjs: regenerates testdata/fixtures/<case>.json from a real
// better-auth (the version pinned in package.json). Run: npm run capture
// (after npm ci). Optional arguments: case names to capture only those.
//
// Each case runs in its own child process (capture-case.mjs) whose
// environment is EXACTLY PATH, HOME and that case's variables (cases.mjs):
// nothing else is inherited, so no BETTER_AUTH_* of the caller leaks in.
// Output is deterministic apart from random tokens, ids, signatures over them
// and timestamps.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { CASES } from "./cases.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = join(here, "..", "fixtures");
const EXPECTED_VERSION = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).dependencies["better-auth"];

function run(caseName, env, outFile) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [join(here, "capture-case.mjs"), caseName, outFile], {
			cwd: here,
			env,
			stdio: ["ignore", "pipe", "pipe"],
		});
		let log = "";
		child.stdout.on("data", (d) => (log += d));
		child.stderr.on("data", (d) => (log += d));
		const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
		child.on("error", reject);
		child.on("close", (code, signal) => {
			clearTimeout(timer);
			if (code === 0) resolve(log);
			else reject(new Error(`case ${caseName}: child exited ${code ?? signal}\n${log}`));
		});
	});
}

const only = process.argv.slice(2);
for (const name of only) if (!CASES[name]) throw new Error(`unknown case ${name}`);
const names = only.length ? only : Object.keys(CASES);

mkdirSync(fixturesDir, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), "authtui-capture-"));
const started = Date.now();
try {
	for (const name of names) {
		const def = CASES[name];
		const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...def.env };
		const outFile = join(tmp, `${name}.json`);
		const log = await run(name, env, outFile);
		const raw = JSON.parse(readFileSync(outFile, "utf8"));
		if (raw.better_auth_version !== EXPECTED_VERSION) {
			throw new Error(`installed better-auth ${raw.better_auth_version}, package.json pins ${EXPECTED_VERSION}: run npm ci`);
		}
		const split = (vars) => {
			const ba = {};
			const fx = {};
			for (const [k, v] of Object.entries(vars)) (k.startsWith("FIXTURE_") ? fx : ba)[k] = v;
			return [ba, fx];
		};
		const [baEnv] = split(def.verifierEnv ?? def.env);
		const fixture = {
			case: name,
			better_auth_version: raw.better_auth_version,
			description: def.description,
			env: baEnv,
			fixture_options: raw.fixture_options,
			session_token: raw.session_token,
			exchanges: raw.exchanges,
			cookie_header: raw.cookie_header,
			resolved_secret: raw.resolved_secret,
			session_row: raw.session_row,
		};
		if (def.verifierEnv) {
			const [issuerEnv] = split(def.env);
			fixture.issuer_env = issuerEnv;
			fixture.issuer_fixture_options = raw.issuer_fixture_options;
			fixture.issuer_resolved_secret = raw.issuer_resolved_secret;
			fixture.note =
				"Two auth instances in one process sharing one memory database: the issuer (issuer_env) handles the exchanges marked server=issuer; " +
				"then process.env is replaced by env (plus PATH/HOME) and the verifier is built and answers server=verifier. " +
				"better-auth reads secrets and base URL when each instance's context is created; only NODE_ENV is cached at import.";
		}
		fixture.server_log = log.split("\n").filter((l) => l !== "");
		writeFileSync(join(fixturesDir, `${name}.json`), JSON.stringify(fixture, null, 2) + "\n");
		const last = raw.exchanges[raw.exchanges.length - 1];
		console.log(`${name.padEnd(22)} ${raw.exchanges.map((e) => `${e.name}=${e.status}`).join(" ")}  last body: ${last.body === null ? "null" : "session"}`);
	}
} finally {
	rmSync(tmp, { recursive: true, force: true });
}
console.log(`wrote ${names.length} fixture(s) to ${fixturesDir} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
