// Package check is the one check pipeline: it takes a resolved
// configuration, runs every probe that configuration allows (the env
// sources' secrets, the database, the login flow or a session replay),
// and returns one report whose verdict is decided from the whole body of
// evidence. `authtui check`, `authtui login` and the console all use it,
// so they cannot disagree about the same inputs.
package check

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/jwtcheck"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/store"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Options are the inputs of one run beyond the resolved configuration.
type Options struct {
	Config probe.Config

	// LoadFindings are the env-file problems found while loading sources.
	LoadFindings finding.List

	// The login flow: credentials, or a session to replay.
	Email, Password string
	ReplaySession   string
	CookiePrefix    string
	// BasePath is BetterAuth's basePath (--base-path); default /api/auth.
	BasePath string
	// Social signs in through a social provider instead (login --social).
	// Its BaseURLs are added to the sources' for the redirect_uri check
	// (the project's other environments).
	Social login.Social
	// KeepSession leaves the test session signed in (--keep-session);
	// by default the flow signs it out at its end.
	KeepSession bool
	// MoreAPIs are further declared endpoints to present the session to
	// (a project's services with an api_url besides Config.APIURL).
	MoreAPIs []login.API
	// JWTAudiences are the aud values declared APIs expect in the jwt()
	// plugin's tokens (jwt_audience in authtui.toml).
	JWTAudiences []jwtcheck.Expected

	// Database options besides the URL (taken from Config), e.g. table
	// overrides. Pings is how many latency samples the health probe takes.
	Database database.Options
	Pings    int

	// DB, when set, is an open connection to reuse (the console's); the
	// health probe is then skipped and Health taken as given.
	DB     *database.DB
	Schema *database.Schema
	Health *database.Health

	// NoDatabase skips the database even when one is configured.
	NoDatabase bool
	// NoDatabaseWhy, with NoDatabase, says why (the console's connection
	// is down), for the steps that would have used it.
	NoDatabaseWhy string
	// NoLogin skips the login flow (secrets and database only).
	NoLogin bool

	Client *http.Client

	// Browser, when set, also signs in from the front end's origin in a
	// real Chrome (with Email and Password; not for a replay): Chrome's
	// own reasons join the findings and the verdict.
	Browser *BrowserOptions
}

// BrowserOptions are the browser run's own settings; the origin, the
// auth service, the API and the timeout come from the configuration.
type BrowserOptions struct {
	Chrome            string
	FrontendURL       string
	HostResolverRules string
	IgnoreCertErrors  bool
	// Headed: a visible window (a social sign-in a person completes).
	Headed bool
}

// Event is one piece of progress, in the order a text renderer prints it:
// the secrets, then the database, then each login step.
type Event struct {
	Secrets  *probe.SecretsReport
	Database *database.Health
	Login    *login.Event
	Browser  *browser.Event
}

// Report is the outcome of one run; it is what `check --json` prints.
type Report struct {
	Config   probe.Config        `json:"config"`
	Secrets  probe.SecretsReport `json:"secrets"`
	Database *database.Health    `json:"database,omitempty"`
	Login    *login.Result       `json:"login,omitempty"`
	// Browser is the run in a real Chrome (check --browser, authtui
	// browser, b in the console), when one ran.
	Browser *browser.Result `json:"browser,omitempty"`
	// BrowserError says why an asked-for browser run could not run at all
	// (also listed in Skipped).
	BrowserError string `json:"browser_error,omitempty"`
	// Steps are the login flow's finished steps, in order.
	Steps    []login.Event `json:"steps"`
	Skipped  []string      `json:"skipped"`
	Findings finding.List  `json:"findings"`
	Verdict  Verdict       `json:"verdict"`
	// Diagnosis is the verdict in the shape of earlier versions, kept so
	// that scripts reading diagnosis.verdict and diagnosis.cause go on
	// working.
	Diagnosis login.Diagnosis `json:"diagnosis"`
	Healthy   bool            `json:"healthy"`
	Cancelled bool            `json:"cancelled,omitempty"`

	db *database.DB // opened by Run, closed by the caller
	// originFs are the findings about the front end's own origin: only
	// they may explain a 403 for that origin.
	originFs finding.List
}

