package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// loginFlags are the flags of the commands that can run the login flow.
type loginFlags struct {
	baseURL, origin, email, passwordEnv, apiURL, replay, cookiePrefix string
}

func (l *loginFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.baseURL, "base-url", "", "URL of the auth service (default: BETTER_AUTH_URL of the sources)")
	fs.StringVar(&l.origin, "origin", "", "front-end origin to sign in from (default: the base URL's origin)")
	fs.StringVar(&l.email, "email", "", "test user's email")
	fs.StringVar(&l.passwordEnv, "password-env", "", "name of the environment variable holding the test user's password (never pass a password as a flag); without it, a prompt asks")
	fs.StringVar(&l.apiURL, "api-url", "", "a protected endpoint of your own backend, tried with the cookie and the bearer token")
	fs.StringVar(&l.replay, "replay-session", "", "with a database and no credentials: replay an existing session (an id, or latest) signed with each candidate secret to name the server's secret. This uses a real user's session")
	fs.StringVar(&l.cookiePrefix, "cookie-prefix", "", "advanced.cookiePrefix of the server (default better-auth)")
}

// wanted reports whether the flags ask for a login run.
func (l *loginFlags) wanted() bool { return l.email != "" || l.replay != "" }

// password reads the password from the named variable, or asks on the
// terminal without echo.
func (l *loginFlags) password(a *app) (string, error) {
	if l.email == "" {
		return "", nil
	}
	if l.passwordEnv != "" {
		pw := a.getenv(l.passwordEnv)
		if pw == "" {
			return "", usagef("--password-env %s: that variable is empty or unset", l.passwordEnv)
		}
		return pw, nil
	}
	if !a.stdinIsTTY {
		return "", usagef("no password: set --password-env VAR (stdin is not a terminal to ask on)")
	}
	fmt.Fprintf(a.stderr, "Password for %s: ", l.email)
	pw, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", usagef("cannot read the password: %v", err)
	}
	return string(pw), nil
}

// options resolves the auth service URL and the password for a login run.
func (l *loginFlags) options(a *app, secrets probe.SecretsReport, d *dbFlags) (login.Options, error) {
	opts := login.Options{
		BaseURL: l.baseURL, Origin: l.origin, Email: l.email, APIURL: l.apiURL, Timeout: d.timeout,
		Candidates: secrets.Candidates, CookiePrefix: l.cookiePrefix, ReplaySession: l.replay,
	}
	if opts.BaseURL == "" {
		for _, s := range secrets.Sources {
			if s.BaseURL != "" {
				opts.BaseURL = strings.TrimSpace(s.BaseURL)
				break
			}
		}
	}
	if opts.BaseURL == "" {
		return opts, usagef("no auth service URL: pass --base-url or set BETTER_AUTH_URL in an env file")
	}
	pw, err := l.password(a)
	if err != nil {
		return opts, err
	}
	opts.Password = pw
	return opts, nil
}

// needsDB refuses replay when no database is configured at all; a
// configured but unreachable one is reported by the replay step itself.
func (l *loginFlags) needsDB(a *app, sources []probe.Source, d *dbFlags) error {
	if l.replay != "" && d.resolveURL(a, sources) == "" {
		return usagef("--replay-session needs a database: pass --database-url or set DATABASE_URL")
	}
	return nil
}

// openDB connects for the token lookup; the caller closes the DB.
func openDB(a *app, sources []probe.Source, d *dbFlags) (*database.DB, *database.Schema, finding.List) {
	var fs finding.List
	url := d.resolveURL(a, sources)
	if url == "" {
		return nil, nil, fs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*d.timeout)
	defer cancel()
	db, err := database.Open(ctx, d.options(url))
	if err != nil {
		ce := asConnectError(err)
		fs.Add(finding.DBUnreachable, "", "cannot connect to the database (%s): %s; the token is not looked up.", ce.Class, ce.Message)
		return nil, nil, fs
	}
	schema, sfs, err := db.DetectSchema(ctx)
	fs = append(fs, sfs...)
	if err != nil {
		schema = nil
	}
	return db, schema, fs
}

