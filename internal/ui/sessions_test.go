package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/redistest"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/latproxy"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/report"
)

var testNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// fakeSessions are rows as the probe returns them, hostile ones included.
func fakeSessions(n int) []database.Session {
	var out []database.Session
	for i := range n {
		s := database.Session{
			ID:          fmt.Sprintf("sess%03d", i),
			UserID:      fmt.Sprintf("user%03d", i%7),
			Email:       fmt.Sprintf("user%d@example.com", i%7),
			Name:        "User",
			TokenPrefix: "abcdef…",
			CreatedAt:   testNow.Add(-time.Duration(i) * time.Minute),
			ExpiresAt:   testNow.Add(7*24*time.Hour - time.Duration(i)*time.Hour),
			IPAddress:   "203.0.113.7",
			UserAgent:   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
			Active:      true,
		}
		switch i % 5 {
		case 1:
			s.UserAgent = pgtest.SeedHostileUserAgent
		case 2:
			s.Email, s.IPAddress = "用户名很长的邮箱地址@例子.公司", "2001:db8:85a3::8a2e:370:7334"
		case 3:
			s.Active, s.ExpiresAt = false, testNow.Add(-time.Hour)
		case 4:
			s.UserMissing, s.Email = true, ""
		}
		out = append(out, s)
	}
	return out
}

// fakeReady connects p to a database it never queries: the load the
// DBReadyMsg starts is dropped, and pages are fed in by hand.
func fakeReady(t testing.TB, allowWrites bool) (*sessionsPane, *timers) {
	cfg := Config{AllowWrites: allowWrites}
	cfg.defaults()
	p := newSessionsPane(&cfg, newStyles())
	tm := &timers{}
	p.tick, p.now = tm.tick, func() time.Time { return testNow }
	schema := &database.Schema{Session: &database.Table{Schema: "public", Name: "session"}}
	if p.Update(DBReadyMsg{DB: &database.DB{}, Schema: schema}) == nil {
		t.Fatal("a DBReadyMsg with a session table must start a load")
	}
	return p, tm
}

func feed(p *sessionsPane, rows []database.Session, elapsed time.Duration, hint string) tea.Cmd {
	page := &database.SessionsPage{Sessions: rows, Elapsed: elapsed, IndexHint: hint}
	if hint != "" {
		// As the database package raises it for a table large enough.
		page.Findings.Add(finding.DBSessionsIndexMissing, "public.session", "no index: %s", hint)
	}
	return p.Update(sessionsLoadedMsg{gen: p.gen, seq: p.seq, page: page})
}

func TestSessionsPaneWaitsForDB(t *testing.T) {
	cfg := Config{}
	cfg.defaults()
	p := newSessionsPane(&cfg, newStyles())
	if p.Init() != nil || p.Update(DBReadyMsg{}) != nil {
		t.Fatal("no database, no I/O")
	}
	if v := flat(p.View(80, 10)); !strings.Contains(v, "Waiting for the database") {
		t.Errorf("view: %s", v)
	}
	p.Update(DBReadyMsg{DB: &database.DB{}, Schema: &database.Schema{}})
	if v := flat(p.View(80, 10)); !strings.Contains(v, "no session table") {
		t.Errorf("schema without a session table: %s", v)
	}
	sweep(t, "waiting", p)
}

