// Package login runs a test sign-in against a real BetterAuth server and
// follows the session through every place that validates it: the issued
// cookie against every candidate secret, get-session with the cookie and
// the bearer token, the database row, and the user's own API. Each step
// reports as it starts and ends, so a UI can tail it.
package login

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/jwtcheck"
	"github.com/authtui/authtui/internal/probe/store"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// API is a named protected endpoint of one of the user's services.
type API struct {
	Name string
	URL  string
}

// APIStep is the step of another declared API, with a credential:
// "api-cookie@billing", "api-bearer@billing".
func APIStep(base, name string) string { return base + "@" + name }

// DefaultTimeout bounds each step.
const DefaultTimeout = 10 * time.Second

// Options configures a run.
type Options struct {
	BaseURL  string // the auth service, e.g. https://auth.example.com
	BasePath string // BetterAuth's basePath; default /api/auth
	Email    string
	Password string // never logged, never echoed
	Origin   string // sent as Origin; default: the base URL's origin
	APIURL   string // optional protected endpoint of the user's own backend
	// MoreAPIs are further protected endpoints (a project's other
	// services, each declared with an api_url), tested with the same
	// session after APIURL, as steps of their own.
	MoreAPIs []API
	Timeout  time.Duration

	Candidates   []probe.Candidate
	CookiePrefix string // for replay: the cookie prefix (default better-auth)

	// Optional database, for the token lookup and replay.
	DB     *database.DB
	Schema *database.Schema
	// WaitDB, when set, is called by the first step that needs the
	// database, instead of reading DB and Schema: the check pipeline opens
	// the connection while the flow signs in, so neither waits for the
	// other's round trips. Without a connection it says why (a database
	// that is configured but unreachable is not "no database").
	WaitDB func(ctx context.Context) (*database.DB, *database.Schema, string)
	// Store is the session store of BetterAuth's secondaryStorage, when
	// one is configured; StoreErr why it could not be opened. The flow
	// then looks the issued token up there too.
	Store    *store.Store
	StoreErr error
	// JWTAudiences are what the user's APIs are declared to expect in
	// the jwt() plugin's tokens' aud; the JWT step checks each.
	JWTAudiences []jwtcheck.Expected
	// NoDB says why DB is nil when there is no WaitDB (the console knows
	// its connection is down); empty: no database was configured.
	NoDB string

	// KeepSession leaves the test session signed in at the end of the
	// flow (--keep-session). By default the flow signs it out, so that a
	// run leaves no live session of the test user behind. A replayed
	// session is a real user's and is never signed out.
	KeepSession bool

	// ReplaySession, with a database, replays an existing session ("latest"
	// or an id) instead of signing in.
	ReplaySession string

	// Social, when Social.Provider is set, signs in through that social
	// provider instead of email and password (social.go).
	Social Social

	Client *http.Client // nil: a default client
}

// basePathNote says where authtui looked for BetterAuth's endpoints.
func basePathNote(p string) string {
	if p == "/api/auth" {
		return "authtui asked under /api/auth, BetterAuth's default; a server with another basePath needs --base-path"
	}
	return "authtui asked under " + p + ", from --base-path"
}

// Step names, stable for JSON consumers.
const (
	StepOK          = "ok"
	StepSignIn      = "sign-in"
	StepCookie      = "cookie"
	StepGetCookie   = "get-session-cookie"
	StepGetBearer   = "get-session-bearer"
	StepDatabase    = "database"
	StepAPICookie   = "api-cookie"
	StepAPIBearer   = "api-bearer"
	StepStore       = "store"   // the session in secondaryStorage (Redis)
	StepJWT         = "jwt"     // the jwt() plugin's token, verified against the JWKS
	StepAPIJWT      = "api-jwt" // your API with that token
	StepReplayRead  = "replay-read"
	StepReplayProbe = "replay"
	StepSignOut     = "sign-out"
)

// Status of a finished step.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusWarn    = "warn"
	StatusFail    = "fail"
	StatusSkip    = "skip"
)

// Phase of an Event: a step starts, then ends with its Status.
const (
	PhaseStart = "start"
	PhaseEnd   = "end"
)

// Event is one step starting or ending. Strings that came from the server
// (Detail, Redirect) are raw; renderers sanitise them.
type Event struct {
	Step       string        `json:"step"`
	Title      string        `json:"title"`
	Phase      string        `json:"phase"` // start, end
	Status     string        `json:"status"`
	HTTPStatus int           `json:"http_status,omitempty"`
	Duration   time.Duration `json:"duration_ns,omitempty"`
	Detail     string        `json:"detail,omitempty"`
	Redirect   string        `json:"redirect,omitempty"`
	Findings   finding.List  `json:"findings,omitempty"`
	At         time.Time     `json:"at"`
}

// Result is the outcome of a run.
type Result struct {
	Events []Event `json:"-"`
	// ServerSecret lists the labels of the sources whose secret the server
	// signs with; builtin-default when it uses the default.
	ServerSecret []string `json:"server_secret"`
	// Issued describes the session cookie sign-in set (zero in a replay).
	Issued IssuedCookie `json:"issued"`
	// Outcomes holds, per step that presented a credential and got an
	// answer, how that answer was judged. A step is ✓ only when its
	// outcome is Accepted.
	Outcomes  map[string]Outcome `json:"outcomes"`
	Findings  finding.List       `json:"findings"`
	Diagnosis Diagnosis          `json:"diagnosis"`
	Cancelled bool               `json:"cancelled,omitempty"`
}

// Failed reports whether any step ended in StatusFail, so that callers can
// make "healthy" and the exit code follow the steps, not only the
// findings' severities.
func (r *Result) Failed() bool {
	for _, e := range r.Events {
		if e.Phase == PhaseEnd && e.Status == StatusFail {
			return true
		}
	}
	return false
}

// judged is get-session's answer to one credential, kept for the API step
// that presents the same credential: whether the API is at fault depends
// on whether BetterAuth itself accepted it.
type judged struct {
	out Outcome
	fs  finding.List // the findings that explain a rejection
}

// run carries the state of one run between steps.
type run struct {
	ctx    context.Context
	opts   Options
	client *http.Client
	events chan<- Event
	res    *Result
	base   *url.URL

	cookieHeader string // what a browser would send after sign-in
	bearer       string // set-auth-token
	token        string // unsigned session token
	// signedIn: sign-in answered 200, so the server holds a session of
	// the test user that the flow must sign out at its end.
	signedIn bool
	// row is the session row as the row lookup found it (rowRead), so
	// that the sign-out can tell whether the row is gone.
	row     database.TokenLookup
	rowRead bool
	// noDB says why there is no database connection, when there is none.
	noDB string
	// byVia is get-session's verdict per credential ("cookie", "bearer
	// token"), for the API steps.
	byVia map[string]judged

	// apiClear is login-over-http for --api-url, attached to the first API
	// step that sent a credential (apiClearDone once decided).
	apiClear     finding.List
	apiClearDone bool

	// ahead holds the requests started as soon as sign-in returned: the
	// checks after it depend only on what sign-in issued, so they travel
	// together and a remote service costs one round trip for all of them,
	// not one each. Steps still judge them in order.
	ahead   map[string]*future
	dbAhead *dbFuture
	// anon is the API's answer to a request without any credential, the
	// control that tells a protected endpoint from one that answers 2xx
	// to anybody; anonDone says it was asked.
	anon     *response
	anonDone bool
	// anonMore are the control answers of MoreAPIs, by URL.
	anonMore map[string]*response
	// jwt is the jwt() plugin's token get-session handed out with the
	// cookie (set-auth-jwt), when the plugin is on.
	jwt string
	// social is the state of a social sign-in (social.go).
	social *socialRun
}

