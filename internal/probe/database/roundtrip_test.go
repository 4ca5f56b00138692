package database

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/latproxy"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
)

// counted puts a proxy without delay in front of dsn's server, to count
// the round trips of what goes through it.
func counted(t *testing.T, dsn string) (string, *latproxy.Proxy) {
	t.Helper()
	return viaProxy(t, dsn, latproxy.Options{})
}

// Every probe costs as few round trips as it can, the first time too (no
// separate Prepare), direct or through a transaction pooler (no BEGIN,
// SET LOCAL, COMMIT around each statement). A round trip is what a remote
// database charges its latency for.
func TestRoundTrips(t *testing.T) {
	dsn, seed := seeded(t)
	for _, tc := range []struct {
		name, suffix string
		health       int64
	}{
		// startup, server facts and catalogue, orphans (also latency
		// samples), one ping for the third sample.
		{"direct", "", 4},
		// a pooler answers the startup itself: one ping to reach the database.
		{"pooler", "&pgbouncer=true", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			remote, p := counted(t, dsn+tc.suffix)
			trips := func(what string, want int64, f func()) {
				t.Helper()
				before := p.Stats()
				f()
				if got := p.Stats().Since(before).RoundTrips; got != want {
					t.Errorf("%s: %d round trips, want %d", what, got, want)
				}
			}
			var (
				h  *Health
				db *DB
			)
			trips("CheckHealth", tc.health, func() { h, db = CheckHealth(ctx(t), Options{URL: remote}, 3, 0) })
			if db == nil || h.Schema == nil || h.Schema.Session == nil {
				t.Fatalf("health: %+v", h)
			}
			defer db.Close()
			if h.Latency.Samples != 3 || !h.Schema.OrphansChecked || !h.ReadOnly || h.ServerVersion == "" {
				t.Errorf("health: %+v", h)
			}
			trips("LookupToken", 1, func() {
				if r, _, err := db.LookupToken(ctx(t), h.Schema, seed.Sessions[1].Token, ""); err != nil || !r.Found {
					t.Errorf("lookup: %v %+v", err, r)
				}
			})
			trips("DetectSchema", 1, func() {
				if _, _, err := db.DetectSchema(ctx(t)); err != nil {
					t.Error(err)
				}
			})
			trips("Ping", 1, func() {
				if _, err := db.Ping(ctx(t)); err != nil {
					t.Error(err)
				}
			})
			trips("Sessions", 1, func() {
				if p, err := db.Sessions(ctx(t), h.Schema, SessionQuery{}); err != nil || len(p.Sessions) != len(seed.Sessions) {
					t.Errorf("sessions: %v", err)
				}
			})
			trips("ServerInfo", 1, func() {
				if err := db.ServerInfo(ctx(t), &Health{}); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

// The latency samples taken from the round trips CheckHealth makes anyway
// leave the server's own time out, and more pings than those round trips
// are topped up with real pings.
func TestHealthSamples(t *testing.T) {
	dsn, _ := seeded(t)
	remote, p := counted(t, dsn)
	before := p.Stats()
	h, db := CheckHealth(ctx(t), Options{URL: remote}, 6, 0)
	if db == nil {
		t.Fatalf("not connected: %+v", h.Error)
	}
	defer db.Close()
	if h.Latency.Samples != 6 {
		t.Errorf("%d samples, want 6", h.Latency.Samples)
	}
	// startup, facts and catalogue, orphans, four pings.
	if got := p.Stats().Since(before).RoundTrips; got != 7 {
		t.Errorf("%d round trips, want 7", got)
	}
	// Against a local server nothing takes long: a sample that kept the
	// catalogue's server time would still be small, so this only guards
	// against gross mistakes (a sample of the whole health check).
	if h.Latency.Max > time.Second {
		t.Errorf("latency %+v", h.Latency)
	}
	h1, db1 := CheckHealth(ctx(t), Options{URL: remote}, 1, 0)
	if db1 == nil || h1.Latency.Samples != 1 {
		t.Fatalf("one ping: %+v", h1)
	}
	db1.Close()
}

// The catalogue query reads pg_catalog, yet returns what
// information_schema.columns (joined with its base tables) does, for the
// tables pick could choose: same columns, data types, order and
// visibility, also for a role that may read only part of a table.
func TestCatalogueMatchesInformationSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	admin(t, dsn,
		`CREATE TYPE mood AS ENUM ('ok', 'meh')`,
		`CREATE DOMAIN stamp AS timestamptz`,
		`CREATE DOMAIN tags AS text[]`,
		`CREATE SCHEMA "Auth"`,
		`CREATE TABLE "Auth"."Session" (id text, token varchar(64), "expiresAt" timestamp(3), "userId" uuid,
			gone int, labels text[], state mood, created stamp, t2 tags, amount numeric(10,2), "ipAddress" inet)`,
		`ALTER TABLE "Auth"."Session" DROP COLUMN gone`,
		`CREATE TABLE sessions (token text, expires_at timestamptz, user_id text) PARTITION BY RANGE (expires_at)`,
		`CREATE TABLE sessions_2026 PARTITION OF sessions FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`,
		`CREATE TABLE app_users (id text PRIMARY KEY, email text, email_verified boolean)`,
		`CREATE TABLE widgets (id int, token text)`,      // no candidate: name and columns miss
		`CREATE VIEW session AS SELECT * FROM app_users`, // a view is no base table
		`CREATE TABLE hidden_session (token text, expires_at timestamptz, user_id text)`,
		`CREATE TABLE half_session (token text, expires_at timestamptz, user_id text, secret text)`,
	)
	var suffix [4]byte
	rand.Read(suffix[:])
	role := "authtui_catalogue_" + hex.EncodeToString(suffix[:])
	ident := pgx.Identifier{role}.Sanitize()
	admin(t, dsn, `CREATE ROLE `+ident+` LOGIN`,
		`GRANT USAGE ON SCHEMA "Auth" TO `+ident,
		`GRANT SELECT ON "Auth"."Session", sessions, sessions_2026, app_users, widgets TO `+ident,
		`GRANT SELECT (token, expires_at, user_id) ON half_session TO `+ident)
	t.Cleanup(func() { admin(t, dsn, `DROP OWNED BY `+ident, `DROP ROLE `+ident) })

	const infoSchema = `
SELECT c.table_schema, c.table_name, c.column_name, c.data_type
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE t.table_type = 'BASE TABLE'
  AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
  AND c.table_schema NOT LIKE 'pg\_%'
ORDER BY c.table_schema, c.table_name, c.ordinal_position`
	asRole, _ := url.Parse(dsn)
	asRole.User = url.User(role)
	for _, who := range []struct{ name, dsn string }{{"owner", dsn}, {"reader", asRole.String()}} {
		t.Run(who.name, func(t *testing.T) {
			db := open(t, who.dsn, nil)
			rows, err := db.pool.Query(ctx(t), infoSchema)
			if err != nil {
				t.Fatal(err)
			}
			want, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
				var c column
				return c, r.Scan(&c.schema, &c.table, &c.name, &c.typ)
			})
			if err != nil {
				t.Fatal(err)
			}
			want = slices.DeleteFunc(want, func(c column) bool { return c.table == "widgets" })
			var cat catalogue
			b := &pgx.Batch{}
			cat.queue(b, db.opts)
			if err := db.roundTrip(ctx(t), b); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cat.cols, want) {
				t.Errorf("catalogue\n%v\ninformation_schema (candidates)\n%v", cat.cols, want)
			}
			for _, c := range cat.cols {
				if who.name == "reader" && (c.table == "hidden_session" || c.name == "secret") {
					t.Errorf("the reader may not see %s.%s", c.table, c.name)
				}
			}
		})
	}
}

// An override finds its table even when neither its name nor its columns
// make it a candidate.
func TestOverrideOutsideCandidates(t *testing.T) {
	dsn := pgtest.DSN(t)
	admin(t, dsn, `CREATE SCHEMA app`, `CREATE TABLE app.logins (id text PRIMARY KEY, token text UNIQUE)`,
		`CREATE TABLE app.people (id text PRIMARY KEY, mail text)`)
	db := open(t, dsn, func(o *Options) { o.SessionTable, o.UserTable = "app.logins", "people" })
	s, fs, err := db.DetectSchema(ctx(t))
	if err != nil || s.Session == nil || s.Session.String() != "app.logins" || s.User == nil || s.User.String() != "app.people" {
		t.Fatalf("detect: %v %+v %v", err, s, fs)
	}
	if !s.TokenUnique || !fs.Has(finding.DBSchemaMismatch) {
		t.Errorf("token unique %v, findings %v", s.TokenUnique, fs)
	}
}

// Through a pooler each read carries read-only and the statement timeout
// itself and leaves nothing behind on the server session it borrowed.
func TestPoolerReadsLeaveSessionClean(t *testing.T) {
	dsn := pgtest.DSN(t)
	db := open(t, dsn+"&pgbouncer=true", func(o *Options) { o.StatementTimeout = 1500 * time.Millisecond })
	var ro, timeout string
	err := db.query(ctx(t), false, func(q querier) error {
		return q.QueryRow(ctx(t), `SELECT current_setting('transaction_read_only'), current_setting('statement_timeout')`).Scan(&ro, &timeout)
	})
	if err != nil || ro != "on" || timeout != "1500ms" {
		t.Fatalf("inside a read: read-only %q, timeout %q, %v", ro, timeout, err)
	}
	// A failed read (refused write) must not leave the session in a
	// transaction, and the settings end with the statement.
	db.query(ctx(t), false, func(q querier) error { _, err := q.Exec(ctx(t), `CREATE TABLE nope (x int)`); return err })
	c, err := db.pool.Acquire(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if st := c.Conn().PgConn().TxStatus(); st != 'I' {
		t.Errorf("transaction status %c after a failed read", st)
	}
	if err := c.QueryRow(ctx(t), `SELECT current_setting('transaction_read_only'), current_setting('statement_timeout')`).Scan(&ro, &timeout); err != nil {
		t.Fatal(err)
	}
	if ro != "off" || timeout != "0" {
		t.Errorf("settings outlived the read: read-only %q, timeout %q", ro, timeout)
	}
	// Rows of a guarded read: no rows is ErrNoRows, as with pgx.
	err = db.query(ctx(t), false, func(q querier) error {
		var one int
		return q.QueryRow(ctx(t), `SELECT 1 WHERE false`).Scan(&one)
	})
	if err != pgx.ErrNoRows {
		t.Errorf("no rows: %v", err)
	}
}

// The clock skew compares the server's clock with the local one at the
// moment the statement ran, which is half the network time after the
// request left, whatever the server spent afterwards.
func TestSkewLeavesServerTimeOut(t *testing.T) {
	before := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		ahead      time.Duration // the server's clock against ours
		serverTime time.Duration
	}{{"same clock, slow catalogue", 0, 80 * time.Millisecond}, {"server 7s ahead", 7 * time.Second, 30 * time.Millisecond}, {"no server time", -2 * time.Second, 0}} {
		const oneWay = 50 * time.Millisecond
		si := serverInfo{now: before.Add(oneWay + tc.ahead), readOnly: "on"}
		var h Health
		si.fill(&h, before, before.Add(2*oneWay+tc.serverTime), tc.serverTime)
		if h.ClockSkew != tc.ahead || !h.ReadOnly {
			t.Errorf("%s: skew %s, want %s", tc.name, h.ClockSkew, tc.ahead)
		}
	}
}