// Slow pages double the refresh interval up to a minute; fast ones bring
// it back down; the pane says so.
func TestSessionsPaneBacksOff(t *testing.T) {
	p, tm := fakeReady(t, false)
	rows := fakeSessions(3)
	want := []time.Duration{6, 12, 24, 48, 60, 60}
	for _, w := range want {
		feed(p, rows, 150*time.Millisecond, "")
		if _, d := lastTimer[sessionsTickMsg](t, tm); d != w*time.Second {
			t.Fatalf("slow page: next refresh in %s, want %ds", d, w)
		}
	}
	if v := flat(p.View(120, 20)); !strings.Contains(v, "! slow queries: refresh every 1m0s · last query 150ms at 10:00:00") {
		t.Errorf("view: %s", v)
	}
	if s := flat(p.Summary(50, 4)); !strings.Contains(s, "! slow: refresh every 1m0s") {
		t.Errorf("summary: %s", s)
	}
	for _, w := range []time.Duration{30 * time.Second, 15 * time.Second, 7500 * time.Millisecond, 3750 * time.Millisecond, 3 * time.Second, 3 * time.Second} {
		feed(p, rows, 2*time.Millisecond, "")
		if _, d := lastTimer[sessionsTickMsg](t, tm); d != w {
			t.Fatalf("fast page: next refresh in %s, want %s", d, w)
		}
	}
	if v := flat(p.View(120, 20)); !strings.Contains(v, "refresh every 3s · last query 2.0ms") {
		t.Errorf("view: %s", v)
	}

	// The timer fires a load; an overtaken load's result is dropped.
	tick, _ := lastTimer[sessionsTickMsg](t, tm)
	if p.Update(tick) == nil {
		t.Fatal("the refresh timer did not load")
	}
	stale := sessionsLoadedMsg{gen: p.gen, seq: p.seq - 1, page: &database.SessionsPage{}}
	if p.Update(stale) != nil || len(p.rows) != 3 {
		t.Errorf("a stale page was taken: %d rows", len(p.rows))
	}
	if p.Update(tick) != nil {
		t.Error("a used timer loaded again")
	}
}

func TestSessionsPaneHighlightsNewRows(t *testing.T) {
	p, _ := fakeReady(t, false)
	rows := fakeSessions(4)
	feed(p, rows[1:], time.Millisecond, "")
	if len(p.newUntil) != 0 {
		t.Errorf("the first load highlights %v", p.newUntil)
	}
	feed(p, rows, time.Millisecond, "")
	line := func() string {
		for _, l := range strings.Split(ansi.Strip(p.View(120, 20)), "\n") {
			if strings.Contains(l, "user0@example.com") {
				return l
			}
		}
		return ""
	}
	if l := line(); !strings.HasPrefix(l, "+now") {
		t.Errorf("the new row is not marked: %q", l)
	}
	p.now = func() time.Time { return testNow.Add(sessionsNewFor) }
	if l := line(); strings.HasPrefix(l, "+") {
		t.Errorf("still marked after %s: %q", sessionsNewFor, l)
	}
}

