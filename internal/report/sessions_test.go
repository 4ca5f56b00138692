package report

import (
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// sessPage reads a page of sessions as `authtui sessions` does.
func sessPage(t *testing.T, dsn string, q database.SessionQuery) *database.SessionsPage {
	t.Helper()
	db, err := database.Open(dbCtx(t), database.Options{URL: dsn, ConnectTimeout: 5 * time.Second, StatementTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema, _, err := db.DetectSchema(dbCtx(t))
	if err != nil || schema.Session == nil {
		t.Fatalf("schema: %v", err)
	}
	page, err := db.Sessions(dbCtx(t), schema, q)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// rowOf is the text line of the table that holds want.
func rowOf(out, want string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, want) {
			return l
		}
	}
	return ""
}

func TestSessionsReport(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{})
	// One session expired an hour ago, one user gone without its
	// sessions.
	dbExec(t, dsn, `UPDATE session SET "expiresAt" = now() - interval '1 hour' WHERE id = '`+seed.Sessions[0].ID+`'`)
	gone := seed.Users[2]
	dbDropUser(t, dsn, gone.ID)

	page := sessPage(t, dsn, database.SessionQuery{Limit: 100})
	if len(page.Sessions) != len(seed.Sessions) {
		t.Fatalf("%d sessions, seeded %d", len(page.Sessions), len(seed.Sessions))
	}
	now := time.Now()
	b := Sessions(page.Sessions, now, SessionsOptions{Next: "2026-01-02T03:04:05Z,abc"})
	out := dbText([]Block{b})
	dbHasFacts(t, "text", out, []Block{b},
		"Sessions  6 sessions, 3 active",
		"CREATED  EXPIRES    STATUS",
		"More: --after 2026-01-02T03:04:05Z,abc",
	)
	for _, s := range page.Sessions {
		row := rowOf(out, s.TokenPrefix)
		switch {
		case s.ID == seed.Sessions[0].ID:
			if !strings.Contains(row, "59m ago") && !strings.Contains(row, "1h00m ago") || !strings.Contains(row, "expired") {
				t.Errorf("the expired session: %q", row)
			}
		case s.UserID == gone.ID:
			if !strings.Contains(row, "✗ no user") || !strings.Contains(row, "(user missing: "+gone.ID+")") || strings.Contains(row, gone.Email) {
				t.Errorf("a session of a deleted user: %q", row)
			}
		default:
			if !strings.Contains(row, "now") || !strings.Contains(row, "in 6d23h") || !strings.Contains(row, "✓ active") || !strings.Contains(row, s.Email) {
				t.Errorf("an active session: %q", row)
			}
		}
	}
	for _, s := range seed.Sessions {
		if strings.Contains(out, s.Token) || strings.Contains(out, s.Token[:8]) {
			t.Fatalf("more than the prefix of the token of %s is printed", s.ID)
		}
		if !strings.Contains(out, textsafe.TokenPrefix(s.Token)) {
			t.Errorf("the prefix of %s is not printed", s.ID)
		}
	}
	if strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, `evil\x1b]0;pwned\x07agent`) {
		t.Errorf("the hostile user agent is not shown escaped:\n%q", out)
	}

	// BetterAuth's schema has no index on the creation time: the page
	// carries a hint, but on six rows no finding, and the caller leaves
	// the hint out.
	if page.IndexHint == "" || page.Findings.Has(finding.DBSessionsIndexMissing) {
		t.Fatalf("hint %q, findings %v", page.IndexHint, page.Findings)
	}
	if strings.Contains(out, "CREATE INDEX") || strings.Contains(out, "Hint") {
		t.Errorf("a hint nobody asked for:\n%s", out)
	}
	hinted := dbText([]Block{Sessions(page.Sessions, now, SessionsOptions{IndexHint: page.IndexHint})})
	if !strings.Contains(hinted, "\n    "+page.IndexHint+"\n") || !strings.Contains(dbWords(hinted), "Hint: no index leads with the creation time") {
		t.Errorf("the hint, with the statement on a line of its own:\n%s", hinted)
	}
}

func TestSessionsReportEmpty(t *testing.T) {
	dsn := pgtest.DSN(t)
	pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{SessionsPerUser: -1})
	page := sessPage(t, dsn, database.SessionQuery{})
	b := Sessions(page.Sessions, time.Now(), SessionsOptions{})
	if out := dbText([]Block{b}); strings.TrimSpace(out) != "Sessions\n  No sessions." {
		t.Errorf("no sessions:\n%s", out)
	}
}
