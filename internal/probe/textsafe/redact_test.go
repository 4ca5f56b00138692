package textsafe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The corpus of credential shapes: each case names the credential (gone
// from the output, its middle included) and the text around it (kept, so
// the line stays readable). The secrets are made up for this test; the
// shapes are those of real log lines, headers, env files and commands.
var redactCorpus = []struct {
	name, in string
	gone     []string // must not appear in the output
	kept     []string // must still appear
}{
	{"postgres URL with password", "connecting to postgres://app:S3cr3t-pa55w0rd@db.internal:5432/app?sslmode=require",
		[]string{"S3cr3t-pa55w0rd", "pa55"}, []string{"postgres://app:", "@db.internal:5432/app", "sslmode=require"}},
	{"password with an unencoded @", "url=postgresql://svc:p@ss@word@10.0.0.5/app",
		[]string{"p@ss", "ss@word", "word@10"}, []string{"postgresql://svc:", "@10.0.0.5/app"}},
	{"https userinfo", "GET https://admin:hunter2hunter2@auth.example.com/api/auth/ok 200",
		[]string{"hunter2"}, []string{"https://admin:", "auth.example.com/api/auth/ok 200"}},
	{"token as URL user", "fetch https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/x.git",
		[]string{"16C7e42F292c6912E7710c838347Ae178B4a", "6912E7710c"}, []string{"https://ghp_16…@github.com/x.git"}},
	{"redis URL", "REDIS_URL=redis://default:AXk9ZmQ4ZjQ2LTQ@eu1-fine-bee.upstash.io:6379",
		[]string{"AXk9ZmQ4ZjQ2LTQ"}, []string{"REDIS_URL=redis://default:", "upstash.io:6379"}},
	{"Authorization Basic", "Authorization: Basic YWRtaW46aHVudGVyMmh1bnRlcjI=",
		[]string{"YWRtaW46aHVudGVyMmh1bnRlcjI", "YWRtaW"}, []string{"Authorization: Basic …"}},
	{"Authorization Bearer", "authorization: Bearer Ab12Cd34Ef56Gh78Ij90", []string{"34Ef56Gh78Ij90"}, []string{"authorization: Bearer Ab12Cd…"}},
	{"Authorization in JSON", `{"headers":{"authorization":"Basic dXNlcjpwYXNzd29yZDEyMw=="}}`,
		[]string{"dXNlcjpwYXNzd29yZDEyMw"}, []string{`"authorization":"Basic …"`}},
	{"bare bearer", "retrying with bearer Zx81Yw72Vu63Ts54Rq45Po36 after 401", []string{"72Vu63Ts54Rq45Po36"}, []string{"retrying with bearer Zx81Yw…", "after 401"}},
	{"Cookie header", "Cookie: theme=dark; better-auth.session_token=Vm0oxIb4jXhq0Y3EeUmYkQ1cK8CWLUVS.dXz%2BLeTgG0vKMGJx3h4ZMB7eD1Y2LSkVhqzUyk4nB6I%3D; lang=en",
		[]string{"jXhq0Y3EeUmYkQ1cK8CWLUVS", "dXz%2BLeTgG0vKMGJx3h4ZMB7eD1Y2LSkVhqzUyk4nB6I", "dark"}, []string{"Cookie: theme=…; better-auth.session_token=Vm0oxI…; lang=…"}},
	{"Set-Cookie keeps its attributes", "Set-Cookie: better-auth.session_token=Ab12Cd34Ef56Gh78.sig%2Bsig%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
		[]string{"34Ef56Gh78", "sig%2Bsig"}, []string{"Set-Cookie: better-auth.session_token=Ab12Cd…; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"}},
	{"api_key assignment", "GET /v1/data?x=1 api_key=sk_live_51HqQk2EZvKYlo2C0aBcDeFgH status=200",
		[]string{"51HqQk2EZvKYlo2C0aBcDeFgH", "sk_live"}, []string{"api_key=… status=200"}},
	{"x-api-key header", "x-api-key: 4f1c9e2b7a6d5c3e8f0a1b2c", []string{"4f1c9e2b7a6d5c3e8f0a1b2c", "4f1c9e"}, []string{"x-api-key: …"}},
	{"apikey header", "apikey: qwertyuiop123", []string{"qwertyuiop123"}, []string{"apikey: …"}},
	{"password colon", "DB_PASSWORD: correcthorse", []string{"correcthorse"}, []string{"DB_PASSWORD: …"}},
	{"password assignment", "user=app password=hunter2 host=db", []string{"hunter2"}, []string{"user=app password=… host=db"}},
	{"JSON password", `POST /api/auth/sign-in/email {"email":"ada@example.com","password":"Tr0ub4dor-and-3-horses"}`,
		[]string{"Tr0ub4dor", "3-horses"}, []string{`"email":"ada@example.com","password":"…"}`}},
	{"multi-word quoted password", `login failed for ada: password "correct horse battery staple" rejected`,
		[]string{"correct horse", "battery", "staple"}, []string{`login failed for ada: password "…" rejected`}},
	{"multi-word password assignment", `PGPASSWORD='correct horse battery' psql -h db`, []string{"correct horse", "battery"}, []string{"PGPASSWORD='…' psql -h db"}},
	{"unterminated quoted password", `password="correct horse battery`, []string{"correct", "horse", "battery"}, []string{`password="…`}},
	{"SQL password", "ALTER ROLE app WITH LOGIN PASSWORD 'S3cr3t pass phrase';", []string{"S3cr3t", "pass phrase"}, []string{"ALTER ROLE app WITH LOGIN PASSWORD '…';"}},
	{"env secret", "BETTER_AUTH_SECRET=authtui-fixture-secret-A-0123456789abcdef", []string{"fixture-secret", "0123456789abcdef"}, []string{"BETTER_AUTH_SECRET=…"}},
	{"rotated secrets", "BETTER_AUTH_SECRETS=2:newnewnewnewnew2222,1:oldoldoldoldold1111", []string{"newnewnew", "oldoldold"}, []string{"BETTER_AUTH_SECRETS=…"}},
	{"secret colon with a credential", "secret: Zq4mN8pL2xR7", []string{"Zq4mN8pL2xR7"}, []string{"secret: …"}},
	{"token flag", "vercel logs my-app --token Yx2cV9bN4mK7qW1eR8tZ3uI6", []string{"V9bN4mK7qW1eR8tZ3uI6"}, []string{"vercel logs my-app --token Yx2cV9…"}},
	{"password flag", "mysql --password hunter2hunter2 -h db", []string{"hunter2"}, []string{"mysql --password … -h db"}},
	{"token in the query", "GET /api/auth/verify-email?token=eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jIn0.c2lnbmF0dXJl&callbackURL=/home 302",
		[]string{"eyJlbWFpbCI6ImFAYi5jIn0", "c2lnbmF0dXJl"}, []string{"GET /api/auth/verify-email?token=eyJhbG…&callbackURL=/home 302"}},
	{"code and sig in the query", "GET /callback?code=4/0AeaYSHB8x9z&state=abc&sig=Q2hhbmdlTWU 200",
		[]string{"0AeaYSHB8x9z", "Q2hhbmdlTWU"}, []string{"GET /callback?code=…&state=abc&sig=… 200"}},
	{"reset-password token in the path", "GET /api/auth/reset-password/xK3c9Vb2Nq8LmZ7pR4tY1wE6?callbackURL=%2Freset 302",
		[]string{"xK3c9Vb2Nq8LmZ7pR4tY1wE6", "Nq8LmZ7"}, []string{"GET /api/auth/reset-password/…?callbackURL=%2Freset 302"}},
	{"verify-email token in the path", "link: https://app.example.com/verify-email/Qw8Er7Ty6Ui5Op4As3Df2Gh1", []string{"Qw8Er7Ty6Ui5Op4As3Df2Gh1"}, []string{"link: https://app.example.com/verify-email/…"}},
	{"signed BetterAuth token", "got cookie Vm0oxIb4jXhq0Y3EeUmYkQ1cK8CWLUVS.dXz+LeTgG0vKMGJx3h4ZMB7eD1Y2LSkVhqzUyk4nB6I= from the browser",
		[]string{"jXhq0Y3EeUmYkQ1cK8CWLUVS", "LeTgG0vKMGJx"}, []string{"got cookie Vm0oxI… from the browser"}},
	{"JWT", "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
		[]string{"eyJzdWIiOiIxMjM0NTY3ODkwIn0", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}, []string{"jwt eyJhbG… ok"}},
	{"long token-like word", "issued AbCdEf0123456789GhIjKlMnOpQrStUvWxYz9876543210zz for ada",
		[]string{"0123456789GhIjKlMnOpQrStUvWxYz"}, []string{"issued AbCdEf… for ada"}},
	{"hex key", "key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 loaded",
		[]string{"884c7d659a2feaa0c55ad015a3bf4f1b"}, []string{"key 9f86d0… loaded"}},
	{"session token assignment", "better-auth.session_token=Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56", []string{"34Ef56Gh78Ij90Kl12Mn34Op56"}, []string{"better-auth.session_token=Ab12Cd…"}},
	{"set-auth-token header", "set-auth-token: Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56", []string{"34Ef56Gh78Ij90Kl12Mn34Op56"}, []string{"set-auth-token: Ab12Cd…"}},
	{"JSON token", `{"token":"Ab12Cd34Ef56Gh78Ij90"}`, []string{"34Ef56Gh78Ij90"}, []string{`{"token":"Ab12Cd…"}`}},
}

func TestRedactCorpus(t *testing.T) {
	for _, c := range redactCorpus {
		t.Run(c.name, func(t *testing.T) {
			got := Redact(c.in)
			for _, g := range c.gone {
				if strings.Contains(got, g) {
					t.Errorf("Redact kept %q:\n in: %s\nout: %s", g, c.in, got)
				}
			}
			for _, k := range c.kept {
				if !strings.Contains(got, k) {
					t.Errorf("Redact lost %q:\n in: %s\nout: %s", k, c.in, got)
				}
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact is not idempotent:\n once: %s\ntwice: %s", got, again)
			}
		})
	}
}

// Redact leaves authtui's own prose and the values it prints on purpose
// alone: finding messages, source labels (paths, test directories),
// fingerprints, token prefixes, session ids, cursors, user agents, and the
// examples of the README and the findings catalogue that hold no credential.
func TestRedactKeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{
		"sources resolve to 2 different secrets: auth-service/.env (fingerprint 6bb55a6ce944) vs api/.env (fingerprint b530b81f1ec6)",
		"sources resolve to 2 different secrets: /tmp/TestConsoleEndToEnd2634875331/001/auth.env (fingerprint 640ba7b44d33)",
		"/tmp/TestScenarios_cache-outlives-session2634875331/002/api.env",
		"/tmp/TestSessionsJSONEscapesHostileUserAgent1234567/001/auth.env",
		"looking up the token: connection refused",
		"GET /api/auth/get-session 200 6.5ms session=found",
		"2026-11-27T09:40:11.307Z,jpqFCKp6N39NyT1ej6JjoFGUBwVAHVyK",
		"session JQ0YIMSKN6gY0lXCeODJb3uF7rqsFpNs of demo@example.com",
		"token Vm0oxI… (url-encoded)",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"the API http://127.0.0.1:40471/api/me answered 401 {\"error\":\"unauthorized\"}",
		"postgres://app@127.0.0.1:5432/app",
		"BETTER_AUTH_TRUSTED_ORIGINS=https://a.example,https://b.example",
		"BETTER_AUTH_SECRET_ROTATION_FOR_THE_API_SERVICE_NOTE is not read",
		"pass --email and --password-env, or use --replay-session",
		"password from --password-env VAR or a prompt, never a flag value",
		"sign-in answered 401 INVALID_EMAIL_OR_PASSWORD: wrong email or password for ada@example.com",
		"getSessionCookieCacheStrategyCompactJWTOrJWEFallbackWithLongName",
		"Set-Cookie: better-auth.session_token=Vm0oxI…; Path=/; HttpOnly",
		"secret-mismatch",
		"better-auth.session_token: no candidate secret (9 tried, from every source and the built-in default) verifies it",
		"the server expires better-auth.session_token: it accepted the signature but found no valid session row",
		"2 different secrets: 640ba7b44d33 = testdata/fixtures/env/auth.env; b530b81f1ec6 = testdata/fixtures/env/api.env",
		"a curl command, `Authorization: Bearer …`, DevTools cookie rows",
		"entry 2 is \" https://b.example\"",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact changed ordinary text:\n in: %s\nout: %s", s, got)
		}
	}
}