func TestSessionsPaneNavigation(t *testing.T) {
	p, _ := fakeReady(t, false)
	feed(p, fakeSessions(100), time.Millisecond, "")
	p.View(120, 24) // learns how many rows fit
	key := func(k tea.KeyPressMsg) { p.Update(k) }
	key(press("j"))
	key(press("down"))
	if p.Selection() != "sess002" {
		t.Errorf("after j, down: %q", p.Selection())
	}
	key(press("k"))
	if p.Selection() != "sess001" {
		t.Errorf("after k: %q", p.Selection())
	}
	key(press("G"))
	if p.Selection() != "sess099" {
		t.Errorf("after G: %q", p.Selection())
	}
	key(press("g"))
	if p.Selection() != "sess000" {
		t.Errorf("after g: %q", p.Selection())
	}
	key(tea.KeyPressMsg{Code: tea.KeyPgDown})
	if p.cursor != p.visible-1 {
		t.Errorf("pgdown: cursor %d with %d rows visible", p.cursor, p.visible)
	}
	key(tea.KeyPressMsg{Code: tea.KeyPgUp})
	if p.cursor != 0 {
		t.Errorf("pgup: cursor %d", p.cursor)
	}
	// The wheel scrolls the window and drags the selection along.
	for range 4 {
		p.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	}
	if p.offset != 12 || p.cursor != 12 {
		t.Errorf("wheel: offset %d cursor %d", p.offset, p.cursor)
	}
	if v := ansi.Strip(p.View(120, 24)); strings.Contains(v, "11m ago") || !strings.Contains(v, "12m ago") {
		t.Errorf("the view did not scroll:\n%s", v)
	}
	p.Update(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	if p.offset != 9 {
		t.Errorf("wheel up: offset %d", p.offset)
	}
}

// Revoke is not even bound without --allow-writes.
func TestSessionsPaneReadOnlyOffersNoRevoke(t *testing.T) {
	p, _ := fakeReady(t, false)
	feed(p, fakeSessions(3), time.Millisecond, "")
	for _, b := range p.Keys() {
		if b.Enabled() && b.Help().Key == "x" {
			t.Error("x is offered read-only")
		}
	}
	if cmd := p.Update(press("x")); cmd != nil || p.Capturing() || p.confirm != nil {
		t.Error("x asked to revoke read-only")
	}
	w, _ := fakeReady(t, true)
	if !key.Matches(press("x"), w.keys.Revoke) {
		t.Error("x is not bound with --allow-writes")
	}
}

func TestSessionsPaneWidthSweep(t *testing.T) {
	p, _ := fakeReady(t, true)
	feed(p, fakeSessions(60), time.Millisecond, `CREATE INDEX CONCURRENTLY "session_created_id_idx" ON "public"."session" ("createdAt" DESC, "id" DESC);`)
	p.Update(press("j"))
	modes := []struct {
		name       string
		enter, out []tea.Msg
	}{
		{"table", nil, nil},
		{"filtering", []tea.Msg{press("/"), press("u"), press("s")}, []tea.Msg{press("esc"), press("esc")}},
		{"filtered", []tea.Msg{press("/"), press("r"), press("enter")}, []tea.Msg{press("esc")}},
		{"detail", []tea.Msg{press("enter")}, []tea.Msg{press("esc")}},
		{"confirm", []tea.Msg{press("x")}, []tea.Msg{press("n")}},
	}
	for _, m := range modes {
		for _, msg := range m.enter {
			p.Update(msg)
		}
		sweep(t, m.name, p)
		if v := p.View(200, 60); strings.Contains(ansi.Strip(v), "\x1b") || strings.Contains(v, "\x07") {
			t.Errorf("%s: raw control characters in the view", m.name)
		}
		for _, msg := range m.out {
			p.Update(msg)
		}
		if p.Capturing() || p.detailID != "" || p.filter.Value() != "" {
			t.Fatalf("%s: did not leave the mode", m.name)
		}
	}
	p.Update(DBReadyMsg{}) // the database went away: the last load stays, marked
	if v := flat(p.View(100, 20)); !strings.Contains(v, "database unavailable") || !strings.Contains(v, "user0@example.com") {
		t.Errorf("after losing the database: %s", v)
	}
	sweep(t, "stale", p)
}

// Against PostgreSQL with BetterAuth's own rows.
func TestSessionsPaneLive(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})
	r := newRig(t, Config{Database: database.Options{URL: dsn}, AllowWrites: true})
	ro, rw := r.addSessions(false), r.addSessions(true)
	r.run(r.db.Init())
	if len(ro.rows) != len(seed.Sessions) || len(rw.rows) != len(seed.Sessions) {
		t.Fatalf("loaded %d and %d rows, seeded %d: %s", len(ro.rows), len(rw.rows), len(seed.Sessions), flat(ro.View(120, 20)))
	}
	if _, d := lastTimer[sessionsTickMsg](t, r.sessT[0]); d != ro.cfg.SessionsEvery {
		t.Errorf("refresh armed for %s", d)
	}

	t.Run("list", func(t *testing.T) {
		raw := ro.View(200, 40)
		v := ansi.Strip(raw)
		for _, u := range seed.Users {
			if !strings.Contains(v, u.Email) {
				t.Errorf("no %s in\n%s", u.Email, v)
			}
		}
		for _, s := range seed.Sessions {
			if strings.Contains(v, s.Token) || strings.Contains(v, s.Token[:8]) {
				t.Errorf("more than the token prefix of %s is on screen", s.ID)
			}
			if !strings.Contains(v, textsafe.TokenPrefix(s.Token)) {
				t.Errorf("the prefix of %s is not on screen", s.ID)
			}
		}
		if strings.Contains(raw, "\x07") || strings.Contains(raw, "\x1b]") || strings.ContainsAny(v, "\x1b\x07") {
			t.Errorf("the hostile user agent reached the terminal raw: %q", raw)
		}
		if !strings.Contains(v, `evil\x1b]0;pwned\x07agent`) {
			t.Errorf("the hostile user agent is not shown escaped:\n%s", v)
		}
		if !strings.Contains(v, "refresh every 3s · last query") {
			t.Errorf("no refresh status:\n%s", v)
		}
		if ro.Selection() != ro.rows[0].ID || len(ro.Findings()) != 0 {
			t.Errorf("selection %q, findings %v", ro.Selection(), ro.Findings())
		}
	})

	t.Run("filter", func(t *testing.T) {
		ro.Update(press("/"))
		if !ro.Capturing() {
			t.Fatal("/ did not open the filter")
		}
		for _, c := range "USER2@" {
			ro.Update(press(string(c)))
		}
		v := ansi.Strip(ro.View(200, 40))
		if !strings.Contains(v, "user2@example.com") || strings.Contains(v, "user1@example.com") || strings.Contains(v, "user3@example.com") {
			t.Errorf("filter USER2@:\n%s", v)
		}
		ro.Update(press("enter"))
		if ro.Capturing() || len(ro.shown) != 2 {
			t.Errorf("enter: capturing %v, %d rows", ro.Capturing(), len(ro.shown))
		}
		ro.Update(press("esc"))
		if len(ro.shown) != len(ro.rows) {
			t.Errorf("esc did not clear the filter: %d rows", len(ro.shown))
		}
	})

	t.Run("detail", func(t *testing.T) {
		var hostile database.Session
		for i, s := range ro.rows {
			if s.UserAgent == pgtest.SeedHostileUserAgent {
				hostile = s
				for ro.cursor != i {
					ro.Update(press("j"))
				}
			}
		}
		ro.Update(press("enter"))
		raw := ro.View(120, 30)
		v := flat(raw)
		for _, want := range []string{"Session " + hostile.ID, hostile.Email, "(prefix only)", hostile.ExpiresAt.Format(time.RFC3339), "in 6d", "✓ active", `evil\x1b]0;pwned\x07agent`} {
			if !strings.Contains(v, want) {
				t.Errorf("detail lacks %q: %s", want, v)
			}
		}
		if strings.Contains(raw, "\x07") || strings.Contains(raw, "\x1b]") {
			t.Error("the detail view prints the user agent raw")
		}
		ro.Update(press("esc"))
		if ro.detailID != "" || !strings.Contains(flat(ro.View(120, 30)), "CREATED EXPIRES STATUS USER") {
			t.Error("esc did not close the detail")
		}
	})

	t.Run("revoke", func(t *testing.T) {
		victim := rw.rows[2]
		rw.Update(press("j"))
		rw.Update(press("j"))
		if rw.Selection() != victim.ID {
			t.Fatalf("selected %q, want %q", rw.Selection(), victim.ID)
		}
		rw.Update(press("x"))
		if !rw.Capturing() {
			t.Fatal("x did not ask")
		}
		want := fmt.Sprintf("revoke session %s of %s? y/n", victim.ID, victim.Email)
		if v := flat(rw.View(200, 30)); !strings.Contains(v, want) {
			t.Errorf("no %q in %s", want, v)
		}
		r.run(rw.Update(press("y")))
		if len(r.status) == 0 || r.status[len(r.status)-1].Error || !strings.Contains(r.status[len(r.status)-1].Text, "revoked session "+victim.ID) {
			t.Fatalf("status %+v", r.status)
		}
		if len(rw.rows) != len(seed.Sessions)-1 || rowHas(rw, victim.ID) {
			t.Errorf("the revoked row is still listed: %d rows", len(rw.rows))
		}
		r.run(ro.Update(press("r")))
		if rowHas(ro, victim.ID) || len(ro.rows) != len(seed.Sessions)-1 {
			t.Errorf("the session is still in the database: %d rows", len(ro.rows))
		}
	})

	t.Run("sweep", func(t *testing.T) {
		sweep(t, "live", rw)
		rw.Update(press("enter"))
		sweep(t, "live detail", rw)
		rw.Update(press("esc"))
	})
}

