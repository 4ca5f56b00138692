package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

// loginFlags are the flags of the commands that can run the login flow.
type loginFlags struct {
	baseURL, origin, email, passwordEnv, apiURL, replay, cookiePrefix string
	keepSession                                                       bool
	// --social PROVIDER [--provider-auto] [--callback-url URL]
	social, callbackURL string
	providerAuto        bool
	basePath            string // --base-path
}

// normBasePath is --base-path with one leading slash and none trailing
// ("" keeps BetterAuth's default).
func (l *loginFlags) normBasePath() string {
	p := strings.Trim(strings.TrimSpace(l.basePath), "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

func (l *loginFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.baseURL, "base-url", "", "URL of the auth service (default: BETTER_AUTH_URL of the sources)")
	fs.StringVar(&l.origin, "origin", "", "front-end origin to sign in from (default: the base URL's origin)")
	fs.StringVar(&l.email, "email", "", "test user's email")
	fs.StringVar(&l.passwordEnv, "password-env", "", "name of the environment variable holding the test user's password (never pass a password as a flag); without it, a prompt asks")
	fs.StringVar(&l.apiURL, "api-url", "", "a protected endpoint of your own backend, tried with the cookie and the bearer token")
	fs.StringVar(&l.replay, "replay-session", "", "with a database and no credentials: replay an existing session (an id, or latest) signed with each candidate secret to name the server's secret. This uses a real user's session")
	fs.StringVar(&l.cookiePrefix, "cookie-prefix", "", "advanced.cookiePrefix of the server (default better-auth)")
	fs.StringVar(&l.basePath, "base-path", "", "BetterAuth's basePath on the auth service (default /api/auth)")
	fs.StringVar(&l.social, "social", "", "sign in through this social provider (its id: google, github, or a genericOAuth providerId) instead of email and password")
	fs.BoolVar(&l.providerAuto, "provider-auto", false, "with --social: follow the provider's redirects too (a provider that signs in without a person, as test providers do): authorize, callback, session")
	fs.StringVar(&l.callbackURL, "callback-url", "", "with --social: where the front end lands after the sign-in (default: the origin + /)")
	fs.BoolVar(&l.keepSession, "keep-session", false, "leave the test user's session signed in at the end of the login flow (by default it is signed out; a replayed session never is)")
}

// wanted reports whether the flags ask for a login run.
func (l *loginFlags) wanted() bool { return l.email != "" || l.replay != "" || l.social != "" }

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

// resolve reads the env sources and resolves the one configuration every
// command works from.
func resolve(a *app, c *common, d *dbFlags, l *loginFlags) (probe.Config, finding.List) {
	sources, loadFs := c.loadSources(a)
	if l != nil && l.cookiePrefix == "" {
		l.cookiePrefix = c.cookiePrefix()
	}
	f := probe.Flags{DatabaseURL: d.url, StoreURL: d.storeURL, Timeout: d.timeout, Declared: c.declared()}
	if l != nil {
		f.BaseURL, f.Origin, f.APIURL = l.baseURL, l.origin, l.apiURL
	}
	return probe.Resolve(f, sources, a.getenv), append(loadFs, c.otherEnvFindings()...)
}

// checkOptions turns the flags into the pipeline's options, asking for
// the password when a sign-in needs one.
func (l *loginFlags) checkOptions(a *app, cfg probe.Config, loadFs finding.List, d *dbFlags) (check.Options, error) {
	opts := check.Options{
		Config: cfg, LoadFindings: loadFs, Email: l.email, ReplaySession: l.replay, CookiePrefix: l.cookiePrefix, BasePath: l.normBasePath(),
		KeepSession: l.keepSession, Database: d.options(""), Pings: 3,
	}
	if !l.wanted() {
		return opts, nil
	}
	if !cfg.BaseURL.Set() {
		return opts, usagef("no auth service URL: pass --base-url or set BETTER_AUTH_URL in an env file")
	}
	switch {
	case l.social != "" && (l.email != "" || l.replay != ""):
		return opts, usagef("--social signs in through the provider: it takes no --email or --replay-session")
	case l.social == "" && (l.providerAuto || l.callbackURL != ""):
		return opts, usagef("--provider-auto and --callback-url need --social PROVIDER")
	}
	opts.Social = login.Social{Provider: l.social, Auto: l.providerAuto, CallbackURL: l.callbackURL}
	if l.replay != "" && !cfg.DatabaseURL.Set() {
		return opts, usagef("--replay-session needs a database: pass --database-url or set DATABASE_URL")
	}
	pw, err := l.password(a)
	if err != nil {
		return opts, err
	}
	opts.Password = pw
	return opts, nil
}

func runLogin(a *app, args []string) (int, error) {
	var (
		c  common
		d  dbFlags
		l  loginFlags
		o  outputFlags
		bf browserFlags
	)
	fs := newFlagSet(a, "login", "login --email EMAIL --password-env VAR [flags] | login --replay-session ID|latest [flags] | login --social PROVIDER [--provider-auto] [flags]", `
Sign in to the auth service as a test user and follow the session through
every check, streaming each step as it runs: BetterAuth reachable, sign-in,
the issued cookie verified against every candidate secret (which names the
secret the server really signs with), get-session with the cookie and with
the bearer token, the database row, and optionally your own API. Then it
signs the test session out again (--keep-session keeps it), and ends with a
diagnosis. Redirects are shown, never followed.

--replay-session needs no credentials: it takes an existing session's token
from the database, signs it with each candidate secret and asks get-session
which one the server accepts. It uses a real user's session for that, and
never signs it out.

--social PROVIDER signs in the way a browser does through a social
provider: POST /sign-in/social with the front end's Origin and a cookie
jar, then the redirect_uri checked against every source's base URL, the
state cookie against where the callback lands, and its verification row.
A real provider needs a person, so the flow stops there and shows what
it checked; --provider-auto (a test provider that signs in by itself)
follows authorize and the callback too, then checks the session
like a password sign-in. Every BetterAuth error redirect is named.

Examples:
  TEST_PW=… authtui login --env-file auth.env --env-file api.env --email test@example.com --password-env TEST_PW
  authtui login --env-file .env --replay-session latest --api-url https://api.example.com/me
  authtui login --env-file .env --database-url "$DATABASE_URL" --social authtui-oidc --provider-auto`)
	c.register(fs)
	d.register(fs)
	l.register(fs)
	o.register(fs)
	bf.register(fs, true)
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if err := o.validate(&c); err != nil {
		return exitUsage, err
	}
	if bf.on {
		if err := bf.usable(); err != nil {
			return exitUsage, err
		}
	}
	if !l.wanted() {
		return exitUsage, usagef("nothing to run: pass --email (with --password-env), --replay-session or --social PROVIDER")
	}
	cfg, loadFs := resolve(a, &c, &d, &l)
	opts, err := l.checkOptions(a, cfg, loadFs, &d)
	if err != nil {
		return exitUsage, err
	}
	opts.MoreAPIs, opts.JWTAudiences, opts.Social.BaseURLs = c.moreAPIs(cfg), c.jwtAudiences(), c.otherEnvBaseURLs()
	opts.Browser = bf.options(false)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st := newStyle(c.colors(a))
	steps, passes := 0, 0
	rep := runPipeline(ctx, opts, func(e check.Event) {
		switch {
		case o.markdown:
		case e.Browser != nil && c.json:
			writeJSONLine(a.stdout, e.Browser)
		case e.Browser != nil && e.Browser.Phase == "end":
			if passes == 0 && steps > 0 {
				fmt.Fprintln(a.stdout)
			}
			writeBrowserPass(a, st, *e.Browser.Pass, passes == 0)
			passes++
		case e.Login == nil:
		case c.json:
			writeJSONLine(a.stdout, e.Login)
		case e.Login.Phase == login.PhaseEnd:
			writeEvent(a.stdout, st, *e.Login, steps == 0)
			steps++
		}
	})
	switch {
	case c.json:
		return exitOf(rep), writeJSONLine(a.stdout, loginSummary(rep))
	case o.markdown:
		return exitOf(rep), writeMarkdown(a, rep)
	}
	fmt.Fprintln(a.stdout)
	writeEnd(a.stdout, st, rep)
	if l.social != "" && !l.providerAuto && !bf.on {
		if _, err := browser.Find(bf.chrome); err == nil {
			// The first leg only: offer the rest in a window a person uses.
			fmt.Fprintln(a.stdout, st.reportPaint("To finish the sign-in in a visible Chrome window while authtui watches every hop, cookie and refusal:\n  authtui browser --social "+textsafe.Clean(l.social)+" --origin "+textsafe.URL(cfg.Origin.Value)+" --headed", report.Dim))
		}
	}
	return exitOf(rep), nil
}

// loginSummary is the last line of `login --json`: the flow's result and
// the same verdict `check` gives.
func loginSummary(rep *check.Report) any {
	res := rep.Login
	if res == nil {
		res = &login.Result{ServerSecret: []string{}}
	}
	return struct {
		Summary      bool                     `json:"summary"`
		ServerSecret []string                 `json:"server_secret"`
		Outcomes     map[string]login.Outcome `json:"outcomes"`
		Issued       login.IssuedCookie       `json:"issued"`
		Findings     finding.List             `json:"findings"`
		Verdict      check.Verdict            `json:"verdict"`
		Diagnosis    login.Diagnosis          `json:"diagnosis"`
		Healthy      bool                     `json:"healthy"`
		Cancelled    bool                     `json:"cancelled,omitempty"`
		Browser      *browser.Result          `json:"browser,omitempty"`
	}{true, res.ServerSecret, res.Outcomes, res.Issued, rep.Findings, rep.Verdict, rep.Diagnosis, rep.Healthy, rep.Cancelled, rep.Browser}
}

// runPipeline runs the check pipeline, handing each event to show as it
// comes, and closes the database connection the run opened.
func runPipeline(ctx context.Context, opts check.Options, show func(check.Event)) *check.Report {
	events := make(chan check.Event, 16)
	done := make(chan *check.Report, 1)
	go func() { done <- check.Run(ctx, opts, events) }()
	for e := range events {
		show(e)
	}
	rep := <-done
	if db := rep.DB(); db != nil {
		db.Close()
	}
	return rep
}

// exitOf is the exit-code rule for a pipeline run: 0 only when healthy.
func exitOf(rep *check.Report) int {
	if rep.Healthy {
		return exitOK
	}
	return exitFound
}

// writeEvent prints one finished step as report.StepLines lays it out,
// under a "Login flow" heading before the first (title): what the run's
// report.Login block prints, one step at a time, as each ends.
func writeEvent(w io.Writer, st style, e login.Event, title bool) {
	lines := report.Layout([]report.Block{{Title: "Login flow", Lines: report.StepLines(e)}}, 0, st.reportPaint)
	if !title {
		lines = lines[1:]
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// writeEnd prints what follows the steps: the skipped probes, the
// findings and the verdict.
func writeEnd(w io.Writer, st style, rep *check.Report) {
	var bs []report.Block
	if len(rep.Skipped) > 0 {
		bs = append(bs, report.Skipped(rep.Skipped))
	}
	bs = append(bs, report.Findings(rep.Findings), report.Verdict(rep.Verdict, rep.Healthy))
	report.Text(w, bs, st.reportText())
}

// outputFlags are the output forms of check and login besides text.
type outputFlags struct{ markdown bool }

func (o *outputFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.markdown, "markdown", false, "print the whole report as Markdown (configuration, versions, every probe, findings, verdict) to paste into an issue; not with --json")
}

func (o *outputFlags) validate(c *common) error {
	if o.markdown && c.json {
		return usagef("--markdown and --json are two forms of the same report: pass one")
	}
	return nil
}

// writeMarkdown prints the Markdown report of a run, as the console's R
// writes it to a file.
func writeMarkdown(a *app, rep *check.Report) error {
	return report.CheckMarkdown(a.stdout, rep, report.RunMeta(rep, versionString(), a.dir, time.Now()))
}

func runCheck(a *app, args []string) (int, error) {
	var (
		c  common
		d  dbFlags
		l  loginFlags
		o  outputFlags
		bf browserFlags
	)
	fs := newFlagSet(a, "check", "check [flags]", `
Run every probe that is configured and diagnose: the secrets of every env
source, the database (when --database-url or DATABASE_URL is set), and the
login flow (when --email/--password-env or --replay-session is given; the
test session is signed out at its end unless --keep-session). The
verdict is the cause that the whole body of evidence leaves standing; when
several stay possible it lists them and says what would tell them apart.
Exits 0 only when every step passed and no error was found.

--markdown prints the same run as one Markdown report, with the
configuration found (and where each value came from) and the versions, to
paste into an issue; the console's R writes the same report to a file.

Example:
  authtui check --env-file auth/.env --env-file api/.env --replay-session latest`)
	c.register(fs)
	d.register(fs)
	l.register(fs)
	o.register(fs)
	bf.register(fs, true)
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	if err := o.validate(&c); err != nil {
		return exitUsage, err
	}
	if bf.on {
		if err := bf.usable(); err != nil {
			return exitUsage, err
		}
	}
	cfg, loadFs := resolve(a, &c, &d, &l)
	opts, err := l.checkOptions(a, cfg, loadFs, &d)
	if err != nil {
		return exitUsage, err
	}
	opts.MoreAPIs, opts.JWTAudiences, opts.Social.BaseURLs = c.moreAPIs(cfg), c.jwtAudiences(), c.otherEnvBaseURLs()
	opts.Browser = bf.options(false)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st := newStyle(c.colors(a))
	if c.discovered() && !c.json && !o.markdown {
		// What the run works from, before anything it found.
		report.Text(a.stdout, []report.Block{report.Project(c.plan, c.env(), c.plan.NotCompared())}, st.reportText())
	}
	loginStarted, browserStarted := false, false
	rep := runPipeline(ctx, opts, func(e check.Event) {
		if c.json || o.markdown {
			return
		}
		switch {
		// Each report is the block the Markdown report has for it
		// (report.Check), printed as it arrives.
		case e.Secrets != nil:
			report.Text(a.stdout, report.Secrets(*e.Secrets), st.reportText())
		case e.Database != nil:
			report.Text(a.stdout, report.Health(e.Database), st.reportText())
		case e.Login != nil && e.Login.Phase == login.PhaseEnd:
			writeEvent(a.stdout, st, *e.Login, !loginStarted)
			loginStarted = true
		case e.Browser != nil && e.Browser.Phase == "end":
			if loginStarted {
				fmt.Fprintln(a.stdout)
				loginStarted = false
			}
			writeBrowserPass(a, st, *e.Browser.Pass, !browserStarted)
			browserStarted = true
		}
	})
	switch {
	case c.json:
		return exitOf(rep), writeJSON(a.stdout, rep)
	case o.markdown:
		return exitOf(rep), writeMarkdown(a, rep)
	}
	if loginStarted || browserStarted {
		fmt.Fprintln(a.stdout)
	}
	writeEnd(a.stdout, st, rep)
	return exitOf(rep), nil
}
