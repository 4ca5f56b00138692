package ui

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
)

// timers stands in for tea.Tick: it records what a pane arms, and the
// test fires it by feeding the message back, without sleeping.
type timers struct {
	msgs []tea.Msg
	durs []time.Duration
}

func (tm *timers) tick(d time.Duration, msg tea.Msg) tea.Cmd {
	tm.msgs = append(tm.msgs, msg)
	tm.durs = append(tm.durs, d)
	return nil
}

// lastTimer is the most recently armed timer of type T and its delay.
func lastTimer[T tea.Msg](t testing.TB, tm *timers) (T, time.Duration) {
	t.Helper()
	for i := len(tm.msgs) - 1; i >= 0; i-- {
		if m, ok := tm.msgs[i].(T); ok {
			return m, tm.durs[i]
		}
	}
	var zero T
	t.Fatalf("no %T armed", zero)
	return zero, 0
}

// rig is a root in miniature: it broadcasts every message to the
// database pane and the sessions panes, and records what they announce.
type rig struct {
	t      testing.TB
	db     *databasePane
	dbT    *timers
	sess   []*sessionsPane
	sessT  []*timers
	ready  []DBReadyMsg
	status []StatusMsg
}

func newRig(t testing.TB, cfg Config) *rig {
	cfg.Timeout = 10 * time.Second
	cfg.defaults()
	r := &rig{t: t, db: newDatabasePane(&cfg, newStyles()), dbT: &timers{}}
	r.db.tick = r.dbT.tick
	t.Cleanup(func() {
		if r.db.db != nil {
			r.db.db.Close()
		}
	})
	return r
}

func (r *rig) addSessions(allowWrites bool) *sessionsPane {
	cfg := *r.db.cfg
	cfg.AllowWrites = allowWrites
	p := newSessionsPane(&cfg, newStyles())
	tm := &timers{}
	p.tick = tm.tick
	r.sess, r.sessT = append(r.sess, p), append(r.sessT, tm)
	return p
}

func (r *rig) update(msg tea.Msg) tea.Cmd {
	switch m := msg.(type) {
	case DBReadyMsg:
		r.ready = append(r.ready, m)
	case StatusMsg:
		r.status = append(r.status, m)
	}
	cmds := []tea.Cmd{r.db.Update(msg)}
	for _, p := range r.sess {
		cmds = append(cmds, p.Update(msg))
	}
	return tea.Batch(cmds...)
}

func (r *rig) run(cmd tea.Cmd) { settle(r.t, r.update, cmd, 30*time.Second) }

// sweep checks that View and Summary fit every width from 40 to 200.
func sweep(t testing.TB, what string, p Pane) {
	t.Helper()
	for w := 40; w <= 200; w++ {
		for _, h := range []int{1, 3, 8, 24, 60} {
			checkFits(t, what+" view", p.View(w, h), w, h)
		}
		for _, h := range []int{2, 4, 6} {
			checkFits(t, what+" summary", p.Summary(w, h), w, h)
		}
	}
}

func flat(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), " ") }

// closedPort is a loopback port nothing listens on.
func closedPort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestDatabasePaneNoURL(t *testing.T) {
	r := newRig(t, Config{})
	if cmd := r.db.Init(); cmd != nil {
		t.Fatal("Init without a URL must wait for the env files, not connect")
	}
	if v := flat(r.db.View(80, 10)); !strings.Contains(v, "Waiting for the env files") {
		t.Errorf("before the env files: %s", v)
	}
	r.run(r.update(SecretsLoadedMsg{}))
	v := flat(r.db.View(80, 10))
	if !strings.Contains(v, "no database configured: start with --database-url or set DATABASE_URL in an env file") {
		t.Errorf("no URL: %s", v)
	}
	if len(r.db.Findings()) != 0 || r.db.Selection() != "" || len(r.ready) != 0 {
		t.Errorf("no URL: findings %v, selection %q, ready %v", r.db.Findings(), r.db.Selection(), r.ready)
	}
	sweep(t, "no url", r.db)
}

