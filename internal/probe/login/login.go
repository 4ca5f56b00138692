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
	"github.com/authtui/authtui/internal/probe/textsafe"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
)

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
	Timeout  time.Duration

	Candidates   []probe.Candidate
	CookiePrefix string // for replay: the cookie prefix (default better-auth)

	// Optional database, for the token lookup and replay.
	DB     *database.DB
	Schema *database.Schema

	// ReplaySession, with a database, replays an existing session ("latest"
	// or an id) instead of signing in.
	ReplaySession string

	Client *http.Client // nil: a default client
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
	StepReplayRead  = "replay-read"
	StepReplayProbe = "replay"
)

// Status of a finished step.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusWarn    = "warn"
	StatusFail    = "fail"
	StatusSkip    = "skip"
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
	ServerSecret []string     `json:"server_secret"`
	Findings     finding.List `json:"findings"`
	Diagnosis    Diagnosis    `json:"diagnosis"`
	Cancelled    bool         `json:"cancelled,omitempty"`
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
	getOK        bool   // get-session accepted the cookie
	bearerOK     bool
}

// Run executes the flow. It sends every event to events (when not nil)
// and closes it when done; the returned result holds them all. Cancelling
// ctx stops the run at the next step.
func Run(ctx context.Context, opts Options, events chan<- Event) *Result {
	res := &Result{ServerSecret: []string{}}
	if events != nil {
		defer close(events)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.BasePath == "" {
		opts.BasePath = "/api/auth"
	}
	r := &run{ctx: ctx, opts: opts, client: newClient(opts.Client), events: events, res: res}
	defer func() {
		res.Diagnosis = Diagnose(res.Findings, DiagnoseContext{ServerSecret: res.ServerSecret, Signers: signers(opts.Candidates), APIURL: opts.APIURL})
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
	if opts.ReplaySession != "" {
		steps = append(steps, r.stepReplay)
	} else {
		steps = append(steps, r.stepSignIn, r.stepGetSessionCookie, r.stepGetSessionBearer, r.stepDatabase, r.stepAPICookie, r.stepAPIBearer)
	}
	for _, step := range steps {
		if ctx.Err() != nil {
			res.Cancelled = true
			return res
		}
		if !step() {
			break
		}
	}
	if ctx.Err() != nil {
		res.Cancelled = true
	}
	return res
}

func (r *run) url(path string) string {
	return r.base.Scheme + "://" + r.base.Host + strings.TrimRight(r.base.Path, "/") + r.opts.BasePath + path
}

func (r *run) emit(e Event) {
	e.At = time.Now()
	r.res.Events = append(r.res.Events, e)
	r.res.Findings = append(r.res.Findings, e.Findings...)
	if r.events != nil {
		select {
		case r.events <- e:
		case <-r.ctx.Done():
		}
	}
}

func (r *run) start(step, title string) time.Time {
	r.emit(Event{Step: step, Title: title, Phase: "start", Status: StatusRunning})
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
	e := Event{Step: step, Title: title, Phase: "end", Status: status, Duration: time.Since(started), Detail: detail, Findings: fs}
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
			"GET %s answered %d %q, not BetterAuth's {\"ok\":true}: wrong base URL or basePath (BetterAuth mounts at %s by default).",
			r.url("/ok"), resp.status, excerpt(resp.body), r.opts.BasePath)
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
	if err != nil {
		r.end(StepSignIn, title, t, StatusFail, nil, err.Error(), r.netFinding(StepSignIn, err))
		return false
	}
	code := errorCode(resp.body)
	switch {
	case resp.status == http.StatusForbidden && (code == "INVALID_ORIGIN" || code == "MISSING_OR_NULL_ORIGIN"):
		f := finding.New(finding.LoginOriginRejected, StepSignIn,
			"sign-in from Origin %s answered 403 %s: the auth service does not trust that origin. Add it to trustedOrigins (or BETTER_AUTH_TRUSTED_ORIGINS, comma separated, no spaces).",
			r.opts.Origin, code)
		r.end(StepSignIn, title, t, StatusFail, resp, f.Message, f)
		return false
	case resp.status == http.StatusForbidden && code == "EMAIL_NOT_VERIFIED":
		f := finding.New(finding.LoginEmailNotVerified, StepSignIn, "sign-in answered 403 EMAIL_NOT_VERIFIED: verify %s's email first, or test with a verified user.", r.opts.Email)
		r.end(StepSignIn, title, t, StatusFail, resp, f.Message, f)
		return false
	case resp.status == http.StatusUnauthorized:
		f := finding.New(finding.LoginCredentialsRejected, StepSignIn, "sign-in answered 401 %s: wrong email or password for %s (this is not a session problem).", code, r.opts.Email)
		r.end(StepSignIn, title, t, StatusFail, resp, f.Message, f)
		return false
	case resp.status >= 500:
		f := finding.New(finding.GetSessionError, StepSignIn, "sign-in answered %d %s: the auth service failed, often its database. Check its logs. Body: %s", resp.status, code, excerpt(resp.body))
		r.end(StepSignIn, title, t, StatusFail, resp, f.Message, f)
		return false
	case resp.status != http.StatusOK:
		detail := fmt.Sprintf("sign-in answered %d %s", resp.status, excerpt(resp.body))
		r.end(StepSignIn, title, t, StatusFail, resp, detail)
		return false
	}
	r.end(StepSignIn, title, t, StatusOK, resp, "signed in as "+r.opts.Email)
	return r.stepCookie(resp)
}

// stepCookie inspects what sign-in set: the Set-Cookie lines and the
// bearer token, verified against every candidate, which names the secret
// the server really signs with.
func (r *run) stepCookie(resp *response) bool {
	const title = "Inspect the issued cookie"
	t := r.start(StepCookie, title)
	in := probe.ParsedInput{}
	lines := resp.header.Values("Set-Cookie")
	for i, line := range lines {
		sub := probe.ParseInput("Set-Cookie: " + line)
		for _, it := range sub.Items {
			it.From = fmt.Sprintf("Set-Cookie line %d", i+1)
			in.Items = append(in.Items, it)
		}
	}
	r.bearer = resp.header.Get("Set-Auth-Token")
	if r.bearer != "" {
		in.Items = append(in.Items, probe.InputItem{Kind: probe.ItemBearer, From: "set-auth-token header", Value: r.bearer})
	}
	rep := probe.DecodeParsed(in, probe.DecodeOptions{Candidates: r.opts.Candidates, BaseURL: r.opts.BaseURL, Origin: r.opts.Origin, Now: time.Now()})
	var fs finding.List
	var signed *probe.CookieReport
	var pairs []string
	for i := range rep.Cookies {
		c := &rep.Cookies[i]
		if c.SetCookie != nil && !c.SetCookie.Cleared {
			pairs = append(pairs, c.Name+"="+cookieValue(lines, c.Name))
		}
		if (c.Kind == probe.KindSessionToken || c.Kind == probe.KindBearer) && signed == nil && c.Token() != "" {
			signed = c
		}
	}
	r.cookieHeader = strings.Join(pairs, "; ")
	for _, f := range rep.Findings {
		if f.ID == finding.CookieNone {
			continue
		}
		fs = append(fs, f)
	}
	if signed == nil {
		f := finding.New(finding.LoginNoCookie, StepCookie,
			"sign-in succeeded but set no session cookie (%d Set-Cookie lines) and no set-auth-token: a proxy or CDN strips Set-Cookie, or the response is cached.", len(lines))
		r.end(StepCookie, title, t, StatusFail, nil, f.Message, append(fs, f)...)
		return false
	}
	r.token = signed.Token()
	fs = append(fs, r.identifySecret(signed.Matches, "the issued "+signed.Kind)...)
	if r.bearer != "" && r.opts.Origin != "" && !exposes(resp.header, "set-auth-token") {
		fs = append(fs, finding.New(finding.BearerNotExposed, StepCookie,
			"the server sends set-auth-token but Access-Control-Expose-Headers does not list it: browser code on another origin cannot read the token. Expose the header in CORS."))
	}
	detail := fmt.Sprintf("%d cookie(s); token %s", len(pairs), textsafe.TokenPrefix(r.token))
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

// getSession asks get-session with the given header and classifies the
// answer.
func (r *run) getSession(step, title string, h http.Header, via string) bool {
	t := r.start(step, title)
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, r.url("/get-session"), h, nil)
	if err != nil {
		r.end(step, title, t, StatusFail, nil, err.Error(), r.netFinding(step, err))
		return false
	}
	switch {
	case resp.status >= 500:
		f := finding.New(finding.GetSessionError, step,
			"get-session with the %s answered %d %s: the server failed to read the session, usually its database (unreachable, wrong DATABASE_URL, missing tables). Check its logs.",
			via, resp.status, errorCode(resp.body))
		r.end(step, title, t, StatusFail, resp, f.Message, f)
		return false
	case resp.status != http.StatusOK:
		f := finding.New(finding.GetSessionNull, step, "get-session with the %s answered %d %s.", via, resp.status, excerpt(resp.body))
		r.end(step, title, t, StatusFail, resp, f.Message, f)
		return false
	}
	if strings.TrimSpace(string(resp.body)) == "null" {
		cleared := false
		for _, l := range resp.header.Values("Set-Cookie") {
			if strings.Contains(l, "session_token=") && (strings.Contains(strings.ToLower(l), "max-age=0")) {
				cleared = true
			}
		}
		var fs finding.List
		if cleared {
			fs.Add(finding.GetSessionNull, step,
				"get-session answered null for the %s just issued and cleared the cookie: the signature was accepted but no valid session row was found. The server reads another database than it wrote to, or the row expired at once (clock skew).", via)
			fs.Add(finding.SetCookieCleared, step, "the server expired the session cookie in its answer to get-session.")
		} else {
			fs.Add(finding.GetSessionNull, step,
				"get-session answered null for the %s just issued, without clearing it: the signature did not verify. Instances behind the load balancer run with different secrets.", via)
		}
		r.end(step, title, t, StatusFail, resp, fs[0].Message, fs...)
		return false
	}
	var body struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
		Session struct {
			ExpiresAt time.Time `json:"expiresAt"`
		} `json:"session"`
	}
	_ = json.Unmarshal(resp.body, &body)
	r.end(step, title, t, StatusOK, resp, fmt.Sprintf("session of %s, expires %s", body.User.Email, body.Session.ExpiresAt.Local().Format(time.DateTime)))
	return true
}