func rowHas(p *sessionsPane, id string) bool {
	for _, r := range p.rows {
		if r.ID == id {
			return true
		}
	}
	return false
}

// During an outage the pane says the loads fail and that it is not
// refreshing, never that the queries are slow: a real database behind a
// proxy that goes away.
func TestSessionsPaneOutageIsNotSlowness(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 2})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := latproxy.Start(u.Host, latproxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	u.Host = proxy.Addr()
	r := newRig(t, Config{Database: database.Options{URL: u.String()}})
	p := r.addSessions(false)
	now := testNow
	p.now = func() time.Time { return now }
	r.run(r.db.Init())
	if len(p.rows) != len(seed.Sessions) {
		t.Fatalf("loaded %d rows: %s", len(p.rows), flat(p.View(120, 20)))
	}
	noSlow := func(when string) {
		t.Helper()
		v, s := flat(p.View(120, 20)), flat(p.Summary(60, 4))
		if strings.Contains(v+s, "slow queries") || strings.Contains(v+s, "! slow") || p.Findings().Has(finding.DBSlow) {
			t.Errorf("%s: the pane calls an outage slow:\nview: %s\nsummary: %s\nfindings: %v", when, v, s, p.Findings())
		}
	}

	proxy.Close() // the database goes away
	for i := range 3 {
		now = now.Add(time.Duration(i+1) * 3 * time.Second)
		tick, _ := lastTimer[sessionsTickMsg](t, r.sessT[0])
		r.run(r.update(tick))
		if p.loadErr == "" {
			t.Fatalf("load %d succeeded without a database", i)
		}
		noSlow(fmt.Sprintf("failed load %d", i+1))
		if !p.Findings().Has(finding.DBUnreachable) {
			t.Errorf("failed load: findings %v", p.Findings())
		}
	}
	v := flat(p.View(120, 20))
	if !strings.Contains(v, "! load failed at 10:00:18; retrying every 24s · last query") || !strings.Contains(v, "user1@example.com") {
		t.Errorf("after failed loads: %s", v)
	}

	// The database pane notices too: the sessions pane keeps the last
	// rows, marked, and is not refreshing.
	tick, _ := lastTimer[dbTickMsg](t, r.dbT)
	r.run(r.update(tick))
	if p.db != nil || r.db.state != dbDown {
		t.Fatalf("database pane state %v", r.db.state)
	}
	noSlow("database down")
	if v := flat(p.View(120, 20)); !strings.Contains(v, "database unavailable") || !strings.Contains(v, "not refreshing until the database is back") {
		t.Errorf("database down: %s", v)
	}

	// A query the server itself cancels is slow; no answer at all is not.
	q, _ := fakeReady(t, false)
	q.Update(sessionsLoadedMsg{gen: q.gen, seq: q.seq, err: errors.New("listing sessions: cancelled by statement_timeout (10s)")})
	if !q.Findings().Has(finding.DBSlow) {
		t.Errorf("statement_timeout: %v", q.Findings())
	}
	q.Update(sessionsLoadedMsg{gen: q.gen, seq: q.seq, err: errors.New("listing sessions: timed out")})
	if !q.Findings().Has(finding.DBUnreachable) || strings.Contains(flat(q.View(120, 20)), "slow queries") {
		t.Errorf("no answer: %v\n%s", q.Findings(), flat(q.View(120, 20)))
	}
	if v := flat(q.View(120, 20)); !strings.Contains(v, "nothing loaded yet") || strings.Contains(v, "00:00:00") {
		t.Errorf("a failure before any load: %s", v)
	}
}

