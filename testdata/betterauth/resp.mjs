// resp.mjs: a minimal Redis client (RESP2 over one TCP connection) for the
// test server's secondaryStorage, so the fixtures need no npm package
// beyond better-auth and pg. It speaks only what secondaryStorage uses:
// GET, SET with EX, DEL. Test-only: no pooling, no TLS, no AUTH beyond a
// password in the URL.

import net from "node:net";

export function redisClient(url) {
	const u = new URL(url);
	const socket = net.createConnection({ host: u.hostname, port: Number(u.port || 6379) });
	socket.setNoDelay(true);
	const waiting = [];
	let buf = Buffer.alloc(0);
	let broken = null;

	socket.on("data", (chunk) => {
		buf = Buffer.concat([buf, chunk]);
		for (;;) {
			const parsed = parse(buf, 0);
			if (!parsed) break;
			buf = buf.subarray(parsed.end);
			const w = waiting.shift();
			if (!w) continue;
			if (parsed.value instanceof Error) w.reject(parsed.value);
			else w.resolve(parsed.value);
		}
	});
	const fail = (err) => {
		broken = err;
		while (waiting.length) waiting.shift().reject(err);
	};
	socket.on("error", fail);
	socket.on("close", () => fail(new Error("redis connection closed")));

	function command(...args) {
		if (broken) return Promise.reject(broken);
		return new Promise((resolve, reject) => {
			waiting.push({ resolve, reject });
			let out = `*${args.length}\r\n`;
			for (const a of args) {
				const s = String(a);
				out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
			}
			socket.write(out);
		});
	}
	const ready = u.password ? command("AUTH", decodeURIComponent(u.password)) : Promise.resolve();
	return {
		async get(key) {
			await ready;
			return command("GET", key);
		},
		async set(key, value, ttl) {
			await ready;
			if (ttl) return command("SET", key, value, "EX", Math.max(1, Math.floor(ttl)));
			return command("SET", key, value);
		},
		async delete(key) {
			await ready;
			await command("DEL", key);
		},
		close() {
			socket.end();
		},
	};
}

// parse reads one RESP value at off; null when the buffer holds less.
function parse(b, off) {
	if (off >= b.length) return null;
	const nl = b.indexOf("\r\n", off);
	if (nl < 0) return null;
	const type = String.fromCharCode(b[off]);
	const line = b.toString("utf8", off + 1, nl);
	const next = nl + 2;
	switch (type) {
		case "+":
			return { value: line, end: next };
		case "-":
			return { value: new Error(line), end: next };
		case ":":
			return { value: Number(line), end: next };
		case "$": {
			const n = Number(line);
			if (n < 0) return { value: null, end: next };
			if (b.length < next + n + 2) return null;
			return { value: b.toString("utf8", next, next + n), end: next + n + 2 };
		}
		case "*": {
			const n = Number(line);
			if (n < 0) return { value: null, end: next };
			const out = [];
			let at = next;
			for (let i = 0; i < n; i++) {
				const p = parse(b, at);
				if (!p) return null;
				out.push(p.value);
				at = p.end;
			}
			return { value: out, end: at };
		}
	}
	return { value: new Error("bad RESP type " + type), end: next };
}