func runLogin(a *app, args []string) (int, error) {
	var (
		c common
		d dbFlags
		l loginFlags
	)
	fs := newFlagSet(a, "login", "login --email EMAIL --password-env VAR [flags] | login --replay-session ID|latest [flags]", `
Sign in to the auth service as a test user and follow the session through
every check, streaming each step as it runs: BetterAuth reachable, sign-in,
the issued cookie verified against every candidate secret (which names the
secret the server really signs with), get-session with the cookie and with
the bearer token, the database row, and optionally your own API. Ends with
a diagnosis. Redirects are shown, never followed.

--replay-session needs no credentials: it takes an existing session's token
from the database, signs it with each candidate secret and asks get-session
which one the server accepts. It uses a real user's session for that.

Examples:
  TEST_PW=… authtui login --env-file auth.env --env-file api.env --email test@example.com --password-env TEST_PW
  authtui login --env-file .env --replay-session latest --api-url https://api.example.com/me`)
	c.register(fs)
	d.register(fs)
	l.register(fs)
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if !l.wanted() {
		return exitUsage, usagef("nothing to run: pass --email (with --password-env) or --replay-session")
	}
	sources, loadFs := c.loadSources(a)
	secrets := probe.CheckSecrets(sources)
	opts, err := l.options(a, secrets, &d)
	if err != nil {
		return exitUsage, err
	}
	if err := l.needsDB(a, sources, &d); err != nil {
		return exitUsage, err
	}
	db, schema, dbFs := openDB(a, sources, &d)
	if db != nil {
		defer db.Close()
	}
	opts.DB, opts.Schema = db, schema
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res := streamLogin(ctx, a, c, opts)
	res.Findings = append(append(loadFs, dbFs...), res.Findings...)
	if c.json {
		return exitFor(res.Findings), json.NewEncoder(a.stdout).Encode(res)
	}
	st := newStyle(c.colors(a))
	fmt.Fprintln(a.stdout)
	writeFindings(a.stdout, st, res.Findings)
	writeDiagnosis(a.stdout, st, res.Diagnosis)
	return exitFor(res.Findings), nil
}

// streamLogin runs the flow and prints each step as it ends (text) or
// each event as a JSON line.
func streamLogin(ctx context.Context, a *app, c common, opts login.Options) *login.Result {
	events := make(chan login.Event, 16)
	done := make(chan *login.Result, 1)
	go func() { done <- login.Run(ctx, opts, events) }()
	st := newStyle(c.colors(a))
	enc := json.NewEncoder(a.stdout)
	for e := range events {
		if c.json {
			enc.Encode(e)
			continue
		}
		if e.Phase == "end" {
			writeEvent(a.stdout, st, e)
		}
	}
	return <-done
}

func writeEvent(w io.Writer, st style, e login.Event) {
	mark := map[string]string{
		login.StatusOK: st.green + "✓" + st.reset, login.StatusWarn: st.yellow + "!" + st.reset,
		login.StatusFail: st.red + "✗" + st.reset, login.StatusSkip: st.dim + "-" + st.reset,
	}[e.Status]
	code := "   "
	if e.HTTPStatus != 0 {
		code = fmt.Sprint(e.HTTPStatus)
	}
	fmt.Fprintf(w, "%s %-40s %s %7s  %s\n", mark, textsafe.Truncate(e.Title, 40), code, fmtDur(e.Duration), textsafe.Truncate(e.Detail, 200))
	if e.Redirect != "" {
		fmt.Fprintf(w, "    redirect → %s (not followed)\n", textsafe.Truncate(e.Redirect, 120))
	}
}

func writeDiagnosis(w io.Writer, st style, d login.Diagnosis) {
	color := st.red
	if d.Healthy {
		color = st.green
	}
	fmt.Fprintf(w, "\n%sDiagnosis%s\n", st.bold, st.reset)
	for _, line := range textsafe.Wrap(textsafe.Clean(d.Verdict), 76) {
		fmt.Fprintf(w, "  %s%s%s\n", color, line, st.reset)
	}
}