// The / filter searches the loaded rows only, and says so when older
// sessions exist that it does not see.
func TestSessionsPaneFilterSaysWhatItSearches(t *testing.T) {
	p, _ := fakeReady(t, false)
	rows := fakeSessions(sessionsPageSize)
	last := rows[len(rows)-1]
	p.Update(sessionsLoadedMsg{gen: p.gen, seq: p.seq, page: &database.SessionsPage{
		Sessions: rows, Elapsed: time.Millisecond, Next: &database.Cursor{CreatedAt: last.CreatedAt, ID: last.ID},
	}})
	if b := p.keys.Filter.Help(); !strings.Contains(b.Desc, "loaded") {
		t.Errorf("the / binding says %q", b.Desc)
	}
	p.Update(press("/"))
	if v := flat(p.View(160, 20)); !strings.Contains(v, "in the loaded rows") {
		t.Errorf("the empty filter does not say what it searches: %s", v)
	}
	for _, c := range "user3@" {
		p.Update(press(string(c)))
	}
	if v := flat(p.View(160, 20)); !strings.Contains(v, fmt.Sprintf("%d match among the newest %d loaded", len(p.shown), sessionsPageSize)) {
		t.Errorf("matches: %s", v)
	}
	p.Update(press("esc"))
	p.filter.SetValue("nobody@")
	p.refilter()
	if v := flat(p.View(160, 20)); !strings.Contains(v, fmt.Sprintf("no session among the newest %d matches; older ones are not searched", sessionsPageSize)) {
		t.Errorf("no match: %s", v)
	}
	sweep(t, "filter, more", p)

	// A page that holds every session: the filter saw them all.
	q, _ := fakeReady(t, false)
	feed(q, fakeSessions(5), time.Millisecond, "")
	q.filter.SetValue("nobody@")
	q.refilter()
	if v := flat(q.View(160, 20)); !strings.Contains(v, "no session matches the filter") || strings.Contains(v, "among") {
		t.Errorf("whole table loaded: %s", v)
	}
}