// future is a request started ahead of the step that judges it.
type future struct {
	done  chan struct{}
	began time.Time
	resp  *response
	err   error
}

// dbFuture is the session row lookup started ahead of its step.
type dbFuture struct {
	done   chan struct{}
	began  time.Time
	db     *database.DB
	schema *database.Schema
	why    string // WaitDB's reason when there is no connection
	row    database.TokenLookup
	fs     finding.List
	err    error
}

// Run executes the flow. It sends every event to events (when not nil)
// and closes it when done; the returned result holds them all. Cancelling
// ctx stops the run at the next step.
func Run(ctx context.Context, opts Options, events chan<- Event) *Result {
	res := &Result{ServerSecret: []string{}, Outcomes: map[string]Outcome{}}
	if events != nil {
		defer close(events)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.BasePath == "" {
		opts.BasePath = "/api/auth"
	}
	r := &run{ctx: ctx, opts: opts, client: newClient(opts.Client), events: events, res: res, byVia: map[string]judged{}, ahead: map[string]*future{}, noDB: opts.NoDB}
	defer func() {
		res.Diagnosis = Diagnose(res.Findings, DiagnoseContext{ServerSecret: res.ServerSecret, Signers: signers(opts.Candidates), APIURL: opts.APIURL})
		if res.Failed() {
			// A failed step is never healthy, whatever the severities of
			// its findings say.
			res.Diagnosis.Healthy = false
			if res.Diagnosis.Cause == "" && strings.HasPrefix(res.Diagnosis.Verdict, "No problem") {
				res.Diagnosis.Verdict = "A step failed; see the steps and their findings."
			}
		}
	}()

	base, err := url.Parse(strings.TrimRight(strings.TrimSpace(opts.BaseURL), "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		r.fail(StepOK, "Reach the auth service", finding.New(finding.ServerUnreachable, "", "the base URL %q is not an http(s) URL: pass --base-url or set BETTER_AUTH_URL", opts.BaseURL))
		return res
	}
	r.base = base
	if r.opts.Origin == "" {
		r.opts.Origin = base.Scheme + "://" + base.Host
	}

	steps := []func() bool{r.stepOK}
	// What follows a sign-in, whichever way it was made.
	afterSignIn := []func() bool{r.stepGetSessionCookie, r.stepGetSessionBearer, r.stepDatabase, r.stepStore, r.stepJWT,
		r.stepAPIJWT, r.stepAPICookie, r.stepAPIBearer, r.stepMoreAPIs, r.stepAPIMethods}
	switch {
	case opts.ReplaySession != "":
		steps = append(steps, r.stepReplay)
	case opts.Social.Provider != "":
		steps = append(append(steps, r.socialSteps()...), afterSignIn...)
	default:
		steps = append(append(steps, r.stepSignIn), afterSignIn...)
	}
	for _, step := range steps {
		if ctx.Err() != nil {
			break
		}
		if !step() {
			break
		}
	}
	res.Cancelled = ctx.Err() != nil
	// Last, whatever happened before: a failed or cancelled step must not
	// leave the test user's session alive.
	r.stepSignOut()
	return res
}

// prefetch starts a GET now; get picks its answer up later.
func (r *run) prefetch(key, url string, h http.Header) {
	f := &future{done: make(chan struct{}), began: time.Now()}
	r.ahead[key] = f
	go func() {
		defer close(f.done)
		f.resp, f.err = do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, url, h, nil)
	}()
}

// get answers a GET from its prefetched request when there is one, and
// says when the request began, for the step's duration.
func (r *run) get(key, url string, h http.Header, began time.Time) (*response, time.Time, error) {
	if f, ok := r.ahead[key]; ok {
		delete(r.ahead, key)
		<-f.done
		return f.resp, f.began, f.err
	}
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, url, h, nil)
	return resp, began, err
}

// stepAPIAnon keys the API's control request (no credential); it is no
// step of its own: the API steps read it.
const stepAPIAnon = "api-anonymous"

// anonAnswer is the API's answer to the control request, asked once per
// endpoint.
func (r *run) anonAnswer(apiURL string) *response {
	if apiURL != r.opts.APIURL {
		if r.anonMore == nil {
			r.anonMore = map[string]*response{}
		}
		if a, ok := r.anonMore[apiURL]; ok {
			return a
		}
		resp, _, err := r.get(stepAPIAnon+"@"+apiURL, apiURL, http.Header{"Origin": {r.opts.Origin}}, time.Now())
		if err != nil {
			resp = nil
		}
		r.anonMore[apiURL] = resp
		return resp
	}
	if !r.anonDone {
		r.anonDone = true
		resp, _, err := r.get(stepAPIAnon, r.opts.APIURL, http.Header{"Origin": {r.opts.Origin}}, time.Now())
		if err == nil {
			r.anon = resp
		}
	}
	return r.anon
}

// prefetchAfterSignIn starts every check that needs only what sign-in
// issued: get-session with each credential, the row lookup, the API.
func (r *run) prefetchAfterSignIn() {
	cookie := http.Header{"Cookie": {r.cookieHeader}}
	r.prefetch(StepGetCookie, r.url("/get-session"), cookie)
	if r.bearer != "" {
		r.prefetch(StepGetBearer, r.url("/get-session"), http.Header{"Authorization": {"Bearer " + r.bearer}})
	}
	if r.opts.APIURL != "" {
		r.prefetch(stepAPIAnon, r.opts.APIURL, http.Header{"Origin": {r.opts.Origin}})
		r.prefetch(StepAPICookie, r.opts.APIURL, http.Header{"Cookie": {r.cookieHeader}, "Origin": {r.opts.Origin}})
		if r.bearer != "" {
			r.prefetch(StepAPIBearer, r.opts.APIURL, http.Header{"Authorization": {"Bearer " + r.bearer}, "Origin": {r.opts.Origin}})
		}
	}
	for _, a := range r.opts.MoreAPIs {
		r.prefetch(stepAPIAnon+"@"+a.URL, a.URL, http.Header{"Origin": {r.opts.Origin}})
		r.prefetch(APIStep(StepAPICookie, a.Name), a.URL, http.Header{"Cookie": {r.cookieHeader}, "Origin": {r.opts.Origin}})
		if r.bearer != "" {
			r.prefetch(APIStep(StepAPIBearer, a.Name), a.URL, http.Header{"Authorization": {"Bearer " + r.bearer}, "Origin": {r.opts.Origin}})
		}
	}
	if r.opts.WaitDB == nil && r.opts.DB == nil {
		return
	}
	f := &dbFuture{done: make(chan struct{}), began: time.Now()}
	r.dbAhead = f
	wait, db, schema, token := r.opts.WaitDB, r.opts.DB, r.opts.Schema, r.token
	r.opts.WaitDB = nil
	go func() {
		defer close(f.done)
		if wait != nil {
			db, schema, f.why = wait(r.ctx)
		}
		f.db, f.schema = db, schema
		if db == nil || schema == nil || schema.Session == nil || !schema.Session.Has(database.ColToken) {
			return
		}
		f.row, f.fs, f.err = db.LookupToken(r.ctx, schema, token, StepDatabase)
	}()
}

