package database

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/testenv"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func open(t *testing.T, dsn string, mod func(*Options)) *DB {
	t.Helper()
	opts := Options{URL: dsn, ConnectTimeout: 5 * time.Second}
	if mod != nil {
		mod(&opts)
	}
	db, err := Open(ctx(t), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// admin runs SQL with full rights, to set up what a test needs.
func admin(t *testing.T, dsn string, sql ...string) {
	t.Helper()
	conn, err := pgx.Connect(ctx(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range sql {
		if _, err := conn.Exec(ctx(t), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func seeded(t *testing.T) (string, pgtest.SeedResult) {
	t.Helper()
	dsn := pgtest.DSN(t)
	return dsn, pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})
}

func TestBetterAuthSchema(t *testing.T) {
	dsn, _ := seeded(t)
	db := open(t, dsn, nil)
	s, fs, err := db.DetectSchema(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.Session == nil || s.Session.String() != "public.session" || s.User == nil || s.User.String() != "public.user" {
		t.Fatalf("tables: %+v %+v", s.Session, s.User)
	}
	if s.Session.Columns[ColExpiresAt] != "expiresAt" || s.Session.Columns[ColUserID] != "userId" {
		t.Errorf("columns: %v", s.Session.Columns)
	}
	if !s.TokenUnique {
		t.Error("BetterAuth's migration makes token unique")
	}
	if !strings.Contains(s.ExpiresType, "with time zone") {
		t.Errorf("expiry type %q", s.ExpiresType)
	}
	if len(fs) != 0 {
		t.Errorf("a fresh BetterAuth schema raised %v", fs)
	}
}

func TestHealthOfRealServer(t *testing.T) {
	dsn, _ := seeded(t)
	h, db := CheckHealth(ctx(t), Options{URL: dsn}, 5, 0)
	if db == nil {
		t.Fatalf("not connected: %+v", h.Error)
	}
	defer db.Close()
	if !h.Connected || !strings.HasPrefix(h.ServerVersion, "1") || !h.ReadOnly || h.Latency.Samples != 5 || h.MaxConnections == 0 {
		t.Errorf("health: %+v", h)
	}
	if h.ClockSkew > time.Second || h.ClockSkew < -time.Second {
		t.Errorf("skew %v against a local server", h.ClockSkew)
	}
	if h.Findings.HasError() || h.Findings.Has(finding.DBNoTLS) {
		t.Errorf("findings on a healthy local database: %v", h.Findings)
	}
}

func TestSessionsPagesAndFilters(t *testing.T) {
	dsn, seed := seeded(t)
	db := open(t, dsn, nil)
	s, _, err := db.DetectSchema(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	all, err := db.Sessions(ctx(t), s, SessionQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Sessions) != len(seed.Sessions) || all.Next != nil {
		t.Fatalf("got %d sessions, seeded %d", len(all.Sessions), len(seed.Sessions))
	}
	for i := 1; i < len(all.Sessions); i++ {
		if all.Sessions[i].CreatedAt.After(all.Sessions[i-1].CreatedAt) {
			t.Fatal("not newest first")
		}
	}
	hostile := false
	for _, r := range all.Sessions {
		if r.Email == "" || !r.Active || len(r.TokenPrefix) > 10 {
			t.Errorf("row %q", fmt.Sprintf("%+v", r))
		}
		for _, ss := range seed.Sessions {
			if strings.Contains(fmt.Sprintf("%+v", r), ss.Token) {
				t.Fatal("a full token left the database")
			}
		}
		hostile = hostile || r.UserAgent == pgtest.SeedHostileUserAgent
	}
	if !hostile {
		t.Error("the raw user agent should reach the struct; renderers sanitise it")
	}

	// Keyset pages of 4 cover the same rows, in the same order, once each.
	var paged []string
	q := SessionQuery{Limit: 4}
	for range 10 {
		p, err := db.Sessions(ctx(t), s, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Sessions {
			paged = append(paged, r.ID)
		}
		if p.Next == nil {
			break
		}
		q.After = p.Next
	}
	var want []string
	for _, r := range all.Sessions {
		want = append(want, r.ID)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged %v\nwant  %v", paged, want)
	}

	user := seed.Users[1]
	p, err := db.Sessions(ctx(t), s, SessionQuery{UserEmail: user.Email})
	if err != nil || len(p.Sessions) != 2 || p.Sessions[0].UserID != user.ID {
		t.Errorf("--user: %v %+v", err, p)
	}

	admin(t, dsn, `UPDATE session SET "expiresAt" = now() - interval '1 hour' WHERE id = '`+seed.Sessions[0].ID+`'`)
	p, err = db.Sessions(ctx(t), s, SessionQuery{ActiveOnly: true})
	if err != nil || len(p.Sessions) != len(seed.Sessions)-1 {
		t.Errorf("--active: %v %d", err, len(p.Sessions))
	}
	if p.IndexHint == "" || !strings.Contains(p.IndexHint, `CREATE INDEX CONCURRENTLY`) {
		t.Errorf("BetterAuth has no createdAt index; want a hint, got %q", p.IndexHint)
	}
	// A handful of rows needs no index: a hint, not a finding.
	if p.Findings.Has(finding.DBSessionsIndexMissing) {
		t.Errorf("db-sessions-index-missing on %d rows: %v", len(seed.Sessions), p.Findings)
	}
	// A table large enough for the sort to matter raises it (a new
	// connection: the row count is taken once per connection).
	admin(t, dsn, `INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "userId", "ipAddress", "userAgent")
		SELECT 'bulk' || g, now() + interval '1 day', 'bulk-token-' || g, now() - g * interval '1 second', now(), '`+seed.Users[0].ID+`', '', ''
		FROM generate_series(1, 50000) g`)
	big := open(t, dsn, nil)
	if p, err := big.Sessions(ctx(t), s, SessionQuery{}); err != nil || !p.Findings.Has(finding.DBSessionsIndexMissing) {
		t.Errorf("50,000 rows without the index: %v %v", err, p.Findings)
	}
	admin(t, dsn, `CREATE INDEX ON session ("createdAt" DESC, id DESC)`)
	s, _, _ = db.DetectSchema(ctx(t))
	if p, _ := db.Sessions(ctx(t), s, SessionQuery{}); p.IndexHint != "" || len(p.Findings) > 0 {
		t.Errorf("hint despite the index: %s %v", p.IndexHint, p.Findings)
	}
}

func TestLookupToken(t *testing.T) {
	dsn, seed := seeded(t)
	db := open(t, dsn, nil)
	s, _, _ := db.DetectSchema(ctx(t))
	lookup := func(token string) (TokenLookup, finding.List) {
		r, fs, err := db.LookupToken(ctx(t), s, token, "better-auth.session_token")
		if err != nil {
			t.Fatal(err)
		}
		return r, fs
	}
	valid, fs := lookup(seed.Sessions[2].Token)
	if !valid.Found || !fs.Has(finding.SessionValid) || valid.Email != seed.Users[1].Email {
		t.Errorf("valid: %+v %v", valid, fs)
	}
	if _, fs := lookup("nosuchtokennosuchtokennosuchtoke"); !fs.Has(finding.SessionNotFound) {
		t.Errorf("unknown: %v", fs)
	}
	admin(t, dsn, `UPDATE session SET "expiresAt" = now() - interval '1 minute' WHERE token = '`+seed.Sessions[3].Token+`'`)
	if r, fs := lookup(seed.Sessions[3].Token); !fs.Has(finding.SessionExpired) || !r.Expired {
		t.Errorf("expired: %v", fs)
	}
	// A user deleted behind BetterAuth's back (replication role skips the
	// foreign key, as a bulk import or a manual fix would).
	admin(t, dsn, `SET session_replication_role = replica`, `DELETE FROM "user" WHERE id = '`+seed.Users[2].ID+`'`)
	if _, fs := lookup(seed.Sessions[4].Token); !fs.Has(finding.SessionUserMissing) {
		t.Errorf("user missing: %v", fs)
	}
	ofs, err := db.CheckOrphans(ctx(t), s)
	if err != nil || !ofs.Has(finding.DBOrphanSessions) || s.Orphans != 2 {
		t.Errorf("orphans: %v %v %d", err, ofs, s.Orphans)
	}
	p, _ := db.Sessions(ctx(t), s, SessionQuery{})
	missing := 0
	for _, r := range p.Sessions {
		if r.UserMissing {
			missing++
		}
	}
	if missing != 2 {
		t.Errorf("rows with missing user: %d", missing)
	}
}

func TestReadOnlyUnlessAllowed(t *testing.T) {
	dsn, seed := seeded(t)
	ro := open(t, dsn, nil)
	s, _, _ := ro.DetectSchema(ctx(t))
	if err := ro.RevokeSession(ctx(t), s, seed.Sessions[0].ID); err == nil {
		t.Fatal("revoke on a read-only connection")
	}
	// Even a write smuggled through the read path is refused by the server.
	err := ro.query(ctx(t), false, func(q querier) error {
		_, err := q.Exec(ctx(t), `DELETE FROM session`)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write through the read path: %v", err)
	}

	rw := open(t, dsn, func(o *Options) { o.AllowWrites = true })
	if err := rw.RevokeSession(ctx(t), s, seed.Sessions[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, fs, _ := rw.LookupToken(ctx(t), s, seed.Sessions[0].Token, ""); !fs.Has(finding.SessionNotFound) {
		t.Errorf("revoked session still found: %v", fs)
	}
	if err := rw.RevokeSession(ctx(t), s, "no-such-id"); err == nil {
		t.Error("revoking a missing id should say so")
	}
}

func TestStatementTimeout(t *testing.T) {
	dsn := pgtest.DSN(t)
	for _, pooler := range []bool{false, true} {
		u := dsn
		if pooler {
			u += "&pgbouncer=true"
		}
		db := open(t, u, func(o *Options) { o.StatementTimeout = 200 * time.Millisecond })
		start := time.Now()
		err := db.query(ctx(t), false, func(q querier) error {
			_, err := q.Exec(ctx(t), "SELECT pg_sleep(10)")
			return err
		})
		if err == nil || !strings.Contains(db.errMessage(err), "statement_timeout") {
			t.Errorf("pooler=%v: %v", pooler, err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("pooler=%v: the statement was not cancelled", pooler)
		}
	}
}

// Drizzle and Prisma users name things their own way; the same sessions,
// copied into their layouts, must be found and listed.
func TestSchemaVariants(t *testing.T) {
	copyInto := func(schema, users, sessions string, cols map[string]string, unique bool) []string {
		c := func(k string) string { return pgx.Identifier{cols[k]}.Sanitize() }
		u := pgx.Identifier{schema, users}.Sanitize()
		s := pgx.Identifier{schema, sessions}.Sanitize()
		uniq := ""
		if unique {
			uniq = " UNIQUE"
		}
		return []string{
			`CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{schema}.Sanitize(),
			fmt.Sprintf(`CREATE TABLE %s (%s text PRIMARY KEY, %s text NOT NULL, %s text, %s boolean, %s timestamptz, %s timestamptz)`,
				u, c("id"), c("email"), c("name"), c("emailVerified"), c("createdAt"), c("updatedAt")),
			fmt.Sprintf(`CREATE TABLE %s (%s text PRIMARY KEY, %s text NOT NULL%s, %s timestamptz NOT NULL, %s text, %s timestamptz, %s timestamptz, %s text, %s text)`,
				s, c("id"), c("token"), uniq, c("expiresAt"), c("userId"), c("createdAt"), c("updatedAt"), c("ipAddress"), c("userAgent")),
			fmt.Sprintf(`INSERT INTO %s SELECT id, email, name, "emailVerified", "createdAt", "updatedAt" FROM public."user"`, u),
			fmt.Sprintf(`INSERT INTO %s SELECT id, token, "expiresAt", "userId", "createdAt", "updatedAt", "ipAddress", "userAgent" FROM public.session`, s),
		}
	}
	snake := map[string]string{"id": "id", "email": "email", "name": "name", "emailVerified": "email_verified", "createdAt": "created_at",
		"updatedAt": "updated_at", "token": "token", "expiresAt": "expires_at", "userId": "user_id", "ipAddress": "ip_address", "userAgent": "user_agent"}
	camel := map[string]string{}
	for k := range snake {
		camel[k] = k
	}
	for _, tc := range []struct {
		name, schema, users, sessions string
		cols                          map[string]string
		unique                        bool
		opts                          func(*Options)
		drop                          bool // drop BetterAuth's own tables, so detection must find the variant
	}{
		{"drizzle snake_case plural", "public", "users", "sessions", snake, true, nil, true},
		{"prisma models", "public", "User", "Session", camel, true, nil, true},
		{"non-public schema", "auth", "users", "sessions", snake, false, nil, true},
		{"override beside BetterAuth's own", "app", "users", "sessions", snake, true,
			func(o *Options) { o.SessionTable, o.UserTable = "app.sessions", "app.users" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.DSN(t)
			seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})
			admin(t, dsn, copyInto(tc.schema, tc.users, tc.sessions, tc.cols, tc.unique)...)
			if tc.drop {
				admin(t, dsn, `DROP TABLE public.account, public.verification, public.session, public."user"`)
			}
			db := open(t, dsn, tc.opts)
			s, fs, err := db.DetectSchema(ctx(t))
			if err != nil || s.Session == nil {
				t.Fatalf("detect: %v %v", err, fs)
			}
			if s.Session.Schema != tc.schema || s.Session.Name != tc.sessions || s.User == nil || s.User.Name != tc.users {
				t.Fatalf("found %s and %v", s.Session, s.User)
			}
			if fs.Has(finding.DBSchemaMismatch) {
				t.Errorf("mismatch: %v", fs)
			}
			if got := fs.Has(finding.DBTokenIndexMissing); got == tc.unique {
				t.Errorf("token index finding = %v with unique = %v", got, tc.unique)
			}
			p, err := db.Sessions(ctx(t), s, SessionQuery{UserEmail: seed.Users[0].Email})
			if err != nil || len(p.Sessions) != 2 || p.Sessions[0].Email != seed.Users[0].Email {
				t.Fatalf("sessions: %v %+v", err, p)
			}
			if _, fs, err := db.LookupToken(ctx(t), s, seed.Sessions[0].Token, ""); err != nil || !fs.Has(finding.SessionValid) {
				t.Errorf("lookup: %v %v", err, fs)
			}
		})
	}
}

func TestSchemaMissingAndMismatch(t *testing.T) {
	dsn := pgtest.DSN(t)
	db := open(t, dsn, nil)
	_, fs, err := db.DetectSchema(ctx(t))
	if err != nil || !fs.Has(finding.DBSchemaMissing) {
		t.Fatalf("empty database: %v %v", err, fs)
	}
	admin(t, dsn, `CREATE TABLE sessions (id text, token text, expires_at timestamp, user_id text)`,
		`CREATE TABLE users (id text, email text, email_verified boolean)`)
	_, fs, _ = db.DetectSchema(ctx(t))
	if !fs.Has(finding.DBSchemaMismatch) || !fs.Has(finding.DBClockSkew) || !fs.Has(finding.DBTokenIndexMissing) {
		t.Errorf("partial schema: %v", fs)
	}
}

func TestConnectErrorClasses(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, _ := url.Parse(dsn)

	// A port nothing listens on.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()

	silent := testenv.SilentListener(t)

	const pw = "hunter2-not-in-output"
	for _, tc := range []struct {
		name, url, class string
	}{
		{"refused", "postgres://app:" + pw + "@" + closed + "/x?sslmode=disable", "refused"},
		{"silent server", "postgres://app:" + pw + "@" + silent + "/x?sslmode=disable", "timeout"},
		{"unknown role", "postgres://nosuchrole:" + pw + "@" + u.Host + "/postgres?sslmode=disable", "auth"},
		{"tls required", "postgres://postgres:" + pw + "@" + u.Host + "/postgres?sslmode=require", "tls"},
		{"bad url", "postgres://app:" + pw + "@[::1/x", "config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(ctx(t), Options{URL: tc.url, ConnectTimeout: time.Second})
			ce, ok := err.(*ConnectError)
			if !ok || ce.Class != tc.class {
				t.Fatalf("got %#v, want class %s", err, tc.class)
			}
			if strings.Contains(ce.Message, pw) {
				t.Errorf("password in message: %s", ce.Message)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
}

func TestPoolerDetection(t *testing.T) {
	for raw, want := range map[string]bool{
		"postgres://u:p@ep-cool-123-pooler.us-east-2.aws.neon.tech/db": true,
		"postgres://u:p@aws-0-eu.pooler.supabase.com:6543/postgres":    true,
		"postgres://u:p@db.example.com:5432/app?pgbouncer=true":        true,
		"postgres://u:p@db.example.com:5432/app":                       false,
	} {
		tg, err := ParseTarget(raw)
		if err != nil || tg.Pooler != want {
			t.Errorf("%s: pooler=%v err=%v", raw, tg.Pooler, err)
		}
		if strings.Contains(tg.String(), ":p@") {
			t.Errorf("target shows the password: %s", tg)
		}
	}
	// The pooler code path (simple protocol, settings per transaction)
	// against a real server.
	dsn, seed := seeded(t)
	db := open(t, dsn+"&pgbouncer=true", nil)
	if !db.Pooler() {
		t.Fatal("not in pooler mode")
	}
	s, _, err := db.DetectSchema(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if p, err := db.Sessions(ctx(t), s, SessionQuery{After: &Cursor{CreatedAt: time.Now().Add(time.Hour), ID: "zzz"}}); err != nil || len(p.Sessions) != len(seed.Sessions) {
		t.Fatalf("pooler sessions: %v", err)
	}
	if err := db.query(ctx(t), false, func(q querier) error { _, err := q.Exec(ctx(t), `DELETE FROM session`); return err }); err == nil {
		t.Error("pooler mode must stay read-only")
	}
}

// DNS failures are classified from the resolver's error; the test does not
// resolve anything, since the machine's resolver is not on loopback.
func TestClassifyDNS(t *testing.T) {
	err := fmt.Errorf("failed to connect: %w", &net.OpError{Op: "dial", Err: &net.DNSError{Name: "db.example.invalid", Err: "no such host", IsNotFound: true}})
	if ce := classify(err, ""); ce.Class != "dns" || !strings.Contains(ce.Message, "db.example.invalid") {
		t.Errorf("%+v", ce)
	}
}