// A live server that cancels a slow page (statement_timeout) makes the
// pane say slow, not unreachable: the load waits a little longer than
// the server's own timeout, so the server's answer arrives first. The
// page is slow because another session holds a lock on the table.
func TestSessionsPaneSlowQueryIsSlow(t *testing.T) {
	dsn := pgtest.DSN(t)
	pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	locker, err := pgx.Connect(c, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(context.Background())
	tx, err := locker.Begin(c)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())

	cfg := Config{Timeout: time.Second}
	cfg.defaults()
	db, err := database.Open(c, database.Options{URL: dsn, ConnectTimeout: cfg.Timeout, StatementTimeout: cfg.Timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema, _, err := db.DetectSchema(c)
	if err != nil || schema.Session == nil {
		t.Fatalf("schema: %v", err)
	}
	if _, err := tx.Exec(c, `LOCK TABLE `+schema.Session.String()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	p := newSessionsPane(&cfg, newStyles())
	p.tick = (&timers{}).tick
	load := p.Update(DBReadyMsg{DB: db, Schema: schema})
	p.Update(load())
	if !p.Findings().Has(finding.DBSlow) || !strings.Contains(p.loadErr, "statement_timeout") {
		t.Errorf("a page the server cancelled: %q, findings %v", p.loadErr, p.Findings())
	}
}

// The missing-index hint shows only when the table is large enough for
// the sort to matter (the database package then raises the finding): a
// small table's page carries the hint text but no finding.
func TestSessionsPaneIndexHintOnlyWhenItMatters(t *testing.T) {
	p, _ := fakeReady(t, true)
	hint := `CREATE INDEX CONCURRENTLY "session_created_id_idx" ON "public"."session" ("createdAt" DESC, "id" DESC);`
	p.Update(sessionsLoadedMsg{gen: p.gen, seq: p.seq, page: &database.SessionsPage{Sessions: fakeSessions(15), Elapsed: time.Millisecond, IndexHint: hint}})
	if v := ansi.Strip(p.View(160, 40)); strings.Contains(v, "CREATE INDEX") {
		t.Errorf("a 15-row table shows the index hint:\n%s", v)
	}
	feed(p, fakeSessions(15), time.Millisecond, hint)
	if v := ansi.Strip(p.View(160, 40)); !strings.Contains(v, "CREATE INDEX") {
		t.Errorf("no index hint where the finding says it matters:\n%s", v)
	}
}

// The summary box lists the newest sessions with their users: at 40×8,
// after the count, as many as fit.
func TestSessionsSummaryShowsNewest(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 4, SessionsPerUser: 2})
	r := newRig(t, Config{Database: database.Options{URL: dsn}})
	p := r.addSessions(false)
	r.run(r.db.Init())
	if len(p.rows) != len(seed.Sessions) {
		t.Fatalf("%d rows", len(p.rows))
	}
	lines := strings.Split(ansi.Strip(p.Summary(40, 8)), "\n")
	if lines[0] != fit("8 sessions, 8 active", 40) {
		t.Errorf("count line %q", lines[0])
	}
	now := p.now()
	for i, l := range lines[1:] {
		s := p.rows[i]
		if !strings.HasPrefix(l, "✓ "+s.Email+" ") || !strings.HasSuffix(l, report.Rel(s.CreatedAt, now)) {
			t.Errorf("row %d: %q, want %s created %s", i, l, s.Email, report.Rel(s.CreatedAt, now))
		}
	}
}

// A server with sessions in Redis and none in its database: the pane
// lists the store's sessions once the configuration names the store.
func TestSessionsPaneReadsTheStore(t *testing.T) {
	dsn := pgtest.DSN(t)
	rds := redistest.Start(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_REDIS_URL=" + rds.URL}})
	batest.SignUp(t, srv.URL, "redis@example.com", lfPassword)
	cfg := &Config{Timeout: 5 * time.Second}
	cfg.defaults()
	p := newSessionsPane(cfg, newStyles())
	keep := func(msg tea.Msg) bool { _, ok := msg.(sessionsLoadedMsg); return ok }
	msg := SecretsLoadedMsg{Config: probe.Config{StoreURL: probe.Setting{Value: rds.URL, From: "--redis-url"}}}
	pump(t, p.Update, p.Update(msg), 10*time.Second, keep, func() bool { return p.loaded })
	v := ansi.Strip(p.View(140, 20))
	for _, want := range []string{"redis@example.com", "the store (secondaryStorage)"} {
		if !strings.Contains(v, want) {
			t.Errorf("pane lacks %q:\n%s", want, v)
		}
	}
	p.SetFocused(true)
	p.Update(press("enter"))
	if d := ansi.Strip(p.View(140, 20)); !strings.Contains(d, "stored in") || !strings.Contains(d, "store") {
		t.Errorf("details do not say where the session lives:\n%s", d)
	}
	p.Update(press("esc"))
	rds.Stop()
	pump(t, p.Update, p.load(), 10*time.Second, keep, func() bool { return !p.loading })
	if !p.Findings().Has(finding.StoreUnreachable) {
		t.Errorf("store down: findings %+v", p.Findings())
	}
}