func (r *run) url(path string) string {
	return r.base.Scheme + "://" + r.base.Host + strings.TrimRight(r.base.Path, "/") + r.opts.BasePath + path
}

func (r *run) emit(e Event) {
	e.At = time.Now()
	r.res.Events = append(r.res.Events, e)
	for _, f := range e.Findings {
		// A step may carry a finding an earlier step reported (the API
		// step shows why get-session rejected the same credential); the
		// result lists it once.
		if !r.reported(f) {
			r.res.Findings = append(r.res.Findings, f)
		}
	}
	if r.events != nil {
		select {
		case r.events <- e:
		case <-r.ctx.Done():
		}
	}
}

func (r *run) reported(f finding.Finding) bool {
	for _, g := range r.res.Findings {
		if g.ID == f.ID && g.Source == f.Source && g.Message == f.Message {
			return true
		}
	}
	return false
}

// record keeps how a step's answer was judged.
func (r *run) record(o Outcome) { r.res.Outcomes[o.Step] = o }

// recordNet records a transport failure as Unreachable; a cancelled
// request got no answer and is not recorded.
func (r *run) recordNet(step, via string, err error) {
	if ne, ok := err.(*netError); ok && ne.class == "cancelled" {
		return
	}
	r.record(Outcome{Step: step, Via: via, Result: Unreachable, Seen: err.Error()})
}

func (r *run) start(step, title string) time.Time {
	r.emit(Event{Step: step, Title: title, Phase: PhaseStart, Status: StatusRunning})
	return time.Now()
}

// end finishes a step; its status follows from its findings unless given.
func (r *run) end(step, title string, started time.Time, status string, resp *response, detail string, fs ...finding.Finding) {
	if status == "" {
		status = StatusOK
		for _, f := range fs {
			switch {
			case f.Severity == finding.Error:
				status = StatusFail
			case f.Severity == finding.Warn && status == StatusOK:
				status = StatusWarn
			}
		}
	}
	e := Event{Step: step, Title: title, Phase: PhaseEnd, Status: status, Duration: time.Since(started), Detail: detail, Findings: fs}
	if resp != nil {
		e.HTTPStatus = resp.status
		if resp.status >= 300 && resp.status < 400 {
			e.Redirect = resp.header.Get("Location")
		}
	}
	r.emit(e)
}

func (r *run) fail(step, title string, f finding.Finding) {
	t := r.start(step, title)
	r.end(step, title, t, StatusFail, nil, f.Message, f)
}

// netFinding turns a transport error into server-unreachable or
// server-timeout.
func (r *run) netFinding(step string, err error) finding.Finding {
	ne, ok := err.(*netError)
	if ok && ne.class == "timeout" {
		return finding.New(finding.ServerTimeout, step, "%s %s: %s (--timeout %s). The server accepted the connection but did not answer: is it hung, or behind a proxy that holds requests?", step, r.base.Host, ne.msg, r.opts.Timeout)
	}
	if ok && ne.class == netDropped {
		// Reached, but no answer: "cannot reach" would send the user
		// looking at DNS and firewalls.
		return finding.New(finding.ServerUnreachable, step, "%s: %s took the request, but %s.", step, r.base.Host, ne.msg)
	}
	return finding.New(finding.ServerUnreachable, step, "%s: cannot reach %s: %s", step, r.base.Host, err)
}

func (r *run) stepOK() bool {
	const title = "Reach the auth service"
	t := r.start(StepOK, title)
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, r.url("/ok"), nil, nil)
	if err != nil {
		r.end(StepOK, title, t, StatusFail, nil, err.Error(), r.netFinding(StepOK, err))
		return false
	}
	var ok struct {
		OK bool `json:"ok"`
	}
	if resp.status != http.StatusOK || json.Unmarshal(resp.body, &ok) != nil || !ok.OK {
		f := finding.New(finding.ServerNotBetterAuth, StepOK,
			"GET %s answered %s, not BetterAuth's 200 {\"ok\":true}: wrong base URL or basePath (%s).",
			r.url("/ok"), Describe(resp.status, resp.header, resp.body), basePathNote(r.opts.BasePath))
		r.end(StepOK, title, t, StatusFail, resp, f.Message, f)
		return false
	}
	r.end(StepOK, title, t, StatusOK, resp, "BetterAuth answers at "+r.url(""))
	return true
}

func (r *run) stepSignIn() bool {
	const title = "Sign in with email and password"
	t := r.start(StepSignIn, title)
	if r.opts.Email == "" || r.opts.Password == "" {
		r.end(StepSignIn, title, t, StatusSkip, nil, "no credentials: pass --email and --password-env, or use --replay-session")
		return false
	}
	h := http.Header{"Origin": {r.opts.Origin}}
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodPost, r.url("/sign-in/email"), h,
		map[string]any{"email": r.opts.Email, "password": r.opts.Password, "rememberMe": true})
	// The password went out whenever the server took the request.
	clear := inClear(StepSignIn, r.url(""), "sign-in sent the test password", "the auth service (BETTER_AUTH_URL or --base-url)")
	if err != nil {
		r.recordNet(StepSignIn, viaPassword, err)
		fs := finding.List{r.netFinding(StepSignIn, err)}
		if sent(err) {
			fs = append(fs, clear...)
		}
		r.end(StepSignIn, title, t, StatusFail, nil, err.Error(), fs...)
		return false
	}
	out := Outcome{Step: StepSignIn, Via: viaPassword, HTTPStatus: resp.status, Seen: Describe(resp.status, resp.header, resp.body), Result: Rejected}
	if resp.status != http.StatusOK {
		if resp.status >= 500 {
			out.Result = ServerError
		}
		r.record(out)
		f := r.signInFinding(resp, out.Seen)
		r.end(StepSignIn, title, t, StatusFail, resp, f.Message, append(finding.List{f}, clear...)...)
		return false
	}
	// From here on the server holds a session of the test user, whatever
	// the answer carried: the flow signs it out at its end.
	r.signedIn = true
	status, detail := StatusOK, "signed in as "+r.opts.Email
	if len(clear) > 0 {
		status, detail = StatusWarn, detail+"; "+clear[0].Message
	}
	iss := r.decodeIssued(resp)
	if iss.signed == nil {
		// Accepted means a credential came back; without one the next
		// step says why (login-no-cookie).
		out.Seen += " without a session cookie or set-auth-token"
		r.record(out)
		r.end(StepSignIn, title, t, StatusWarn, resp, "answered "+out.Seen, clear...)
		return r.stepCookie(resp, iss)
	}
	out.Result = Accepted
	r.record(out)
	r.end(StepSignIn, title, t, status, resp, detail, clear...)
	return r.stepCookie(resp, iss)
}

