package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestSessionsCommand(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})

	r := run(t, "", "sessions", "--database-url", dsn, "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Sessions []map[string]any `json:"sessions"`
		Findings []any            `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Sessions) != len(seed.Sessions) {
		t.Fatalf("%d sessions, seeded %d", len(out.Sessions), len(seed.Sessions))
	}
	for _, key := range []string{"id", "user_id", "email", "token_prefix", "created_at", "expires_at", "ip_address", "user_agent", "active"} {
		if _, ok := out.Sessions[0][key]; !ok {
			t.Errorf("session lacks %q", key)
		}
	}
	// JSON keeps the hostile user agent, escaped (by the encoder, or as
	// the text output escapes it)...
	if strings.ContainsAny(r.stdout, "\x1b\x07") ||
		!strings.Contains(r.stdout, `evil\u001b]0;pwned\u0007agent`) && !strings.Contains(r.stdout, `evil\\x1b]0;pwned\\x07agent`) {
		t.Error("JSON should carry the user agent, escaped")
	}
	// ...and text shows it inert.
	r = run(t, "", "sessions", "--database-url", dsn, "--limit", "2")
	if r.code != exitOK || strings.ContainsAny(r.stdout, "\x1b\x07") {
		t.Fatalf("text output has raw control characters or failed (%d): %q", r.code, r.stdout)
	}
	// BetterAuth's schema has no index on the creation time, but on a
	// table this small every page is cheap: no hint (issue 14: hints
	// only when they matter).
	if !strings.Contains(r.stdout, "More: --after ") || strings.Contains(r.stdout, "CREATE INDEX") {
		t.Errorf("text output lacks the cursor, or hints at an index a small table does not need:\n%s", r.stdout)
	}
	cursor := strings.TrimSpace(strings.SplitN(strings.SplitN(r.stdout, "More: --after ", 2)[1], "\n", 2)[0])
	r2 := run(t, "", "sessions", "--database-url", dsn, "--limit", "2", "--after", cursor, "--json")
	if r2.code != exitOK || strings.Count(r2.stdout, `"token_prefix"`) != 2 {
		t.Errorf("second page: %d\n%s", r2.code, r2.stdout)
	}
	for _, s := range seed.Sessions {
		if strings.Contains(r.stdout+r2.stdout, s.Token) {
			t.Fatal("a full session token was printed")
		}
	}

	// DATABASE_URL from an env file.
	env := filepath.Join(t.TempDir(), "db.env")
	os.WriteFile(env, []byte("DATABASE_URL="+dsn+"\n"), 0o600)
	if r := run(t, "", "sessions", "--env-file", env, "--user", seed.Users[0].Email, "--json"); r.code != exitOK || strings.Count(r.stdout, `"token_prefix"`) != 2 {
		t.Errorf("--user via env file: %d %s", r.code, r.stderr)
	}

	// A table large enough for the sort to matter: the hint, with the
	// statement on a line of its own to copy.
	adminExec(t, dsn, `INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "userId", "ipAddress", "userAgent")
		SELECT 'bulk' || g, now() + interval '1 day', 'bulk-token-' || g, now() - interval '1 hour' - g * interval '1 second', now(), '`+seed.Users[0].ID+`', '', ''
		FROM generate_series(1, 50000) g`)
	r = run(t, "", "sessions", "--database-url", dsn, "--limit", "2")
	if !strings.Contains(r.stdout, "db-sessions-index-missing") || !strings.Contains(r.stdout, "\n    CREATE INDEX CONCURRENTLY \"session_created_id_idx\" ON \"public\".\"session\"") {
		t.Errorf("50,000 rows without the index: no hint\n%s", r.stdout)
	}
}

func TestDBCommandDeadDatabase(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	r := run(t, "", "db", "--database-url", "postgres://app:topsecretpw@"+addr+"/app?sslmode=disable", "--timeout", "2s")
	if r.code != exitFound || !strings.Contains(r.stdout, "db-unreachable") || !strings.Contains(r.stdout, "refused") {
		t.Fatalf("dead database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "topsecretpw") {
		t.Fatal("password printed")
	}
	r = run(t, "", "sessions", "--database-url", "postgres://app:topsecretpw@"+addr+"/app?sslmode=disable", "--json")
	if r.code != exitFound || !strings.Contains(r.stdout, `"db-unreachable"`) || strings.Contains(r.stdout, "topsecretpw") {
		t.Fatalf("sessions on a dead database: %d\n%s", r.code, r.stdout)
	}
}

func TestDBCommandHealthy(t *testing.T) {
	dsn := pgtest.DSN(t)
	pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	r := run(t, "", "db", "--database-url", dsn, "--pings", "3")
	if r.code != exitOK || !strings.Contains(r.stdout, "connected") || !strings.Contains(r.stdout, "public.session") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// decode looks the token up when a database is configured.
func TestDecodeLooksUpToken(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})
	env := filepath.Join(t.TempDir(), "auth.env")
	os.WriteFile(env, []byte("BETTER_AUTH_SECRET="+pgtest.SeedDefaultSecret+"\nDATABASE_URL="+dsn+"\n"), 0o600)

	cookie := seed.CookieName + "=" + seed.Sessions[1].Cookie
	r := run(t, "", "decode", "--env-file", env, cookie, "--json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"session-valid"`) || !strings.Contains(r.stdout, `"database": "checked"`) {
		t.Fatalf("valid cookie: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	adminExec(t, dsn, `DELETE FROM session WHERE id = '`+seed.Sessions[1].ID+`'`)
	r = run(t, "", "decode", "--env-file", env, cookie)
	if r.code != exitFound || !strings.Contains(r.stdout, "session-not-found") || !strings.Contains(r.stdout, "no session row") {
		t.Fatalf("deleted session: exit %d\n%s", r.code, r.stdout)
	}
}

func adminExec(t *testing.T, dsn, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// A DATABASE_URL that sets the search path with options=-c%20… connects,
// as psql and pgx connect with it (the query is passed on as written).
func TestDBURLWithOptions(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 2})
	adminExec(t, dsn, `ALTER SCHEMA public RENAME TO app`)
	adminExec(t, dsn, `CREATE SCHEMA public`)
	url := dsn + "&options=-c%20search_path%3Dapp"
	r := run(t, "", "sessions", "--database-url", url, "--json")
	if r.code != exitOK || strings.Count(r.stdout, `"token_prefix"`) != len(seed.Sessions) {
		t.Fatalf("sessions: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "db", "--database-url", url, "--pings", "1")
	if r.code != exitOK || !strings.Contains(r.stdout, "app.session") {
		t.Fatalf("db: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// db and check say what the TLS of the connection proves: an unverified
// certificate (sslmode prefer or require) is not shown as plain "TLS on".
func TestDBCommandTLSVerification(t *testing.T) {
	dsn := pgtest.DSN(t)
	ca := pgtest.WithTLS(t, dsn)
	mode := func(q string) string { return strings.Replace(dsn, "sslmode=disable", q, 1) }
	for _, tc := range []struct{ url, text, json string }{
		{mode("sslmode=require"), "! on, certificate not verified (TLSv1.", `"tls_verify": "none"`},
		{mode("sslmode=prefer"), "! on, certificate not verified (TLSv1.", `"tls_verify": "none"`},
		{mode("sslmode=verify-full&sslrootcert=" + ca), "✓ on, certificate verified (TLSv1.", `"tls_verify": "full"`},
		{dsn, "off (loopback)", `"tls": false`},
	} {
		// An empty database: db-schema-missing makes the exit 1 here.
		r := run(t, "", "db", "--database-url", tc.url, "--pings", "1")
		if !strings.Contains(r.stdout, tc.text) || strings.Contains(r.stdout, "TLS on") {
			t.Errorf("db %s: exit %d, want %q\n%s%s", tc.url, r.code, tc.text, r.stdout, r.stderr)
		}
		if r := run(t, "", "db", "--database-url", tc.url, "--pings", "1", "--json"); !strings.Contains(r.stdout, tc.json) {
			t.Errorf("db --json %s: want %s\n%s", tc.url, tc.json, r.stdout)
		}
		if r := run(t, "", "check", "--database-url", tc.url); !strings.Contains(r.stdout, tc.text) {
			t.Errorf("check %s: want %q\n%s%s", tc.url, tc.text, r.stdout, r.stderr)
		}
	}
}