// A configured --database-url wins over the env files' DATABASE_URL.
func TestDatabasePaneFlagWinsOverEnv(t *testing.T) {
	url := fmt.Sprintf("postgres://authtui:hunter2@127.0.0.1:%d/app?sslmode=disable", closedPort(t))
	r := newRig(t, Config{Database: database.Options{URL: url}})
	r.db.Init() // the attempt itself is not run: this test only routes
	if cmd := r.db.Update(SecretsLoadedMsg{DBURL: "postgres://other@10.0.0.1/x"}); cmd != nil || r.db.url != url {
		t.Errorf("the env's DATABASE_URL replaced --database-url: %q", r.db.url)
	}
	if sel := r.db.Selection(); strings.Contains(sel, "hunter2") || !strings.HasSuffix(sel, "/app") {
		t.Errorf("selection %q", sel)
	}
}

func TestDatabasePaneUnreachable(t *testing.T) {
	url := fmt.Sprintf("postgres://authtui:hunter2@127.0.0.1:%d/app?sslmode=disable", closedPort(t))
	r := newRig(t, Config{Database: database.Options{URL: url}})
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	r.db.now = func() time.Time { return now }

	r.run(r.db.Init())
	if r.db.state != dbDown || r.db.connErr == nil || r.db.connErr.Class != "refused" {
		t.Fatalf("state %v, error %+v", r.db.state, r.db.connErr)
	}
	v := flat(r.db.View(100, 20))
	for _, want := range []string{"✗ unreachable (refused):", "retry in 1s (at 10:00:01)", "r retries now"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q: %s", want, v)
		}
	}
	if s := flat(r.db.Summary(60, 3)); !strings.Contains(s, "✗ unreachable (refused) retry in 1s") {
		t.Errorf("summary: %s", s)
	}
	if strings.Contains(v+r.db.Summary(200, 4), "hunter2") {
		t.Error("the password is on screen")
	}
	if !r.db.Findings().Has(finding.DBUnreachable) {
		t.Errorf("findings: %v", r.db.Findings())
	}

	retry, d := lastTimer[dbRetryMsg](t, r.dbT)
	if d != time.Second {
		t.Errorf("first retry after %s", d)
	}
	r.run(r.update(retry))
	if r.db.failures != 2 || !strings.Contains(flat(r.db.View(100, 20)), "retry in 2s") {
		t.Errorf("second failure: %d, %s", r.db.failures, flat(r.db.View(100, 20)))
	}
	r.run(r.update(retry)) // already used: stale
	if r.db.failures != 2 {
		t.Errorf("a stale retry timer ran an attempt: %d failures", r.db.failures)
	}
	r.run(r.update(press("r")))
	if r.db.failures != 1 || r.db.state != dbDown {
		t.Errorf("r: %d failures, state %v", r.db.failures, r.db.state)
	}
	if len(r.ready) != 0 {
		t.Errorf("announced %v without ever having a database", r.ready)
	}
	sweep(t, "unreachable", r.db)
}

func TestDatabaseBackoff(t *testing.T) {
	p := newDatabasePane(&Config{}, newStyles())
	var got []time.Duration
	for p.failures = 1; p.failures <= 8; p.failures++ {
		got = append(got, p.backoff())
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff %v, want %v seconds", got, want)
		}
	}
}

