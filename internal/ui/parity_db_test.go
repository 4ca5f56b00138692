package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/report"
)

// The secrets, database and sessions panes and the CLI print the same
// report builders: every fact of what `authtui secrets`, `authtui db` and
// `authtui sessions` print (report.Text of report.Secrets, report.Health,
// report.Sessions, as cmd/authtui's write*Text do) is on the pane too.
//
// Facts the pane shows in another form, and so are not compared:
//   - the block titles ("Secrets", "Database", "Sessions"): the pane's
//     frame carries the title;
//   - the secrets block's meta ("3 sources"): the Secrets summary box
//     says "3 source(s), …";
//   - the sessions "More: --after CURSOR" line: the pane does not page, it
//     shows the newest page and says "(newest 200)" when there are more.
//
// The CLI's facts come from the probes run as the CLI runs them, apart
// from the pane's own loads, so the test also sees that the two read the
// same thing.

// pdbFacts are the facts of bs a pane must show: all but the titles and
// metas (see above).
func pdbFacts(bs []report.Block) []string {
	var untitled []report.Block
	for _, b := range bs {
		b.Title, b.Meta = "", ""
		untitled = append(untitled, b)
	}
	return report.Facts(untitled)
}

// pdbCheck fails for each fact the pane's view or the CLI's text lacks.
// Prose is wrapped to each one's width, so words are compared.
func pdbCheck(t *testing.T, what, view, cli string, facts []string) {
	t.Helper()
	if len(facts) < 5 {
		t.Fatalf("%s: only %d facts: %q", what, len(facts), facts)
	}
	v, c := flat(view), flat(cli)
	for _, f := range facts {
		if !strings.Contains(v, flat(f)) {
			t.Errorf("%s: the pane lacks %q:\n%s", what, f, view)
		}
		if !strings.Contains(c, flat(f)) {
			t.Errorf("%s: the CLI text lacks %q:\n%s", what, f, cli)
		}
	}
}

func pdbText(bs []report.Block) string { return report.TextString(bs, report.TextOptions{}) }

func TestParitySecrets(t *testing.T) {
	files := []string{"../../testdata/fixtures/env/auth.env", "../../testdata/fixtures/env/api.env", "../../testdata/fixtures/env/rotation.env",
		envFile(t, "weak.env", "BETTER_AUTH_SECRET=\"tooshort\\n\"\nAUTH_SECRET="+secretA+"\nBETTER_AUTH_URL=https://user:pw@auth.example.com/x?y=z\n"),
		envFile(t, "none.env", "BETTER_AUTH_URL=http://localhost:3000\n"),
	}
	cfg := &Config{EnvFiles: files}
	cfg.defaults()
	p := newSecretsPane(cfg, newStyles())
	settle(t, p.Update, p.Init(), 200*time.Millisecond)
	if !p.loaded {
		t.Fatal("the pane did not load")
	}

	// As `authtui secrets` runs the probe.
	sources, load := probe.LoadSources(probe.SourceOptions{EnvFiles: files})
	rep := probe.CheckSecrets(sources)
	rep.Findings = append(load, rep.Findings...)
	bs := report.Secrets(rep)
	facts := pdbFacts(bs)
	for _, want := range []string{"└ version 2 (current)", "└ also AUTH_SECRET (not used)", "✗ none → builtin-default", "✗ trailing newline, short, low entropy", "https://auth.example.com/x?…", "✗ 4 different secrets:"} {
		if !contains(facts, want) {
			t.Errorf("the facts lack %q: %q", want, facts)
		}
	}
	pdbCheck(t, "secrets", p.View(200, 120), pdbText(bs), facts)
	if v := p.View(200, 120); strings.Contains(v, secretA) || strings.Contains(v, "tooshort") || strings.Contains(v, "pw@") {
		t.Error("a secret or a URL's password is on the pane")
	}
}

func TestParityDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	r := newRig(t, Config{Database: database.Options{URL: dsn}})
	r.run(r.db.Init())
	for range 2 {
		tick, _ := lastTimer[dbTickMsg](t, r.dbT)
		r.run(r.update(tick))
	}
	if r.db.state != dbConnected {
		t.Fatalf("state %v", r.db.state)
	}
	view := r.db.View(200, 120)

	// The pane's own health, measured over its refreshes.
	h := r.db.Health()
	bs := report.Health(h)
	pdbCheck(t, "database (pane's health)", view, pdbText(bs), pdbFacts(bs))

	// What `authtui db` measures itself: the same server, the same
	// tables. Its round trips, connection count and clock differ from
	// the pane's, so those lines are left out.
	cli, db := database.CheckHealth(context.Background(), database.Options{URL: dsn, ConnectTimeout: 5 * time.Second}, 3, time.Millisecond)
	if db != nil {
		db.Close()
	}
	var stable []report.Line
	for _, l := range report.HealthLines(cli) {
		switch l.Label {
		case "connections", "latency", "clock skew":
		default:
			stable = append(stable, l)
		}
	}
	if len(stable) < 10 {
		t.Fatalf("CheckHealth: %d lines: %+v", len(stable), cli)
	}
	pdbCheck(t, "database (authtui db)", view, pdbText(report.Health(cli)), pdbFacts([]report.Block{{Lines: stable}}))
}

func TestParityDatabaseUnreachable(t *testing.T) {
	url := fmt.Sprintf("postgres://authtui:hunter2@127.0.0.1:%d/app?sslmode=disable", closedPort(t))
	r := newRig(t, Config{Database: database.Options{URL: url}})
	r.run(r.db.Init())
	cli, _ := database.CheckHealth(context.Background(), database.Options{URL: url, ConnectTimeout: 5 * time.Second}, 1, time.Millisecond)
	if cli.Error == nil || r.db.state != dbDown {
		t.Fatalf("CheckHealth %+v, pane state %v", cli.Error, r.db.state)
	}
	bs := report.Health(cli)
	pdbCheck(t, "unreachable", r.db.View(200, 40), pdbText(bs), pdbFacts(bs))
}

// pdbSessions reads the newest page as `authtui sessions --limit 200`
// does.
func pdbSessions(t *testing.T, dsn string) *database.SessionsPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := database.Open(ctx, database.Options{URL: dsn, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema, _, err := db.DetectSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	page, err := db.Sessions(ctx, schema, database.SessionQuery{Limit: sessionsPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func TestParitySessions(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})
	// One expired session, to show both states.
	pdbExec(t, dsn, `UPDATE session SET "expiresAt" = now() - interval '3 hours' WHERE id = '`+seed.Sessions[1].ID+`'`)

	check := func(t *testing.T, what string, hinted bool) {
		r := newRig(t, Config{Database: database.Options{URL: dsn}})
		p := r.addSessions(false)
		r.run(r.db.Init())
		if !p.loaded {
			t.Fatalf("not loaded: %s", flat(p.View(120, 20)))
		}
		now := time.Now()
		p.now = func() time.Time { return now }

		page := pdbSessions(t, dsn)
		o := report.SessionsOptions{} // the pane does not page: no Next
		if page.Findings.Has(finding.DBSessionsIndexMissing) {
			o.IndexHint = page.IndexHint // as the CLI decides
		}
		b := report.Sessions(page.Sessions, now, o)
		facts := pdbFacts([]report.Block{b})
		if b.Meta != "" {
			facts = append(facts, b.Meta) // the pane's head line is the count
		}
		pdbCheck(t, what, p.View(220, len(page.Sessions)+12), pdbText([]report.Block{b}), facts)
		if (o.IndexHint != "") != hinted || (p.indexHint != "") != hinted {
			t.Errorf("%s: want a hint %v: the CLI's %q, the pane's %q", what, hinted, o.IndexHint, p.indexHint)
		}
	}
	t.Run("seeded", func(t *testing.T) { check(t, "sessions", false) })

	// A table large enough for the missing index to matter: both show
	// the hint.
	pdbExec(t, dsn, `INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "userId", "ipAddress", "userAgent")
		SELECT 'bulk' || g, now() + interval '1 day', 'bulk-token-' || g, now() - interval '2 hours' - g * interval '1 second', now(), '`+seed.Users[0].ID+`', '', ''
		FROM generate_series(1, 50000) g`)
	t.Run("large", func(t *testing.T) { check(t, "sessions, large table", true) })
}

func pdbExec(t *testing.T, dsn, sql string) {
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
