package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/store"
	"github.com/authtui/authtui/internal/report"
)

// dbFlags are the flags of every command that may use the database.
type dbFlags struct {
	url          string
	storeURL     string // --redis-url
	sessionTable string
	userTable    string
	allowWrites  bool
	timeout      time.Duration
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.url, "database-url", "", "PostgreSQL URL (default: DATABASE_URL from the env sources, then the environment)")
	fs.StringVar(&d.sessionTable, "session-table", "", "session table, as table or schema.table (default: detected)")
	fs.StringVar(&d.userTable, "user-table", "", "user table, as table or schema.table (default: detected)")
	fs.StringVar(&d.storeURL, "redis-url", "", "session store of BetterAuth's secondaryStorage, redis:// or rediss:// (default: REDIS_URL, KV_URL, … from the env sources, then the environment); read-only")
	d.timeout = 10 * time.Second
	fs.Var(durationFlag{&d.timeout}, "timeout", "timeout for each network step (connect, each query); must be positive")
}

// resolveURL picks the database URL through the one resolver: the flag,
// else the first source that sets DATABASE_URL, else the process
// environment.
func (d *dbFlags) resolveURL(a *app, c *common, sources []probe.Source) string {
	return probe.Resolve(probe.Flags{DatabaseURL: d.url, Declared: c.declared()}, sources, a.getenv).DatabaseURL.Value
}

func (d *dbFlags) options(url string) database.Options {
	return database.Options{
		URL: url, AllowWrites: d.allowWrites, SessionTable: d.sessionTable, UserTable: d.userTable,
		ConnectTimeout: d.timeout, StatementTimeout: d.timeout,
	}
}

func runDB(a *app, args []string) (int, error) {
	var (
		c     common
		d     dbFlags
		pings int
	)
	fs := newFlagSet(a, "db", "db [--database-url URL] [flags]", `
Check the database behind BetterAuth: can it be reached (and if not, why:
DNS, refused, auth, TLS, timeout), server version, TLS (and whether the
server's certificate was verified: sslmode prefer and require do not),
connections, round-trip latency, clock skew, where the session and user
tables are and whether they look like BetterAuth's. The connection is
read-only.

Example:
  authtui db --database-url postgres://app@db.example.com/app`)
	c.register(fs)
	d.register(fs)
	fs.IntVar(&pings, "pings", 5, fmt.Sprintf("round trips to measure latency with (1 to %d)", database.MaxPings))
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	// Beyond the latency window more pings measure nothing more, and they
	// lengthen the run's deadline without bound.
	if pings < 1 || pings > database.MaxPings {
		return exitUsage, usagef("--pings must be between 1 and %d", database.MaxPings)
	}
	sources, _ := c.loadSources(a)
	url := d.resolveURL(a, &c, sources)
	if url == "" {
		return exitUsage, usagef("no database: pass --database-url or set DATABASE_URL in an env file")
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout+time.Duration(pings)*200*time.Millisecond+5*time.Second)
	defer cancel()
	h, db := database.CheckHealth(ctx, d.options(url), pings, 100*time.Millisecond)
	if db != nil {
		db.Close()
	}
	if c.json {
		return exitFor(h.Findings), writeJSON(a.stdout, h)
	}
	writeHealthText(a.stdout, newStyle(c.colors(a)), h, true)
	return exitFor(h.Findings), nil
}

// parseNoArgs parses flags for a command that takes no arguments. It
// returns code -1 to go on.
func parseNoArgs(fs *flag.FlagSet, args []string) (int, error) {
	pos, err := parseInterleaved(fs, args)
	if err == errHelp {
		return exitOK, nil
	} else if err != nil {
		return exitUsage, err
	}
	if len(pos) > 0 {
		return exitUsage, usagef("unexpected argument %q", pos[0])
	}
	return -1, nil
}

// writeHealthText prints the health report, and its findings unless a
// caller collects them for one list at the end (and heads the section
// itself: check).
func writeHealthText(w io.Writer, st style, h *database.Health, withFindings bool) {
	bs := report.Health(h)
	if withFindings {
		bs = append(bs, report.Findings(h.Findings))
	} else {
		bs = untitled(bs)
	}
	report.Text(w, bs, st.reportText())
}

// sessionsOutput is the JSON of `authtui sessions`.
type sessionsOutput struct {
	Sessions  []database.Session `json:"sessions"`
	Next      string             `json:"next,omitempty"`
	IndexHint string             `json:"index_hint,omitempty"`
	Findings  finding.List       `json:"findings"`
}

