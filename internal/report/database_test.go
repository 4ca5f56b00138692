package report

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/database"
)

// The health and sessions builders are tested on what the probes report
// about a real PostgreSQL with BetterAuth's own tables and rows.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func dbCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// dbProbe runs the probe `authtui db` runs.
func dbProbe(t *testing.T, url string) *database.Health {
	t.Helper()
	h, db := database.CheckHealth(dbCtx(t), database.Options{URL: url, ConnectTimeout: 5 * time.Second, StatementTimeout: 5 * time.Second}, 3, time.Millisecond)
	if db != nil {
		db.Close()
	}
	return h
}

// dbExec runs SQL as the test cluster's superuser.
func dbExec(t *testing.T, dsn, sql string) {
	t.Helper()
	conn, err := pgx.Connect(dbCtx(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(dbCtx(t), sql); err != nil {
		t.Fatal(err)
	}
}

// dbWithPassword puts a password into the URL: the test cluster trusts
// loopback, so it connects all the same, and no output may show it.
func dbWithPassword(dsn, pw string) string {
	return strings.Replace(dsn, "postgres://postgres@", "postgres://postgres:"+pw+"@", 1)
}

func dbWords(s string) string { return strings.Join(strings.Fields(s), " ") }

func dbText(bs []Block) string { return TextString(bs, TextOptions{Width: 100}) }

// dbHasFacts checks that out has every want, and every fact of bs.
func dbHasFacts(t *testing.T, what, out string, bs []Block, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
	// Prose is wrapped to the width: facts are compared on words.
	for _, w := range Facts(bs) {
		if !strings.Contains(dbWords(out), dbWords(w)) {
			t.Errorf("%s lacks the fact %q:\n%s", what, w, out)
		}
	}
}

func TestHealthConnected(t *testing.T) {
	dsn := pgtest.DSN(t)
	pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	url := dbWithPassword(dsn, "hunter2hunter2")
	h := dbProbe(t, url)
	if !h.Connected {
		t.Fatalf("not connected: %+v", h.Error)
	}
	bs := Health(h)
	out := dbText(bs)
	dbHasFacts(t, "text", out, bs,
		"Database", "target", h.Target.String(),
		"status      ✓ connected",
		"version     PostgreSQL "+h.ServerVersion,
		"TLS         off (loopback)",
		"read-only   yes",
		fmt.Sprintf("connections %d used of %d max", h.Connections, h.MaxConnections),
		fmt.Sprintf("latency     p50 %s, p95 %s over 3 pings", Duration(h.Latency.P50), Duration(h.Latency.P95)),
		"clock skew  "+Signed(h.ClockSkew)+" (db − local)",
		"Schema",
		"session table public.session",
		"expiry type   timestamp",
		"token index   ✓ unique",
		"user table    public.user",
		"orphans       ✓ none",
	)
	md := new(strings.Builder)
	if err := Markdown(md, bs, 2); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{out, md.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("the password is in the report:\n%s", out)
		}
		// Findings are the caller's to add, where it lists them.
		if strings.Contains(out, "Findings") || strings.Contains(out, "No findings") {
			t.Errorf("the health block lists findings:\n%s", out)
		}
	}
	if !strings.Contains(md.String(), "**session table** public.session") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestHealthUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := dbProbe(t, "postgres://app:topsecretpw@"+addr+"/app?sslmode=disable")
	if h.Connected || h.Error == nil || h.Error.Class != "refused" {
		t.Fatalf("a closed port: %+v", h)
	}
	bs := Health(h)
	out := dbText(bs)
	dbHasFacts(t, "text", out, bs, "target app@"+addr+"/app", "status ✗ unreachable (refused): ")
	if strings.Contains(out, "topsecretpw") || strings.Contains(out, "connected") || strings.Contains(out, "Schema") {
		t.Errorf("unreachable:\n%s", out)
	}
	if Health(nil)[0].Lines[0].Text() != "not checked" {
		t.Errorf("nil health: %+v", Health(nil))
	}
}

// An empty database: connected, and no session table where BetterAuth's
// would be.
func TestHealthNoSchema(t *testing.T) {
	h := dbProbe(t, pgtest.DSN(t))
	bs := Health(h)
	out := dbText(bs)
	dbHasFacts(t, "text", out, bs, "✓ connected", "Schema", "session table ✗ none found", "searched")
	if strings.Contains(out, "token index") || strings.Contains(out, "orphans") {
		t.Errorf("facts of a table that is not there:\n%s", out)
	}
}

// TLS reads as what it proves: an unverified certificate is not "on".
func TestHealthTLS(t *testing.T) {
	dsn := pgtest.DSN(t)
	ca := pgtest.WithTLS(t, dsn)
	mode := func(q string) string { return strings.Replace(dsn, "sslmode=disable", q, 1) }
	for _, tc := range []struct{ url, want string }{
		{mode("sslmode=require"), "TLS         ! on, certificate not verified (TLSv1."},
		{mode("sslmode=verify-ca&sslrootcert=" + ca), "TLS         ✓ on, certificate chain verified, not the host name (TLSv1."},
		{mode("sslmode=verify-full&sslrootcert=" + ca), "TLS         ✓ on, certificate verified (TLSv1."},
	} {
		h := dbProbe(t, tc.url)
		if out := dbText(Health(h)); !strings.Contains(out, tc.want) {
			t.Errorf("%s: want %q\n%s", tc.url, tc.want, out)
		}
		if tone := HealthTLS(h).Tone; (tone == Warn) != strings.Contains(tc.want, "!") {
			t.Errorf("%s: tone %v", tc.url, tone)
		}
	}
}

// Sessions whose user row is gone: counted as orphans by the health
// probe, and listed as such.
func TestHealthOrphans(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 2, SessionsPerUser: 1})
	dbDropUser(t, dsn, seed.Users[0].ID)
	h := dbProbe(t, dsn)
	bs := Health(h)
	dbHasFacts(t, "text", dbText(bs), bs, "orphans       ! 1 session whose user is gone")
}

// dbDropUser deletes a user and leaves its sessions behind. The foreign key
// would delete them with the user; a restored dump or a hand-made schema
// often has none, so the test drops it.
func dbDropUser(t *testing.T, dsn, id string) {
	t.Helper()
	dbExec(t, dsn, `DO $$ DECLARE c text; BEGIN
		FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'session'::regclass AND contype = 'f' LOOP
			EXECUTE format('ALTER TABLE session DROP CONSTRAINT %I', c);
		END LOOP; END $$`)
	dbExec(t, dsn, `DELETE FROM "user" WHERE id = '`+id+`'`)
}

func TestSigned(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", -7 * time.Second: "-7s", 12 * time.Millisecond: "+12.0ms", 1500 * time.Microsecond: "+1.5ms", -300 * time.Microsecond: "-300µs",
	} {
		if got := Signed(d); got != want {
			t.Errorf("Signed(%s) = %q, want %q", d, got, want)
		}
	}
}