// The finding catalogue's prose must come through Redact untouched (only
// the lines without a credential example: those are cut, as they should).
func TestRedactKeepsTheCatalogue(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "findings.md"))
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if got := Redact(line); got != line {
			t.Errorf("Redact changed a line of docs/findings.md:\n in: %s\nout: %s", line, got)
		}
	}
}

func TestTokenLike(t *testing.T) {
	for w, want := range map[string]bool{
		"AbCdEf0123456789GhIjKlMnOpQrStUvWxYz9876543210":     true,
		"dXz-LeTgG0vKMGJx3h4ZMB7eD1Y2LSkVhqzUyk4nB6I_q9w":    true,
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c":   true,
		"TestScenarios_cache-outlives-session2634875331":     false,
		"TestLoginFlowAgainstBetterAuthWithAPIURL3214569870": false,
		"BETTER_AUTH_SECRET_ROTATION_FOR_THE_API_SERVICE":    false,
		"jpqFCKp6N39NyT1ej6JjoFGUBwVAHVyK":                   false, // 32: a session id
	} {
		if got := tokenLike(w); got != want {
			t.Errorf("tokenLike(%q) = %v, want %v", w, got, want)
		}
	}
}

func TestSafeValue(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@auth.example.com/api/auth?x=1": "https://auth.example.com/api/auth?…",
		"http://localhost:3000":                         "http://localhost:3000",
		"evil\u009b31m\u202etxt\x7f":                    `evil\u009b31m\u202etxt\x7f`,
		"password=hunter2":                              "password=…",
	} {
		if got := SafeValue(in); got != want {
			t.Errorf("SafeValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	for _, c := range redactCorpus {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if Redact(out) != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, Redact(out))
		}
	})
}

func BenchmarkRedactLogLine(b *testing.B) {
	line := `2026-12-01T11:06:04.262Z http POST /api/auth/sign-in/email 200 12.4ms ip=127.0.0.1 ua="Mozilla/5.0 (X11; Linux x86_64)" session=found`
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		Redact(line)
	}
}
