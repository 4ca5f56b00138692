package database

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
)

// Only the ORM parameters go; the rest of the URL stays byte for byte,
// "%20" included (libpq and pgx do not read "+" as a space).
func TestStripNonLibpqKeepsTheQuery(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h/db?options=-c%20search_path%3Dapp":                               "postgres://u:p@h/db?options=-c%20search_path%3Dapp",
		"postgres://u:p@h/db?schema=app&options=-c%20search_path%3Dapp&connection_limit=1": "postgres://u:p@h/db?options=-c%20search_path%3Dapp",
		"postgresql://u@h:6543/db?pgbouncer=true":                                          "postgresql://u@h:6543/db",
		"postgres://u:p%3Fq@h/db?sslmode=require&application_name=a+b":                     "postgres://u:p%3Fq@h/db?sslmode=require&application_name=a+b",
		// libpq's user info ends at the last "@" before any "/": a "?" in
		// an unencoded password is not the query.
		"postgres://u:p?x@h/db?schema=s": "postgres://u:p?x@h/db",
		// Several hosts are not one URL to Go's parser, but are to libpq.
		"postgres://u@h1:5432,h2:5433/db?schema=s&target_session_attrs=read-write": "postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write",
		"postgres://u@h/db":                     "postgres://u@h/db",
		"host=h user=u options='-c x=y'":        "host=h user=u options='-c x=y'",
		"postgres://u@h/db?%73chema=s&a=1":      "postgres://u@h/db?a=1",
		"postgres://u@h/db?sslmode=disable&":    "postgres://u@h/db?sslmode=disable&",
		"postgres://u@h/db?schema=only":         "postgres://u@h/db",
		"postgres://u:p@h/db?password=x&a=%2B1": "postgres://u:p@h/db?password=x&a=%2B1",
	} {
		if got := stripNonLibpq(in); got != want {
			t.Errorf("stripNonLibpq(%q) = %q, want %q", in, got, want)
		}
	}
}

// A DATABASE_URL that sets the search path through options connects, as
// psql connects with it, and the setting holds on authtui's connection.
func TestOptionsSearchPathAsPsqlReadsIt(t *testing.T) {
	dsn, seed := seeded(t)
	admin(t, dsn, `ALTER SCHEMA public RENAME TO app`, `CREATE SCHEMA public`)
	url := dsn + "&options=-c%20search_path%3Dapp&schema=app"

	db := open(t, url, nil)
	var path string
	if err := db.pool.QueryRow(ctx(t), "SHOW search_path").Scan(&path); err != nil {
		t.Fatal(err)
	}
	if path != "app" {
		t.Errorf("search_path %q on authtui's connection, want app", path)
	}
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, "-X", "-A", "-t", "-d", strings.TrimSuffix(url, "&schema=app"), "-c", "SHOW search_path").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != path {
			t.Errorf("psql reads the URL otherwise: %v %s", err, out)
		}
	}
	s, fs, err := db.DetectSchema(ctx(t))
	if err != nil || s.Session == nil || s.Session.Schema != "app" || fs.HasError() {
		t.Fatalf("schema %+v, findings %v, %v", s, fs, err)
	}
	p, err := db.Sessions(ctx(t), s, SessionQuery{})
	if err != nil || len(p.Sessions) != len(seed.Sessions) {
		t.Fatalf("sessions in app: %v", err)
	}
	h, db2 := CheckHealth(ctx(t), Options{URL: url}, 1, 0)
	if db2 == nil || h.Findings.Has(finding.DBUnreachable) {
		t.Fatalf("health: %+v", h)
	}
	db2.Close()
}

// More pings than the window keeps would never complete (the window
// never holds more than MaxPings): CheckHealth takes at most MaxPings,
// without waiting for its context to run out.
func TestCheckHealthPingsBounded(t *testing.T) {
	dsn := pgtest.DSN(t)
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		h  *Health
		db *DB
	}
	done := make(chan result, 1)
	go func() {
		h, db := CheckHealth(c, Options{URL: dsn}, 10*MaxPings, 0)
		done <- result{h, db}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute): // a hang guard, not a speed goal
		cancel()
		r = <-done
		t.Errorf("CheckHealth with %d pings ran until cancelled", 10*MaxPings)
	}
	if r.db == nil {
		t.Fatalf("not connected: %+v", r.h.Error)
	}
	defer r.db.Close()
	if r.h.Latency.Samples != MaxPings {
		t.Errorf("%d samples, want %d", r.h.Latency.Samples, MaxPings)
	}
}