// DB returns the connection the run opened (nil when none); the caller
// closes it.
func (r *Report) DB() *database.DB { return r.db }

// openStore connects to the session store when one is configured.
func openStore(ctx context.Context, cfg probe.Config) (*store.Store, error) {
	if !cfg.StoreURL.Set() {
		return nil, nil
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	return store.Open(sctx, store.Options{URL: cfg.StoreURL.Value, Timeout: min(cfg.Timeout, store.DefaultTimeout)})
}

// storeAware reads a database that has a user table but no session table
// as what it is: BetterAuth with secondaryStorage (its migrations create
// no session table unless session.storeSessionInDatabase is on). That is
// no missing schema; without a store to look in, it is sessions-elsewhere.
func storeAware(h *database.Health, storeConfigured bool) {
	if h != nil {
		h.Findings = database.ForStore(h.Findings, h.Schema, storeConfigured)
	}
}

// Run executes the pipeline. Events, when not nil, receive progress and
// are closed at the end. The secrets are read at once; the database
// health probe runs while the login flow signs in, and the flow's row
// lookup waits for the connection.
func Run(ctx context.Context, opts Options, events chan<- Event) *Report {
	if events != nil {
		defer close(events)
	}
	emit := func(e Event) {
		if events == nil {
			return
		}
		select {
		case events <- e:
		case <-ctx.Done():
		}
	}
	cfg := opts.Config
	rep := &Report{Config: cfg, Skipped: []string{}, Steps: []login.Event{}}
	rep.Secrets = probe.CheckSecrets(cfg.Sources)
	rep.Secrets.Findings = append(append(finding.List{}, opts.LoadFindings...), rep.Secrets.Findings...)
	rep.Findings = append(rep.Findings, rep.Secrets.Findings...)
	if cfg.Origin.Set() && cfg.Origin.From == "--origin" {
		rep.originFs = probe.CheckOrigin(cfg.Sources, cfg.Origin.Value, cfg.BaseURL.Value)
		rep.Findings = append(rep.Findings, rep.originFs...)
	}
	if cfg.StoreREST != "" {
		// A REST-only store configuration: said, and not read.
		v, src, _ := strings.Cut(cfg.StoreREST, " in ")
		rep.Findings = append(rep.Findings, store.UnsupportedFinding(v, src))
	}
	emit(Event{Secrets: &rep.Secrets})

	// The database: reuse the caller's connection, or probe it in the
	// background while the login flow signs in.
	db, schema := opts.DB, opts.Schema
	var dbDone chan struct{}
	switch {
	case opts.NoDatabase:
	case db != nil:
		rep.Database = opts.Health
	case cfg.DatabaseURL.Set():
		dbo := opts.Database
		dbo.URL = cfg.DatabaseURL.Value
		if dbo.ConnectTimeout <= 0 {
			dbo.ConnectTimeout = cfg.Timeout
		}
		if dbo.StatementTimeout <= 0 {
			dbo.StatementTimeout = cfg.Timeout
		}
		pings := opts.Pings
		if pings <= 0 {
			pings = 3
		}
		dbDone = make(chan struct{})
		go func() {
			defer close(dbDone)
			hctx, cancel := context.WithTimeout(ctx, 3*cfg.Timeout)
			defer cancel()
			h, opened := database.CheckHealth(hctx, dbo, pings, 0)
			rep.Database, rep.db = h, opened
		}()
	default:
		rep.Skipped = append(rep.Skipped, "database: no --database-url and no DATABASE_URL")
	}
	// dbReady is called once the health probe is done (at once when there
	// is none): its findings go before the login flow's, as printed.
	dbReported := false
	dbReady := func() {
		if dbReported {
			return
		}
		dbReported = true
		storeAware(rep.Database, cfg.StoreURL.Set())
		if rep.Database != nil {
			rep.Findings = append(rep.Findings, rep.Database.Findings...)
			emit(Event{Database: rep.Database})
		}
	}
	if dbDone == nil {
		dbReady()
	}

	wantLogin := !opts.NoLogin && (opts.Email != "" || opts.ReplaySession != "" || opts.Social.Provider != "")
	if !wantLogin {
		switch {
		case opts.NoLogin && opts.Browser != nil:
			rep.Skipped = append(rep.Skipped, "login flow: not run (the browser signs in on its own; check --browser runs both)")
		default:
			rep.Skipped = append(rep.Skipped, "login: no --email/--password-env and no --replay-session")
		}
		if cfg.StoreURL.Set() {
			// No session to look up: whether the store answers at all.
			if st, err := openStore(ctx, cfg); err != nil {
				rep.Findings = append(rep.Findings, store.Combine(nil, err, store.Row{})...)
			} else {
				st.Close()
			}
		}
		if dbDone != nil {
			<-dbDone
			dbReady()
		}
		runBrowser(ctx, opts, rep, emit)
		finish(rep)
		return rep
	}
	st, stErr := openStore(ctx, cfg)
	if st != nil {
		defer st.Close()
	}
	if stErr != nil {
		// Said now: a store that is down fails the sign-in itself, and
		// the flow stops before its store step.
		rep.Findings = append(rep.Findings, store.Combine(nil, stErr, store.Row{})...)
	}
	lo := login.Options{
		Store: st, JWTAudiences: opts.JWTAudiences,
		BaseURL: cfg.BaseURL.Value, Origin: cfg.Origin.Value, Email: opts.Email, Password: opts.Password,
		APIURL: cfg.APIURL.Value, Timeout: cfg.Timeout, Candidates: rep.Secrets.Candidates,
		CookiePrefix: opts.CookiePrefix, BasePath: opts.BasePath, DB: db, Schema: schema, ReplaySession: opts.ReplaySession,
		KeepSession: opts.KeepSession, Client: opts.Client, MoreAPIs: opts.MoreAPIs, Social: opts.Social,
	}
	if lo.Social.Provider != "" {
		// The sources' base URLs, the resolved one, then what the caller
		// adds (the project's other environments).
		lo.Social.BaseURLs = login.SourceBaseURLs(cfg.Sources, append([]login.SourcedURL{{Label: cfg.BaseURL.From, URL: cfg.BaseURL.Value}}, opts.Social.BaseURLs...)...)
	}
	if opts.NoDatabase && db == nil {
		lo.NoDB = opts.NoDatabaseWhy
	}
	if dbDone != nil {
		lo.WaitDB = func(ctx context.Context) (*database.DB, *database.Schema, string) {
			select {
			case <-dbDone:
			case <-ctx.Done():
				return nil, nil, "the database probe had not finished when the run was cancelled"
			}
			if rep.db == nil || rep.Database == nil {
				return nil, nil, unreachable(cfg, rep.Database)
			}
			return rep.db, rep.Database.Schema, ""
		}
	}
	ch := make(chan login.Event, 16)
	done := make(chan *login.Result, 1)
	go func() { done <- login.Run(ctx, lo, ch) }()
	// Login events wait in held until the database is reported, so the
	// stream reads secrets, database, login in that order.
	var held []login.Event
	dbWait := dbDone // set to nil once seen: a closed channel would win every select
	flush := func() {
		for i := range held {
			emit(Event{Login: &held[i]})
		}
		held = nil
	}
	for ch != nil {
		select {
		case e, ok := <-ch:
			if !ok {
				ch = nil
				continue
			}
			if e.Phase == login.PhaseEnd {
				rep.Steps = append(rep.Steps, e)
			}
			if dbReported {
				emit(Event{Login: &e})
			} else {
				held = append(held, e)
			}
		case <-dbWait:
			dbWait = nil
			dbReady()
			flush()
		}
	}
	if dbDone != nil {
		<-dbDone
	}
	dbReady()
	flush()
	res := <-done
	rep.Login = res
	rep.Findings = append(rep.Findings, res.Findings...)
	rep.Cancelled = res.Cancelled
	if !rep.Cancelled && opts.ReplaySession == "" {
		runBrowser(ctx, opts, rep, emit)
	}
	finish(rep)
	// The flow's own summary was judged on its steps alone; the run has
	// one verdict, so every place that shows one (check --json's login
	// object, the console's login pane) shows this one.
	res.Diagnosis = rep.Diagnosis
	return rep
}

// runBrowser signs in from the front end's origin in Chrome, when asked.
func runBrowser(ctx context.Context, opts Options, rep *Report, emit func(Event)) {
	b := opts.Browser
	switch {
	case b == nil:
		return
	case opts.Social.Provider == "" && (opts.Email == "" || opts.Password == ""):
		rep.Skipped = append(rep.Skipped, "browser: needs a test user (--email, --password-env) or --social")
		return
	case !opts.Config.BaseURL.Set():
		rep.Skipped = append(rep.Skipped, "browser: no auth service URL")
		return
	}
	cfg := opts.Config
	origin := cfg.Origin.Value
	if b.FrontendURL != "" && cfg.Origin.From != "--origin" {
		origin = "" // the front end's URL decides
	}
	res, err := browser.Run(ctx, browser.Options{
		Chrome: b.Chrome, Origin: origin, BaseURL: cfg.BaseURL.Value, BasePath: opts.BasePath, Email: opts.Email, Password: opts.Password,
		APIURL: cfg.APIURL.Value, Timeout: cfg.Timeout, FrontendURL: b.FrontendURL,
		HostResolverRules: b.HostResolverRules, IgnoreCertErrors: b.IgnoreCertErrors,
		Progress: func(e browser.Event) { emit(Event{Browser: &e}) },
		Social:   browserSocial(opts.Social, b),
	})
	if err != nil {
		rep.BrowserError = textsafe.Safe(err.Error())
		rep.Skipped = append(rep.Skipped, "browser: "+rep.BrowserError)
		return
	}
	rep.Browser = res
	rep.Findings = append(rep.Findings, res.Findings...)
	if ctx.Err() != nil {
		rep.Cancelled = true
	}
}

// browserSocial is the browser's social sign-in, when one is asked for.
func browserSocial(s login.Social, b *BrowserOptions) *browser.Social {
	if s.Provider == "" {
		return nil
	}
	return &browser.Social{Provider: s.Provider, CallbackURL: s.CallbackURL, Headed: b.Headed}
}

// unreachable says why a configured database gave the flow no connection,
// so that its steps do not read as if none was configured.
func unreachable(cfg probe.Config, h *database.Health) string {
	why := "the connection could not be opened"
	if h != nil && h.Error != nil {
		why = h.Error.Error()
	}
	from := ""
	if cfg.DatabaseURL.From != "" {
		from = " (from " + cfg.DatabaseURL.From + ")"
	}
	return "a database is configured" + from + " but unreachable (" + why + "; see db-unreachable)"
}

// finish merges repeated findings, decides the verdict and the health.
func finish(rep *Report) {
	rep.Findings = Merge(ruledOut(rep.Findings, rep.Browser, rep.Config.Origin.Value))
	rep.Verdict = decide(rep)
	failed := rep.Login != nil && rep.Login.Failed()
	rep.Healthy = rep.Verdict.Healthy && !rep.Findings.HasError() && !failed
	if !rep.Healthy && rep.Verdict.Healthy {
		// A failed step or an error finding that no rule claimed: still
		// not healthy, and the verdict must not say otherwise.
		rep.Verdict.Healthy = false
		rep.Verdict.Message = "Errors were found; see the findings."
	}
	rep.Diagnosis = login.Diagnosis{Verdict: rep.Verdict.Message, Cause: rep.Verdict.ID, Healthy: rep.Healthy, Evidence: []string{}}
	for _, e := range rep.Verdict.Evidence {
		rep.Diagnosis.Evidence = append(rep.Diagnosis.Evidence, e.Step+": "+e.Seen)
	}

}

// ruledOut drops the predictions a real browser contradicted: Chrome, on
// the same origin, kept and sent the session (the browser wins; its
// browser-analysis-disagrees finding names the disagreement), and so
// does a SameSite=None third-party warning when Chrome kept the session
// with third-party cookies blocked.
func ruledOut(fs finding.List, br *browser.Result, origin string) finding.List {
	if br == nil || !strings.EqualFold(strings.TrimRight(br.Origin, "/"), strings.TrimRight(origin, "/")) {
		return fs // Chrome ran on another origin than the predictions were for
	}
	var allowed, blocked bool
	lost := map[string]bool{} // cookies Chrome did refuse or withhold
	for _, p := range br.Passes {
		if p.ThirdPartyBlocked {
			blocked = p.Session
		} else {
			allowed = p.Session
		}
		for _, q := range p.Requests {
			for _, c := range append(append([]browser.Cookie{}, q.Refused...), q.Withheld...) {
				lost[c.Name] = true
			}
		}
	}
	var out finding.List
	for _, f := range fs {
		// Source is the cookie's name for Set-Cookie findings.
		if !lost[f.Source] && ((allowed && slices.Contains(probe.LossFindings, f.ID)) || (blocked && f.ID == finding.SetCookieThirdParty)) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Decide builds a report's verdict from reports that were made
// elsewhere (the console's panes): the same rules as Run.
func Decide(cfg probe.Config, secrets probe.SecretsReport, health *database.Health, res *login.Result, br *browser.Result) *Report {
	if health != nil {
		h := *health // the caller's copy stays as it was
		storeAware(&h, cfg.StoreURL.Set())
		health = &h
	}
	rep := &Report{Config: cfg, Secrets: secrets, Database: health, Login: res, Skipped: []string{}, Steps: []login.Event{}}
	rep.Findings = append(rep.Findings, secrets.Findings...)
	if cfg.Origin.Set() && cfg.Origin.From == "--origin" {
		rep.originFs = probe.CheckOrigin(cfg.Sources, cfg.Origin.Value, cfg.BaseURL.Value)
		rep.Findings = append(rep.Findings, rep.originFs...)
	}
	if health != nil {
		rep.Findings = append(rep.Findings, health.Findings...)
	}
	if res != nil {
		for _, e := range res.Events {
			if e.Phase == login.PhaseEnd {
				rep.Steps = append(rep.Steps, e)
			}
		}
		rep.Findings = append(rep.Findings, res.Findings...)
	}
	if br != nil {
		rep.Browser = br
		rep.Findings = append(rep.Findings, br.Findings...)
	}
	finish(rep)
	return rep
}

// Merge makes one root cause one finding: the same ID raised for the
// cookie and for the bearer token (or twice with the same message) is
// kept once, with each occurrence as a piece of evidence.
func Merge(fs finding.List) finding.List {
	var out finding.List
	index := map[string]int{}
	for _, f := range fs {
		key := string(f.ID) + "\x00" + credentialFamily(f.Source)
		if i, ok := index[key]; ok {
			if out[i].Message != f.Message || out[i].Source != f.Source {
				if len(out[i].Evidence) == 0 {
					out[i].Evidence = []finding.Evidence{{Step: out[i].Source, Seen: out[i].Message}}
				}
				out[i].Evidence = append(out[i].Evidence, finding.Evidence{Step: f.Source, Seen: f.Message})
			}
			continue
		}
		index[key] = len(out)
		out = append(out, f)
	}
	return out
}

// credentialFamily groups the sources that are the same check made with
// another credential form.
func credentialFamily(source string) string {
	switch source {
	case login.StepGetCookie, login.StepGetBearer:
		return "get-session"
	case login.StepAPICookie, login.StepAPIBearer:
		return "api"
	}
	if source == "set-auth-token header" || strings.HasSuffix(source, "session_token") {
		return "issued"
	}
	return source
}