func (r *run) stepGetSessionCookie() bool {
	r.getOK = r.getSession(StepGetCookie, "get-session with the cookie", http.Header{"Cookie": {r.cookieHeader}}, "cookie")
	return true // the bearer and the database still tell something
}

func (r *run) stepGetSessionBearer() bool {
	const title = "get-session with the bearer token"
	if r.bearer == "" {
		t := r.start(StepGetBearer, title)
		r.end(StepGetBearer, title, t, StatusSkip, nil, "no set-auth-token (bearer plugin off)")
		return true
	}
	r.bearerOK = r.getSession(StepGetBearer, title, http.Header{"Authorization": {"Bearer " + r.bearer}}, "bearer token")
	return true
}

func (r *run) stepDatabase() bool {
	const title = "Look up the session row"
	t := r.start(StepDatabase, title)
	if r.opts.DB == nil || r.opts.Schema == nil || r.opts.Schema.Session == nil {
		r.end(StepDatabase, title, t, StatusSkip, nil, "no database configured (--database-url)")
		return true
	}
	row, fs, err := r.opts.DB.LookupToken(r.ctx, r.opts.Schema, r.token, StepDatabase)
	if err != nil {
		r.end(StepDatabase, title, t, StatusFail, nil, err.Error())
		return true
	}
	detail := "no row"
	if row.Found {
		detail = fmt.Sprintf("session %s of %s, expires %s", row.SessionID, row.Email, row.ExpiresAt.Local().Format(time.DateTime))
	}
	r.end(StepDatabase, title, t, "", nil, detail, fs...)
	return true
}