// inClear is login-over-http for a credential sent to rawURL when that is
// plain http to a host other than loopback (anyone on the path reads it);
// nil otherwise. what is the sending, service names where the URL comes
// from.
func inClear(step, rawURL, what, service string) finding.List {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || u.Host == "" || probe.IsLoopbackHost(u.Hostname()) {
		return nil
	}
	var fs finding.List
	fs.Add(finding.LoginOverHTTP, step,
		"%s to %s over plain http: anyone on the network path can read it. Use the https URL of %s.",
		what, textsafe.URL(u.Scheme+"://"+u.Host), service)
	return fs
}

// take returns *fs and empties it: a finding about the run as a whole
// (login-over-http) is attached to the first step it applies to only.
func take(fs *finding.List) finding.List {
	out := *fs
	*fs = nil
	return out
}

// sent reports whether a request that failed with err had gone out: the
// server took it and then timed out or dropped the connection.
func sent(err error) bool {
	ne, ok := err.(*netError)
	return ok && (ne.class == "timeout" || ne.class == netDropped)
}

// viaPassword is how sign-in presents its credential.
const viaPassword = "email and password"

// signInFinding explains a sign-in that did not answer 200: which part
// answered (BetterAuth, by its error code, or something in front of it)
// and what to do.
func (r *run) signInFinding(resp *response, seen string) finding.Finding {
	code := errorCode(resp.body)
	endpoint := "POST " + r.url("/sign-in/email")
	server := ""
	if s := resp.header.Get("Server"); s != "" {
		server = fmt.Sprintf(" (Server: %s)", textsafe.Truncate(s, 40))
	}
	st := resp.status
	switch {
	case st == http.StatusForbidden && (code == "INVALID_ORIGIN" || code == "MISSING_OR_NULL_ORIGIN"):
		return finding.New(finding.LoginOriginRejected, StepSignIn,
			"sign-in from Origin %s answered 403 %s: the auth service does not trust that origin. Add it to trustedOrigins (or BETTER_AUTH_TRUSTED_ORIGINS, comma separated, no spaces).",
			r.opts.Origin, code)
	case st == http.StatusForbidden && code == "EMAIL_NOT_VERIFIED":
		return finding.New(finding.LoginEmailNotVerified, StepSignIn, "sign-in answered 403 EMAIL_NOT_VERIFIED: verify %s's email first, or test with a verified user.", r.opts.Email)
	case st == http.StatusUnauthorized:
		return finding.New(finding.LoginCredentialsRejected, StepSignIn, "sign-in answered 401 %s: wrong email or password for %s (this is not a session problem).", code, r.opts.Email)
	case st >= 500:
		return finding.New(finding.LoginServerError, StepSignIn,
			"sign-in answered %s%s: the auth service (or a proxy in front of it) failed while signing in, often its database. Check its logs; the session was not tested.", seen, server)
	case st >= 300 && st < 400:
		loc := resp.header.Get("Location")
		hint := "use the final URL as --base-url"
		if base := r.redirectBase(loc); base != "" {
			hint = "use " + base + " as --base-url"
		}
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"%s answered %s%s: a redirect (http→https, a proxy, or a login wall in front of BetterAuth); a sign-in POST is not followed. If it only moves to another scheme or host, %s; if it leads to a login page, something in front of the auth service intercepts it.",
			endpoint, seen, server, hint)
	case st == http.StatusNotFound:
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"%s answered %s%s: nothing serves email/password sign-in there. The basePath is wrong (pass the server's with --base-path; BetterAuth answers 404 with an empty body for a path it does not have), or a proxy forwards only some of %s. (With emailAndPassword disabled BetterAuth answers 400 EMAIL_PASSWORD_DISABLED instead.)",
			endpoint, seen, server, r.opts.BasePath)
	case st == http.StatusMethodNotAllowed:
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"%s answered %s%s: something there does not take POST. BetterAuth answers 404, not 405, for a method or path it does not serve, so this is another app or a proxy route: the basePath is wrong (pass the server's with --base-path), or email/password sign-in is not mounted at this URL.",
			endpoint, seen, server)
	case st == http.StatusTooManyRequests:
		who := "a proxy's or the platform's rate limiter (no BetterAuth X-Retry-After header)"
		wait := ""
		if ra := resp.header.Get("X-Retry-After"); ra != "" {
			who = "BetterAuth's own rate limiter (on by default with NODE_ENV=production: 3 sign-in requests per 10 s per IP)"
			wait = fmt.Sprintf(" (X-Retry-After: %s s)", textsafe.Truncate(ra, 10))
		} else if ra := resp.header.Get("Retry-After"); ra != "" {
			wait = fmt.Sprintf(" (Retry-After: %s)", textsafe.Truncate(ra, 40))
		}
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"sign-in answered %s%s: rate limited by %s. Wait%s or use another IP, or --replay-session, which does not sign in.",
			seen, server, who, wait)
	case st == http.StatusBadRequest && code == "EMAIL_PASSWORD_DISABLED":
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"sign-in answered 400 EMAIL_PASSWORD_DISABLED: email/password sign-in is not enabled on this server (emailAndPassword.enabled). Test with --replay-session instead.")
	case st == http.StatusBadRequest && code != "":
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"sign-in answered 400 %s: BetterAuth rejected the request body (%s). Check the email address given to --email.", code, seen)
	case st == http.StatusBadRequest:
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"sign-in answered %s%s without a BetterAuth error code: a proxy or another app rejected the request, not BetterAuth.", seen, server)
	case st == http.StatusForbidden && code != "":
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"sign-in answered 403 %s: BetterAuth refused the sign-in (%s).", code, seen)
	case st == http.StatusForbidden:
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"sign-in answered %s%s without a BetterAuth error code: a firewall, WAF or proxy answered, not BetterAuth. Allow POST %s through it (or test from where it lets you).",
			seen, server, r.opts.BasePath+"/sign-in/email")
	case code != "":
		return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
			"sign-in answered %d %s: BetterAuth (or a plugin) refused it (%s).", st, code, seen)
	}
	return finding.New(finding.LoginUnexpectedStatus, StepSignIn,
		"sign-in answered %s%s, not 200 with a session cookie: something other than BetterAuth's sign-in handler answered %s.", seen, server, endpoint)
}

// redirectBase turns a redirect of the sign-in URL to the same path
// elsewhere (http→https, another host) into the base URL to use.
func (r *run) redirectBase(loc string) string {
	u, err := r.base.Parse(loc)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	suffix := r.opts.BasePath + "/sign-in/email"
	if !strings.HasSuffix(u.Path, suffix) {
		return ""
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, suffix)
}

// issued is what sign-in's answer carried, decoded.
type issued struct {
	rep    probe.DecodeReport
	lines  []string
	signed *probe.CookieReport // the session token or bearer token
	pairs  []string            // name=value, as a browser would send them
}