func TestSparkline(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, x := range n {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	if got := sparkline(ms(1, 2, 4, 8), 10); got != "▁▂▄█" {
		t.Errorf("sparkline %q", got)
	}
	if got := sparkline(ms(8, 1, 2, 4, 8), 3); got != "▂▄█" {
		t.Errorf("a narrow sparkline keeps the newest: %q", got)
	}
	if got := sparkline(ms(0, 0), 5); got != "▁▁" {
		t.Errorf("all zero: %q", got)
	}
}

// The connected view, without a server: the fields the probes fill in.
func TestDatabasePaneConnectedViewFits(t *testing.T) {
	cfg := Config{Database: database.Options{URL: "postgres://u:hunter2@db.example.com:5432/app"}}
	cfg.defaults()
	p := newDatabasePane(&cfg, newStyles())
	p.setURL(cfg.Database.URL, false)
	p.state, p.db = dbConnected, &database.DB{}
	p.schema = &database.Schema{
		Session:     &database.Table{Schema: "public", Name: "session\x1b[31m"},
		ExpiresType: "timestamp without time zone",
	}
	p.health = database.Health{Target: p.target, ServerVersion: "16.2 \x07(evil)", Connections: 3, MaxConnections: 100, ClockSkew: -7 * time.Second}
	for i := range 100 {
		p.lat.Add(time.Duration(i%9) * 40 * time.Millisecond)
	}
	p.schemaFindings.Add(finding.DBSchemaMismatch, "public.session", "found the session table but no user table: sessions cannot be joined to users.")
	p.judge()
	for _, id := range []finding.ID{finding.DBNoTLS, finding.DBClockSkew, finding.DBSlow, finding.DBSchemaMismatch} {
		if !p.Findings().Has(id) {
			t.Errorf("findings lack %s: %v", id, p.Findings())
		}
	}
	v := p.View(120, 60)
	if strings.ContainsAny(ansi.Strip(v), "\x1b\x07") || strings.Contains(v, "hunter2") {
		t.Errorf("raw database strings or the password reached the view: %q", v)
	}
	for _, want := range []string{"PostgreSQL 16.2", "3 used of 100 max", "clock skew -7s (db − local)", "user table ! none found", "db-clock-skew", "▁"} {
		if !strings.Contains(flat(v), want) {
			t.Errorf("view lacks %q: %s", want, flat(v))
		}
	}
	sweep(t, "connected", p)
}

func TestDatabasePaneConnects(t *testing.T) {
	dsn := pgtest.DSN(t)
	pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	r := newRig(t, Config{}) // no flag: DATABASE_URL comes from the env files
	r.run(r.db.Init())
	r.run(r.update(SecretsLoadedMsg{DBURL: dsn}))

	if r.db.state != dbConnected {
		t.Fatalf("state %v: %s", r.db.state, flat(r.db.View(120, 20)))
	}
	if len(r.ready) != 1 || r.ready[0].DB == nil || r.ready[0].Schema == nil || r.ready[0].Schema.Session == nil {
		t.Fatalf("announced %+v", r.ready)
	}
	v := flat(r.db.View(120, 60))
	ver := r.db.health.ServerVersion
	for _, want := range []string{"✓ connected", "version PostgreSQL " + ver, "DATABASE_URL (env file)", "session table public.session", "user table public.user", "token index ✓ unique", "orphans ✓ none", "read-only yes", "TLS off (loopback)"} {
		if ver == "" || !strings.Contains(v, want) {
			t.Errorf("view lacks %q: %s", want, v)
		}
	}
	if s := flat(r.db.Summary(50, 3)); !strings.Contains(s, "✓ connected p95 ") {
		t.Errorf("summary: %s", s)
	}
	if sel := r.db.Selection(); !strings.HasPrefix(sel, "127.0.0.1:") {
		t.Errorf("selection %q", sel)
	}
	if fs := r.db.Findings(); len(fs) != 0 {
		t.Errorf("a migrated local database has findings: %v", fs)
	}

	tick, d := lastTimer[dbTickMsg](t, r.dbT)
	if d != r.db.cfg.DBInterval {
		t.Errorf("refresh armed for %s", d)
	}
	r.run(r.update(tick))
	if n := r.db.lat.Stats().Samples; n != 2 {
		t.Errorf("%d latency samples after one refresh", n)
	}

	// The connection drops: the pane tells the others, reconnects at once
	// and announces the new connection.
	old := r.ready[0].DB
	r.run(r.update(dbRefreshMsg{gen: r.db.gen, pingErr: errors.New("conn closed")}))
	if len(r.ready) != 3 || r.ready[1].DB != nil || r.ready[2].DB == nil || r.ready[2].DB == old {
		t.Fatalf("after a lost connection: %+v", r.ready)
	}
	if r.db.state != dbConnected {
		t.Errorf("state %v after reconnecting", r.db.state)
	}
	sweep(t, "connected", r.db)
}

// TLS is shown as what it proves: with sslmode prefer or require the
// certificate is not verified, and the pane says so instead of "on"; to
// another host that is a finding.
func TestDatabasePaneTLSVerification(t *testing.T) {
	for _, tc := range []struct {
		verify, want string
		finding      bool
	}{
		{database.TLSVerifyNone, "TLS ! on, certificate not verified (TLSv1.3)", true},
		{database.TLSVerifyCA, "TLS ✓ on, certificate chain verified, not the host name (TLSv1.3)", false},
		{database.TLSVerifyFull, "TLS ✓ on, certificate verified (TLSv1.3)", false},
	} {
		cfg := Config{Database: database.Options{URL: "postgres://u:hunter2@db.example.com:5432/app?sslmode=require"}}
		cfg.defaults()
		p := newDatabasePane(&cfg, newStyles())
		p.setURL(cfg.Database.URL, false)
		p.state, p.db = dbConnected, &database.DB{}
		p.schema = &database.Schema{}
		p.health = database.Health{Target: p.target, ServerVersion: "16.2", TLS: true, TLSVersion: "TLSv1.3", TLSVerify: tc.verify}
		p.lat.Add(time.Millisecond)
		p.judge()
		v := flat(p.View(120, 40))
		if !strings.Contains(v, tc.want) {
			t.Errorf("%s: view lacks %q: %s", tc.verify, tc.want, v)
		}
		if got := p.Findings().Has(finding.DBTLSUnverified); got != tc.finding {
			t.Errorf("%s: db-tls-unverified %v: %v", tc.verify, got, p.Findings())
		}
		if tc.finding && !strings.Contains(flat(p.Summary(60, 4)), "! 1 warning(s)") {
			t.Errorf("%s: summary %s", tc.verify, flat(p.Summary(60, 4)))
		}
		sweep(t, "tls "+tc.verify, p)
	}
}

// The summary box uses its room: after a few refreshes a 40×8 box shows
// the latency sparkline, the server version and what its TLS proves.
func TestDatabaseSummaryShowsSparkline(t *testing.T) {
	dsn := pgtest.DSN(t)
	r := newRig(t, Config{Database: database.Options{URL: dsn}})
	r.run(r.db.Init())
	for range 3 {
		tick, _ := lastTimer[dbTickMsg](t, r.dbT)
		r.run(r.update(tick))
	}
	if r.db.state != dbConnected || r.db.lat.Stats().Samples != 4 {
		t.Fatalf("state %v, %d samples", r.db.state, r.db.lat.Stats().Samples)
	}
	s := ansi.Strip(r.db.Summary(40, 8))
	spark := sparkline(r.db.lat.Samples(), 40)
	for _, want := range []string{"✓ connected p95 ", "\n" + spark + " ", "PostgreSQL " + r.db.health.ServerVersion[:4], "TLS off (loopback)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if utf8.RuneCountInString(spark) != 4 {
		t.Errorf("sparkline %q for 4 samples", spark)
	}
	// A short box keeps the first lines: state and target.
	if s := ansi.Strip(r.db.Summary(40, 2)); strings.ContainsAny(s, "▁▂▃▄▅▆▇█") || !strings.Contains(s, "127.0.0.1:") {
		t.Errorf("two lines:\n%s", s)
	}
}