// checkOutput is the JSON of `authtui check`.
type checkOutput struct {
	Secrets   probe.SecretsReport `json:"secrets"`
	Database  *database.Health    `json:"database,omitempty"`
	Login     *login.Result       `json:"login,omitempty"`
	Skipped   []string            `json:"skipped"`
	Findings  finding.List        `json:"findings"`
	Diagnosis login.Diagnosis     `json:"diagnosis"`
}

func runCheck(a *app, args []string) (int, error) {
	var (
		c common
		d dbFlags
		l loginFlags
	)
	fs := newFlagSet(a, "check", "check [flags]", `
Run every probe that is configured and diagnose: the secrets of every env
source, the database (when --database-url or DATABASE_URL is set), and the
login flow (when --email/--password-env or --replay-session is given). The
verdict names the most likely root cause first.

Example:
  authtui check --env-file auth/.env --env-file api/.env --replay-session latest`)
	c.register(fs)
	d.register(fs)
	l.register(fs)
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	sources, loadFs := c.loadSources(a)
	out := checkOutput{Skipped: []string{}}
	out.Secrets = probe.CheckSecrets(sources)
	out.Secrets.Findings = append(loadFs, out.Secrets.Findings...)
	out.Findings = append(out.Findings, out.Secrets.Findings...)
	st := newStyle(c.colors(a))
	if !c.json {
		fmt.Fprintf(a.stdout, "%s== Secrets%s\n", st.bold, st.reset)
		writeSecretsText(a.stdout, st, out.Secrets, false)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var (
		healthDB     *database.DB
		healthSchema *database.Schema
	)
	if url := d.resolveURL(a, sources); url != "" {
		hctx, cancel := context.WithTimeout(ctx, 3*d.timeout)
		h, db := database.CheckHealth(hctx, d.options(url), 3, 50*time.Millisecond)
		cancel()
		if db != nil {
			// The login flow looks its token up on this same connection.
			defer db.Close()
			healthDB, healthSchema = db, h.Schema
		}
		out.Database = h
		out.Findings = append(out.Findings, h.Findings...)
		if !c.json {
			fmt.Fprintf(a.stdout, "%s== Database%s\n", st.bold, st.reset)
			writeHealthText(a.stdout, st, h, false)
		}
	} else {
		out.Skipped = append(out.Skipped, "database: no --database-url and no DATABASE_URL")
	}

	var serverSecret []string
	if l.wanted() {
		opts, err := l.options(a, out.Secrets, &d)
		if err != nil {
			return exitUsage, err
		}
		if err := l.needsDB(a, sources, &d); err != nil {
			return exitUsage, err
		}
		opts.DB, opts.Schema = healthDB, healthSchema
		if !c.json {
			fmt.Fprintf(a.stdout, "%s== Login flow%s\n", st.bold, st.reset)
		}
		var res *login.Result
		if c.json {
			res = login.Run(ctx, opts, nil)
		} else {
			res = streamLogin(ctx, a, c, opts)
			fmt.Fprintln(a.stdout)
		}
		out.Login = res
		out.Findings = append(out.Findings, res.Findings...)
		serverSecret = res.ServerSecret
	} else {
		out.Skipped = append(out.Skipped, "login: no --email/--password-env and no --replay-session")
	}
	out.Diagnosis = login.Diagnose(out.Findings, login.DiagnoseContext{ServerSecret: serverSecret, APIURL: l.apiURL, Signers: signerLabels(out.Secrets)})
	if c.json {
		return exitFor(out.Findings), writeJSON(a.stdout, out)
	}
	for _, s := range out.Skipped {
		fmt.Fprintf(a.stdout, "%sSkipped %s%s\n", st.dim, s, st.reset)
	}
	fmt.Fprintln(a.stdout)
	writeFindings(a.stdout, st, out.Findings)
	writeDiagnosis(a.stdout, st, out.Diagnosis)
	return exitFor(out.Findings), nil
}

func signerLabels(rep probe.SecretsReport) []string {
	var out []string
	for _, s := range rep.Sources {
		if s.Present {
			out = append(out, s.Label)
		}
	}
	return out
}