// decodeIssued verifies the Set-Cookie lines and the bearer token of
// sign-in's answer against every candidate.
func (r *run) decodeIssued(resp *response) issued {
	var iss issued
	in := probe.ParsedInput{}
	iss.lines = resp.header.Values("Set-Cookie")
	for i, line := range iss.lines {
		sub := probe.ParseInput("Set-Cookie: " + line)
		for _, it := range sub.Items {
			it.From = fmt.Sprintf("Set-Cookie line %d", i+1)
			in.Items = append(in.Items, it)
		}
	}
	bearer := resp.header.Get("Set-Auth-Token")
	if bearer != "" {
		in.Items = append(in.Items, probe.InputItem{Kind: probe.ItemBearer, From: "set-auth-token header", Value: bearer})
	}
	iss.rep = probe.DecodeParsed(in, probe.DecodeOptions{Candidates: r.opts.Candidates, BaseURL: r.opts.BaseURL, Origin: r.opts.Origin, Now: time.Now()})
	for i := range iss.rep.Cookies {
		c := &iss.rep.Cookies[i]
		if c.SetCookie != nil && !c.SetCookie.Cleared {
			iss.pairs = append(iss.pairs, c.Name+"="+cookieValue(iss.lines, c.Name))
		}
		if (c.Kind == probe.KindSessionToken || c.Kind == probe.KindBearer) && iss.signed == nil && c.Token() != "" {
			iss.signed = c
		}
	}
	return iss
}

// issuedCookie describes the session cookie and cache sign-in set.
func issuedCookie(rep probe.DecodeReport, bearer bool) IssuedCookie {
	out := IssuedCookie{Bearer: bearer}
	for _, c := range rep.Cookies {
		if c.SetCookie == nil || c.SetCookie.Cleared {
			continue
		}
		switch c.Kind {
		case probe.KindSessionToken:
			if out.Name != "" {
				continue
			}
			out.Name = c.Name
			if c.Parts != nil {
				out.CookiePrefix = c.Parts.CookiePrefix
				out.SecurePrefix = c.Parts.SecurePrefix == "__Secure-"
			}
			sc := c.SetCookie
			out.SameSite, out.Domain, out.Secure, out.HTTPOnly = sc.SameSite, sc.Domain, sc.Secure, sc.HTTPOnly
		case probe.KindSessionData:
			if out.Cache || c.Cache == nil {
				continue
			}
			out.Cache = true
			out.CacheStrategy = c.Cache.Strategy
			out.CacheExpiresAt = c.Cache.ExpiresAt
			if out.CacheExpiresAt.IsZero() && c.SetCookie.MaxAge != nil {
				// A jwe cache no candidate decrypts: its Max-Age is all we know.
				out.CacheExpiresAt = time.Now().Add(time.Duration(*c.SetCookie.MaxAge) * time.Second).UTC().Truncate(time.Second)
			}
		}
	}
	return out
}

// stepCookie inspects what sign-in set: the Set-Cookie lines and the
// bearer token, verified against every candidate, which names the secret
// the server really signs with.
func (r *run) stepCookie(resp *response, iss issued) bool {
	const title = "Inspect the issued cookie"
	t := r.start(StepCookie, title)
	r.bearer = resp.header.Get("Set-Auth-Token")
	r.res.Issued = issuedCookie(iss.rep, r.bearer != "")
	var fs finding.List
	r.cookieHeader = strings.Join(iss.pairs, "; ")
	for _, f := range iss.rep.Findings {
		if f.ID == finding.CookieNone {
			continue
		}
		fs = append(fs, f)
	}
	signed := iss.signed
	if signed == nil {
		f := finding.New(finding.LoginNoCookie, StepCookie,
			"sign-in succeeded but set no session cookie (%d Set-Cookie lines) and no set-auth-token: a proxy or CDN strips Set-Cookie, or the response is cached.", len(iss.lines))
		r.end(StepCookie, title, t, StatusFail, nil, f.Message, append(fs, f)...)
		return false
	}
	r.token = signed.Token()
	r.prefetchAfterSignIn()
	fs = append(fs, r.identifySecret(signed.Matches, "the issued "+signed.Kind)...)
	if r.bearer != "" && r.opts.Origin != "" && !exposes(resp.header, "set-auth-token") {
		fs = append(fs, finding.New(finding.BearerNotExposed, StepCookie,
			"the server sends set-auth-token but Access-Control-Expose-Headers does not list it: browser code on another origin cannot read the token. Expose the header in CORS."))
	}
	detail := fmt.Sprintf("%d cookie(s); token %s", len(iss.pairs), textsafe.TokenPrefix(r.token))
	if len(r.res.ServerSecret) > 0 {
		detail += "; signed with the secret of " + strings.Join(r.res.ServerSecret, ", ")
	}
	r.end(StepCookie, title, t, "", nil, detail, fs...)
	return true
}

// identifySecret turns the candidates that verify a server-issued value
// into server-secret-identified, -default or -unknown.
func (r *run) identifySecret(matches []probe.Match, what string) finding.List {
	var fs finding.List
	var labels []string
	seen := map[string]bool{}
	def := false
	for _, m := range matches {
		switch m.Role {
		case probe.RoleDefault:
			def = true
		case probe.RoleCurrent, probe.RolePrevious, probe.RoleLegacy, probe.RoleIgnored, probe.RoleTrimmed:
			name := m.Label
			if m.Role != probe.RoleCurrent {
				name += " (" + m.Variable + ", " + string(m.Role) + ")"
			}
			if !seen[name] {
				seen[name] = true
				labels = append(labels, name)
			}
		}
	}
	switch {
	case def:
		r.res.ServerSecret = []string{probe.DefaultLabel}
		fs.Add(finding.ServerSecretDefault, probe.DefaultLabel,
			"%s is signed with BetterAuth's built-in default secret: the server at %s runs without BETTER_AUTH_SECRET. Set it in that deployment's environment and redeploy; anyone can forge its sessions now.",
			what, r.base.Host)
	case len(labels) > 0:
		r.res.ServerSecret = labels
		fs.Add(finding.ServerSecretIdentified, strings.Join(labels, ", "),
			"the server at %s signs with the secret of %s.", r.base.Host, strings.Join(labels, ", "))
	default:
		var fps []string
		for _, c := range r.opts.Candidates {
			if c.Role == probe.RoleCurrent {
				fps = append(fps, c.Label+" ("+c.Fingerprint()+")")
			}
		}
		held := "no source holds a secret"
		if len(fps) > 0 {
			held = "not " + strings.Join(fps, ", ")
		}
		fs.Add(finding.ServerSecretUnknown, "",
			"the server at %s signs with a secret none of the sources holds (%s): its BETTER_AUTH_SECRET comes from somewhere else (hosting dashboard, another env file, a stray newline). Compare it there.",
			r.base.Host, held)
	}
	return fs
}

func exposes(h http.Header, name string) bool {
	for _, v := range h.Values("Access-Control-Expose-Headers") {
		for _, part := range strings.Split(v, ",") {
			p := strings.TrimSpace(part)
			if p == "*" || strings.EqualFold(p, name) {
				return true
			}
		}
	}
	return false
}