func runSessions(a *app, args []string) (int, error) {
	var (
		c     common
		d     dbFlags
		q     database.SessionQuery
		after string
	)
	fs := newFlagSet(a, "sessions", "sessions [--database-url URL] [--user EMAIL] [--active] [--limit N] [--after CURSOR]", `
List BetterAuth sessions, newest first, joined with their users. Tokens are
shown as a short prefix only. Pages are read with keyset pagination: each
page is one bounded query, whatever the size of the table. The connection is
read-only.

Example:
  authtui sessions --env-file .env --user alice@example.com --active`)
	c.register(fs)
	d.register(fs)
	fs.StringVar(&q.UserEmail, "user", "", "only sessions of the user with this email")
	fs.BoolVar(&q.ActiveOnly, "active", false, "only unexpired sessions")
	fs.IntVar(&q.Limit, "limit", database.DefaultPageSize, fmt.Sprintf("sessions per page (at most %d)", database.MaxPageSize))
	fs.StringVar(&after, "after", "", "continue after this cursor (printed at the end of the previous page)")
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if q.Limit < 1 || q.Limit > database.MaxPageSize {
		return exitUsage, usagef("--limit must be between 1 and %d", database.MaxPageSize)
	}
	if after != "" {
		cur, err := parseCursor(after)
		if err != nil {
			return exitUsage, err
		}
		q.After = cur
	}
	sources, _ := c.loadSources(a)
	cfg := probe.Resolve(probe.Flags{DatabaseURL: d.url, StoreURL: d.storeURL, Declared: c.declared()}, sources, a.getenv)
	url := cfg.DatabaseURL.Value
	if url == "" && !cfg.StoreURL.Set() {
		return exitUsage, usagef("no database: pass --database-url or set DATABASE_URL in an env file (or --redis-url for sessions in secondaryStorage)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*d.timeout)
	defer cancel()
	out := sessionsOutput{Sessions: []database.Session{}}
	if url != "" {
		if code, err := dbSessions(ctx, &d, url, cfg.StoreURL.Set(), q, &out); err != nil {
			return code, err
		}
	}
	if cfg.StoreURL.Set() {
		addStoreSessions(ctx, &d, cfg.StoreURL.Value, q.Limit, &out)
	}
	return finishSessions(a, c, out)
}

// dbSessions reads a page of the database's sessions into out. A database
// without a session table but with users is secondaryStorage
// (database.ForStore), not a missing schema.
func dbSessions(ctx context.Context, d *dbFlags, url string, storeConfigured bool, q database.SessionQuery, out *sessionsOutput) (int, error) {
	db, err := database.Open(ctx, d.options(url))
	if err != nil {
		ce := asConnectError(err)
		out.Findings.Add(finding.DBUnreachable, "", "cannot connect to the database (%s): %s", ce.Class, ce.Message)
		return 0, nil
	}
	defer db.Close()
	schema, fsch, err := db.DetectSchema(ctx)
	if err != nil {
		return exitFound, err
	}
	out.Findings = append(out.Findings, database.ForStore(fsch, schema, storeConfigured)...)
	if schema.Session == nil {
		return 0, nil
	}
	page, err := db.Sessions(ctx, schema, q)
	if err != nil {
		return exitFound, err
	}
	out.Sessions, out.IndexHint = page.Sessions, page.IndexHint
	out.Findings = append(out.Findings, page.Findings...)
	if page.Next != nil {
		out.Next = formatCursor(*page.Next)
	}
	return 0, nil
}

// addStoreSessions merges the session store's newest sessions
// (secondaryStorage) into out, each session marked with where it lives.
func addStoreSessions(ctx context.Context, d *dbFlags, url string, limit int, out *sessionsOutput) {
	var recent []store.Session
	st, err := store.Open(ctx, store.Options{URL: url, Timeout: d.timeout})
	if err == nil {
		defer st.Close()
		recent, err = st.Recent(ctx, limit)
	}
	if err != nil {
		out.Findings = append(out.Findings, store.Combine(nil, err, store.Row{})...)
	}
	out.Sessions = database.WithStore(out.Sessions, recent, time.Now(), limit)
}

func finishSessions(a *app, c common, out sessionsOutput) (int, error) {
	if c.json {
		return exitFor(out.Findings), writeJSON(a.stdout, out)
	}
	st := newStyle(c.colors(a))
	writeSessionsText(a.stdout, st, out)
	return exitFor(out.Findings), nil
}

func asConnectError(err error) *database.ConnectError {
	if ce, ok := err.(*database.ConnectError); ok {
		return ce
	}
	return &database.ConnectError{Class: "server", Message: err.Error()}
}

func writeSessionsText(w io.Writer, st style, out sessionsOutput) {
	o := report.SessionsOptions{Next: out.Next}
	// Only where the sort matters: the finding says so, and on a small
	// table the hint is noise.
	if out.Findings.Has(finding.DBSessionsIndexMissing) {
		o.IndexHint = out.IndexHint
	}
	bs := []report.Block{report.Sessions(out.Sessions, time.Now(), o)}
	if len(out.Findings) > 0 {
		bs = append(bs, report.Findings(out.Findings))
	}
	report.Text(w, bs, st.reportText())
}

func formatCursor(c database.Cursor) string {
	return c.CreatedAt.UTC().Format(time.RFC3339Nano) + "," + c.ID
}

func parseCursor(s string) (*database.Cursor, error) {
	ts, id, ok := strings.Cut(s, ",")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || id == "" {
		return nil, usagef("--after %q is not a cursor (TIME,ID as printed after a page)", s)
	}
	return &database.Cursor{CreatedAt: t, ID: id}, nil
}