func (r *run) stepAPICookie() bool {
	return r.api(StepAPICookie, "Your API with the cookie", http.Header{"Cookie": {r.cookieHeader}}, "cookie", r.getOK)
}

func (r *run) stepAPIBearer() bool {
	if r.bearer == "" {
		return true
	}
	return r.api(StepAPIBearer, "Your API with the bearer token", http.Header{"Authorization": {"Bearer " + r.bearer}}, "bearer token", r.bearerOK)
}

func (r *run) api(step, title string, h http.Header, via string, accepted bool) bool {
	if r.opts.APIURL == "" {
		if step == StepAPICookie {
			t := r.start(step, title)
			r.end(step, title, t, StatusSkip, nil, "no --api-url")
		}
		return true
	}
	t := r.start(step, title)
	h.Set("Origin", r.opts.Origin)
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, r.opts.APIURL, h, nil)
	if err != nil {
		ne, _ := err.(*netError)
		id := finding.ServerUnreachable
		if ne != nil && ne.class == "timeout" {
			id = finding.ServerTimeout
		}
		f := finding.New(id, step, "the API %s: %s", r.opts.APIURL, err)
		r.end(step, title, t, StatusFail, nil, f.Message, f)
		return true
	}
	switch {
	case resp.status >= 200 && resp.status < 300:
		r.end(step, title, t, StatusOK, resp, fmt.Sprintf("the API accepts the %s", via))
	case accepted:
		why := fmt.Sprintf("%d %s", resp.status, excerpt(resp.body))
		if loc := resp.header.Get("Location"); loc != "" {
			why = fmt.Sprintf("%d redirect to %s", resp.status, loc)
		}
		f := finding.New(finding.APIRejectsSession, step,
			"the API %s answered %s for the %s that get-session accepts: it validates sessions differently (another secret, cookie name or database).",
			r.opts.APIURL, why, via)
		r.end(step, title, t, StatusFail, resp, f.Message, f)
	default:
		r.end(step, title, t, StatusWarn, resp, fmt.Sprintf("the API answered %d; get-session rejected the %s too", resp.status, via))
	}
	return true
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