// cookieValue returns the raw value of name as the Set-Cookie lines sent it.
func cookieValue(lines []string, name string) string {
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		n, v, _ := strings.Cut(pair, "=")
		if strings.TrimSpace(n) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// getSession asks get-session with the given header and judges the
// answer: ✓ only for a session.
func (r *run) getSession(step, title string, h http.Header, via string) bool {
	t := r.start(step, title)
	resp, t, err := r.get(step, r.url("/get-session"), h, t)
	if err != nil {
		r.recordNet(step, via, err)
		f := r.netFinding(step, err)
		r.byVia[via] = judged{out: r.res.Outcomes[step], fs: finding.List{f}}
		r.end(step, title, t, StatusFail, nil, err.Error(), f)
		return false
	}
	o := JudgeGetSession(resp.status, resp.header, resp.body)
	o.Step, o.Via = step, via
	r.record(o)
	if o.Result == Accepted {
		r.byVia[via] = judged{out: o}
		if j := strings.TrimSpace(resp.header.Get("set-auth-jwt")); j != "" && via == viaCookie && len(j) <= jwtcheck.MaxTokenBytes {
			r.jwt = j
		}
		r.end(step, title, t, StatusOK, resp, "answered "+sessionSummary(resp.body))
		return true
	}
	fs := r.getSessionFindings(step, via, o, resp)
	if fs == nil {
		// A null answer: how it was said tells why.
		if o.Cleared {
			fs.Add(finding.GetSessionNull, step,
				"get-session answered %s for the %s just issued and cleared the cookie: the signature was accepted but no valid session row was found. The server reads another database than it wrote to, or the row expired at once (clock skew).", o.Seen, via)
			fs.Add(finding.SetCookieCleared, step, "the server expired the session cookie in its answer to get-session.")
		} else {
			fs.Add(finding.GetSessionNull, step,
				"get-session answered %s for the %s just issued, without clearing it: the signature did not verify. Instances behind the load balancer run with different secrets.", o.Seen, via)
		}
	}
	r.byVia[via] = judged{out: o, fs: fs}
	r.end(step, title, t, StatusFail, resp, fs[0].Message, fs...)
	return false
}

// getSessionFindings explains a get-session answer that is not a
// session, except a 2xx null one (nil), whose meaning depends on what
// was presented (a fresh sign-in, a replayed signature).
func (r *run) getSessionFindings(step, via string, o Outcome, resp *response) finding.List {
	var fs finding.List
	switch {
	case o.Result == ServerError:
		fs.Add(finding.GetSessionError, step,
			"get-session with the %s answered %s: the server failed to read the session, usually its database (unreachable, wrong DATABASE_URL, missing tables). Check its logs.",
			via, o.Seen)
	case o.Result == NotSession:
		fs.Add(finding.GetSessionNotSession, step,
			"get-session with the %s answered %s: neither a session nor BetterAuth's null, so BetterAuth did not answer it. A CDN or proxy cache serves a stored page, or a rewrite sends %s elsewhere (the front end). Exclude %s from caching and route it to the auth service.",
			via, o.Seen, r.opts.BasePath+"/get-session", r.opts.BasePath)
	case o.HTTPStatus >= 300 && o.HTTPStatus < 400:
		fs.Add(finding.GetSessionNull, step,
			"get-session with the %s answered %s: a redirect, not a session. Something in front of BetterAuth (http→https, a proxy, a login wall) intercepts %s; point --base-url at the URL that answers it directly.",
			via, o.Seen, r.opts.BasePath)
	case o.HTTPStatus >= 400:
		who := "no BetterAuth error code: a proxy or middleware in front of BetterAuth answered, since BetterAuth itself answers 200 null for a session it does not accept"
		if code := errorCode(resp.body); code != "" {
			who = "BetterAuth refused it with " + code
		}
		fs.Add(finding.GetSessionNull, step, "get-session with the %s answered %s: %s.", via, o.Seen, who)
	default:
		return nil
	}
	return fs
}

// sessionSummary says whose session a get-session body holds, without
// the token it also carries.
func sessionSummary(body []byte) string {
	var s struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
		Session struct {
			ExpiresAt time.Time `json:"expiresAt"`
		} `json:"session"`
	}
	_ = json.Unmarshal(body, &s)
	out := "200 with the session of " + s.User.Email
	if !s.Session.ExpiresAt.IsZero() {
		out += ", expires " + s.Session.ExpiresAt.Local().Format(time.DateTime)
	}
	return out
}

func (r *run) stepGetSessionCookie() bool {
	r.getSession(StepGetCookie, "get-session with the cookie", http.Header{"Cookie": {r.cookieHeader}}, viaCookie)
	return true // the bearer and the database still tell something
}

func (r *run) stepGetSessionBearer() bool {
	const title = "get-session with the bearer token"
	if r.bearer == "" {
		t := r.start(StepGetBearer, title)
		r.end(StepGetBearer, title, t, StatusSkip, nil, "no set-auth-token (bearer plugin off)")
		return true
	}
	r.getSession(StepGetBearer, title, http.Header{"Authorization": {"Bearer " + r.bearer}}, viaBearer)
	return true
}

// How a credential is presented, in messages and Outcome.Via.
const (
	viaCookie = "cookie"
	viaBearer = "bearer token"
	viaJWT    = "JWT"
)

// stepStore looks the issued token up in the session store, as
// BetterAuth keys it, and judges the store and the database together
// (store.Combine): in the store only (normal without
// storeSessionInDatabase), in neither, disagreeing, the key's TTL too
// short, the store down.
func (r *run) stepStore() bool {
	if r.opts.Store == nil && r.opts.StoreErr == nil {
		return true
	}
	const title = "Look up the session in the store"
	t := r.start(StepStore, title)
	var (
		st  *store.Session
		err = r.opts.StoreErr
	)
	if err == nil {
		s, e := r.opts.Store.Lookup(r.ctx, r.token)
		if e != nil {
			err = e
		} else {
			st = &s
		}
	}
	// A database without a session table was asked too, in effect: it
	// holds no row for any token.
	noTable := r.opts.DB != nil && r.opts.Schema != nil && r.opts.Schema.Session == nil
	row := store.Row{Checked: r.rowRead || noTable, Found: r.row.Found, ExpiresAt: r.row.ExpiresAt, UserID: r.row.UserID}
	fs := store.Combine(st, err, row)
	for i := range fs {
		fs[i].Source = StepStore
	}
	detail := "no key for the token"
	switch {
	case err != nil:
		detail = "the store did not answer: " + textsafe.Safe(err.Error())
	case st.Found:
		detail = fmt.Sprintf("session %s of %s, key expires in %s", textsafe.Truncate(st.SessionID, 40), textsafe.Truncate(st.Email, 60), st.TTL.Round(time.Second))
	}
	r.end(StepStore, title, t, "", nil, detail, fs...)
	return true
}

// stepJWT verifies the jwt() plugin's token (set-auth-jwt) against the
// server's own JWKS, and its issuer against the base URL: what a backend
// that verifies JWTs checks. Without the plugin there is no token and no
// step.
func (r *run) stepJWT() bool {
	if r.jwt == "" {
		return true
	}
	const title = "Verify the JWT (jwt plugin) against the JWKS"
	t := r.start(StepJWT, title)
	rep := jwtcheck.Check(r.ctx, r.client, r.jwt, r.url("/jwks"), r.opts.Timeout, jwtcheck.Options{
		Issuers: []jwtcheck.Expected{{Label: "the base URL", Value: r.opts.BaseURL}}, Audiences: r.opts.JWTAudiences})
	for i := range rep.Findings {
		rep.Findings[i].Source = StepJWT
	}
	if rep.Signature == jwtcheck.SignatureValid && len(rep.Findings) == 0 {
		r.byVia[viaJWT] = judged{out: Outcome{Step: StepJWT, Via: viaJWT, Result: Accepted, Seen: "valid"}}
		r.end(StepJWT, title, t, StatusOK, nil, fmt.Sprintf("%s token signed by key %s of the JWKS, issuer %s, expires %s",
			rep.Token.Alg, rep.KeyID, rep.Token.Issuer, rep.Token.Expires.Local().Format(time.DateTime)))
		return true
	}
	r.byVia[viaJWT] = judged{out: Outcome{Step: StepJWT, Via: viaJWT, Result: Rejected, Seen: rep.Signature}, fs: rep.Findings}
	detail := "the JWT does not verify: " + rep.Signature
	if len(rep.Findings) > 0 {
		detail = rep.Findings[0].Message
	}
	r.end(StepJWT, title, t, "", nil, detail, rep.Findings...)
	return true
}

// stepAPIJWT presents the JWT to the API, as a backend that verifies
// JWTs (often a non-JS one) expects it: Authorization: Bearer <JWT>. It
// runs before the cookie and bearer steps: an API that takes JWTs is
// expected to refuse the other forms. An API that refuses the JWT is not
// at fault for that alone: most validate the cookie or bearer token.
func (r *run) stepAPIJWT() bool {
	if r.jwt == "" || r.opts.APIURL == "" {
		return true
	}
	const title = "Your API with the JWT"
	t := r.start(StepAPIJWT, title)
	h := http.Header{"Authorization": {"Bearer " + r.jwt}, "Origin": {r.opts.Origin}}
	resp, t, err := r.get(StepAPIJWT, r.opts.APIURL, h, t)
	if err != nil {
		r.recordNet(StepAPIJWT, viaJWT, err)
		f := r.netFinding(StepAPIJWT, err)
		r.end(StepAPIJWT, title, t, StatusFail, nil, err.Error(), f)
		return true
	}
	o := JudgeAPI(resp.status, resp.header, resp.body)
	o.Step, o.Via = StepAPIJWT, viaJWT
	if o.Result == Accepted {
		if a := r.anonAnswer(r.opts.APIURL); a != nil && JudgeAPI(a.status, a.header, a.body).Result == Accepted && Describe(a.status, a.header, a.body) == o.Seen {
			o.Result = NotSession // the same answer without any credential
		}
	}
	r.record(o)
	if o.Result == Accepted {
		r.end(StepAPIJWT, title, t, StatusOK, resp, "the API accepts the JWT (answered "+o.Seen+"): it verifies the jwt() plugin's tokens")
		return true
	}
	r.end(StepAPIJWT, title, t, StatusSkip, resp, "the API does not take the JWT (answered "+o.Seen+"): it validates sessions another way")
	return true
}

// stepAPIMethods says which credential forms the API accepted: the
// method it validates sessions with, and so what breaks it.
func (r *run) stepAPIMethods() bool {
	if r.opts.APIURL == "" {
		return true
	}
	var ok, no []string
	for _, c := range []struct{ step, via string }{{StepAPICookie, viaCookie}, {StepAPIBearer, viaBearer}, {StepAPIJWT, viaJWT}} {
		o, asked := r.res.Outcomes[c.step]
		switch {
		case !asked:
		case o.Result == Accepted:
			ok = append(ok, c.via)
		case o.Result == Rejected:
			no = append(no, c.via)
		}
	}
	if len(ok) == 0 || len(ok)+len(no) < 2 {
		return true // nothing accepted (the verdict says why) or one form: no comparison
	}
	has := func(v string) bool { return slices.Contains(ok, v) }
	var how []string
	if has(viaCookie) {
		how = append(how, "the cookie (it asks BetterAuth or checks the signed cookie: another secret, cookie name or prefix breaks it, and browsers drop it cross-site with SameSite=Lax)")
	}
	if has(viaBearer) {
		how = append(how, "the bearer token (the bearer() plugin: a proxy that drops Authorization, or an API without the plugin, breaks it)")
	}
	if has(viaJWT) {
		how = append(how, "the JWT (verified against the JWKS: a rotated key, an issuer or audience other than it expects, or expiry after 15 minutes breaks it)")
	}
	msg := "Your API accepts " + strings.Join(how, "; ")
	if len(no) > 0 {
		msg += "; it rejects the " + strings.Join(no, " and the ")
	}
	r.res.Findings = append(r.res.Findings, finding.New(finding.APIMethods, "api", "%s.", msg))
	return true
}

// awaitDB resolves Options.WaitDB once, into DB and Schema.
func (r *run) awaitDB() {
	if w := r.opts.WaitDB; w != nil {
		r.opts.WaitDB = nil
		var why string
		r.opts.DB, r.opts.Schema, why = w(r.ctx)
		if why != "" {
			r.noDB = why
		}
	}
}

// dbMissing says why the steps that need the database cannot use it:
// none configured, configured but unreachable, or no session table.
func (r *run) dbMissing() string {
	switch {
	case r.opts.DB != nil && r.opts.Store != nil:
		return "the database has no session table: the sessions live in the store (secondaryStorage)"
	case r.opts.DB != nil && r.opts.Schema != nil && r.opts.Schema.User != nil:
		return "the database has a user table but no session table (see sessions-elsewhere)"
	case r.opts.DB != nil:
		return "the database has no session table (see db-schema-missing)"
	case r.noDB != "":
		return r.noDB
	}
	return "no database configured (--database-url)"
}

func (r *run) stepDatabase() bool {
	const title = "Look up the session row"
	t := r.start(StepDatabase, title)
	ahead := r.dbAhead
	if ahead != nil {
		r.dbAhead = nil
		<-ahead.done
		r.opts.DB, r.opts.Schema, t = ahead.db, ahead.schema, ahead.began
		if ahead.why != "" {
			r.noDB = ahead.why
		}
	} else {
		r.awaitDB()
	}
	if r.opts.DB == nil || r.opts.Schema == nil || r.opts.Schema.Session == nil {
		r.end(StepDatabase, title, t, StatusSkip, nil, r.dbMissing())
		return true
	}
	if !r.opts.Schema.Session.Has(database.ColToken) {
		f := finding.New(finding.DBSchemaMismatch, StepDatabase,
			"%s has no token column, so the issued token cannot be looked up: the database is not the one this BetterAuth writes to, or its schema is customised.", r.opts.Schema.Session)
		r.end(StepDatabase, title, t, "", nil, f.Message, f)
		return true
	}
	var (
		row database.TokenLookup
		fs  finding.List
		err error
	)
	if ahead != nil {
		row, fs, err = ahead.row, ahead.fs, ahead.err
	} else {
		row, fs, err = r.opts.DB.LookupToken(r.ctx, r.opts.Schema, r.token, StepDatabase)
	}
	if err != nil {
		f := finding.New(finding.DBUnreachable, StepDatabase,
			"the session row of token %s could not be read: %s. The database stopped answering or refuses the query (permissions, timeout).", textsafe.TokenPrefix(r.token), err)
		r.end(StepDatabase, title, t, StatusFail, nil, f.Message, f)
		return true
	}
	r.row, r.rowRead = row, true
	detail := "no row"
	if row.Found {
		detail = fmt.Sprintf("session %s of %s, expires %s", row.SessionID, row.Email, row.ExpiresAt.Local().Format(time.DateTime))
	}
	r.end(StepDatabase, title, t, "", nil, detail, fs...)
	return true
}

func (r *run) stepAPICookie() bool {
	if r.opts.APIURL == "" {
		t := r.start(StepAPICookie, titleAPICookie)
		r.end(StepAPICookie, titleAPICookie, t, StatusSkip, nil, "no --api-url")
		return true
	}
	r.api(StepAPICookie, titleAPICookie, r.opts.APIURL, http.Header{"Cookie": {r.cookieHeader}}, viaCookie)
	return true
}

func (r *run) stepAPIBearer() bool {
	if r.bearer == "" || r.opts.APIURL == "" {
		return true
	}
	r.api(StepAPIBearer, titleAPIBearer, r.opts.APIURL, http.Header{"Authorization": {"Bearer " + r.bearer}}, viaBearer)
	return true
}

// stepMoreAPIs presents the session to each further declared API, with
// the cookie and with the bearer token, judged by the same rule.
func (r *run) stepMoreAPIs() bool {
	for _, a := range r.opts.MoreAPIs {
		if r.ctx.Err() != nil {
			break
		}
		name := textsafe.Truncate(a.Name, 40)
		r.api(APIStep(StepAPICookie, a.Name), "API "+name+" with the cookie", a.URL, http.Header{"Cookie": {r.cookieHeader}}, viaCookie)
		if r.bearer != "" {
			r.api(APIStep(StepAPIBearer, a.Name), "API "+name+" with the bearer token", a.URL, http.Header{"Authorization": {"Bearer " + r.bearer}}, viaBearer)
		}
	}
	return true
}

const (
	titleAPICookie = "Your API with the cookie"
	titleAPIBearer = "Your API with the bearer token"
)

// api presents a credential to the user's API and judges its answer
// with the API rule. Whether a rejection is the API's fault depends on
// get-session's verdict on the same credential (r.byVia).
func (r *run) api(step, title, apiURL string, h http.Header, via string) {
	t := r.start(step, title)
	h.Set("Origin", r.opts.Origin)
	api := textsafe.URL(apiURL)
	resp, t, err := r.get(step, apiURL, h, t)
	if !r.apiClearDone && (err == nil || sent(err)) {
		r.apiClearDone = true
		r.apiClear = inClear(step, apiURL, "the API steps sent the session (its cookie or bearer token)", "your API (--api-url)")
	}
	clear := take(&r.apiClear)
	if err != nil {
		r.recordNet(step, via, err)
		ne, _ := err.(*netError)
		id := finding.ServerUnreachable
		if ne != nil && ne.class == "timeout" {
			id = finding.ServerTimeout
		}
		f := finding.New(id, step, "the API %s: %s", api, err)
		r.end(step, title, t, StatusFail, nil, f.Message, append(finding.List{f}, clear...)...)
		return
	}
	o := JudgeAPI(resp.status, resp.header, resp.body)
	o.Step, o.Via = step, via
	var unprotected *finding.Finding
	if o.Result == Accepted {
		if a := r.anonAnswer(apiURL); a != nil && JudgeAPI(a.status, a.header, a.body).Result == Accepted && Describe(a.status, a.header, a.body) == o.Seen {
			// The same answer without any credential: the 2xx says
			// nothing about the session.
			o.Result = NotSession
			f := finding.New(finding.APINotProtected, step,
				"the API %s answers %s without any credential too, so its answer says nothing about the session: point --api-url at an endpoint that requires a session (one that answers 401 without it).", api, o.Seen)
			unprotected = &f
		}
	}
	r.record(o)
	if unprotected != nil {
		r.end(step, title, t, StatusWarn, resp, unprotected.Message, append(finding.List{*unprotected}, clear...)...)
		return
	}
	if jw, ok := r.res.Outcomes[StepAPIJWT]; ok && jw.Result == Accepted && o.Result != Accepted {
		// The API takes the jwt() plugin's token: refusing the other
		// forms is how it is built, not a fault.
		r.end(step, title, t, StatusSkip, resp, fmt.Sprintf("the API answered %s for the %s: it takes the JWT instead", o.Seen, via), clear...)
		return
	}
	gs, asked := r.byVia[via]
	gsOK := asked && gs.out.Result == Accepted
	gsSays := fmt.Sprintf("get-session rejected the same %s too", via)
	switch {
	case gsOK:
		gsSays = fmt.Sprintf("get-session accepted the same %s", via)
	case !asked:
		gsSays = fmt.Sprintf("get-session was not asked with the %s", via)
	case gs.out.Seen != "":
		gsSays += " (" + gs.out.Seen + ")"
	}
	if o.Result == Accepted {
		detail := fmt.Sprintf("the API accepts the %s (answered %s)", via, o.Seen)
		if asked && !gsOK {
			detail += "; " + gsSays + ", so the API does not validate it the way BetterAuth does"
		}
		status := StatusOK
		if len(clear) > 0 {
			status, detail = StatusWarn, detail+"; "+clear[0].Message
		}
		r.end(step, title, t, status, resp, detail, clear...)
		return
	}
	var fs finding.List
	if nullAnswer(o) {
		fs.Add(finding.APINullSession, step,
			"the API %s answered %s for the %s: a handler that returns getSession's result unchanged answers null for a session it does not accept; it is a rejection, not acceptance (have it answer 401). %s.",
			api, o.Seen, via, gsSays)
	}
	if gsOK {
		why := "answered " + o.Seen
		switch {
		case o.Result == ServerError:
			why += ": it failed instead of validating (its getSession threw: its database or configuration)"
		case resp.status >= 300 && resp.status < 400:
			why += ": a redirect to a sign-in page"
		case o.Result == NotSession:
			why += ": a page, not the API's answer (a middleware that rewrites to the sign-in page answers so)"
		}
		fs.Add(finding.APIRejectsSession, step,
			"the API %s %s for the %s that get-session accepts: it validates sessions differently (another secret, cookie name or database).",
			api, why, via)
	}
	if len(fs) > 0 {
		r.end(step, title, t, StatusFail, resp, fs[0].Message, append(fs, clear...)...)
		return
	}
	// get-session refused this credential as well: the API agrees with
	// BetterAuth, and get-session's findings explain both.
	detail := fmt.Sprintf("the API answered %s; %s, so this says nothing about the API", o.Seen, gsSays)
	r.end(step, title, t, StatusWarn, resp, detail, append(append(finding.List{}, gs.fs...), clear...)...)
}

// signers lists the labels of the sources that have a current secret.
func signers(cands []probe.Candidate) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if c.Role == probe.RoleCurrent && !seen[c.Label] {
			seen[c.Label] = true
			out = append(out, c.Label)
		}
	}
	return out
}
