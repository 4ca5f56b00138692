// Package browser runs the sign-in in a real headless Chrome (or
// Chromium) from the front end's origin and reports what Chrome itself
// says about each cookie: stored or refused and why, sent or withheld and
// why, and the CORS errors that keep an answer from the page. The reasons
// come from the DevTools protocol (Network.responseReceivedExtraInfo,
// requestWillBeSentExtraInfo, loadingFailed), under Chrome's own names.
//
// What headless Chromium does here is in ../shared/CHROME.md and
// docs/betterauth-notes.md; the tests hold it to real servers.
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Options configure a run.
type Options struct {
	Chrome   string // the browser binary; "" searches the usual names
	Origin   string // the front end's origin the page is put on
	BaseURL  string // the auth service
	BasePath string // BetterAuth's basePath; default /api/auth
	Email    string
	Password string // typed into the page's fetch only; never output
	APIURL   string // optional: the user's API, fetched with credentials
	Timeout  time.Duration

	// FrontendURL, when set, is the real front end: Chrome loads it and
	// the sign-in runs in that page (its origin is the origin). Empty:
	// the page is answered through the protocol, no front end needed.
	FrontendURL string
	// HostResolverRules are Chrome's --host-resolver-rules, e.g.
	// "MAP app.example.test 127.0.0.1": other host names on loopback.
	HostResolverRules string
	// IgnoreCertErrors is Chrome's --ignore-certificate-errors (a test
	// certificate). Chrome then still treats the origin as https: Secure
	// cookies are stored (see docs/betterauth-notes.md).
	IgnoreCertErrors bool
	// Progress, when set, is told when each pass starts and ends.
	Progress func(Event)
	// Social, when set, runs BetterAuth's social sign-in in the page
	// instead of email and password: the page asks sign-in/social with
	// credentials, then navigates to the provider as BetterAuth's client
	// does, and Chrome follows every hop back through the callback.
	Social *Social
}

// Social is the social sign-in's settings.
type Social struct {
	Provider string
	// CallbackURL is where the sign-in lands; default a page on the
	// origin answered here (FrontendURL, when set: that page).
	CallbackURL string
	// Headed opens a visible window in which a person signs in at the
	// provider (one pass, third-party cookies allowed); Wait bounds how
	// long authtui waits for them (default 5 minutes).
	Headed bool
	Wait   time.Duration
}

// Event is one pass starting (Pass nil) or ending.
type Event struct {
	Phase             string `json:"phase"` // start, end
	ThirdPartyBlocked bool   `json:"third_party_blocked"`
	Pass              *Pass  `json:"pass,omitempty"`
}

// Searched are the names looked for on PATH when Options.Chrome is empty.
var Searched = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"}

// ErrNoChrome says no browser was found.
var ErrNoChrome = errors.New("no Chrome or Chromium found")

// Find returns the browser to run.
func Find(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("%w: --chrome %s: %v", ErrNoChrome, path, err)
		}
		return p, nil
	}
	for _, n := range Searched {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: searched PATH for %s; install one (Debian: apt-get install chromium) or pass --chrome PATH", ErrNoChrome, strings.Join(Searched, ", "))
}

// Cookie is a cookie as Chrome judged it at one request.
type Cookie struct {
	Name    string   `json:"name"`
	Reasons []string `json:"reasons,omitempty"` // Chrome's blockedReasons, as named
}

// Request is one request of the page and what Chrome said of it.
type Request struct {
	Step      string   `json:"step"` // sign-in, get-session, api
	URL       string   `json:"url"`  // without query
	Status    int      `json:"status,omitempty"`
	Stored    []string `json:"stored,omitempty"`     // cookies Set-Cookie stored
	Refused   []Cookie `json:"refused,omitempty"`    // cookies Chrome would not store
	Sent      []string `json:"sent,omitempty"`       // cookies the request carried
	Withheld  []Cookie `json:"withheld,omitempty"`   // cookies Chrome did not send
	CORSError string   `json:"cors_error,omitempty"` // Chrome's corsErrorStatus.corsError
	Failed    string   `json:"failed,omitempty"`     // the network error, when the request failed
	// Predicted is what authtui's own Set-Cookie analysis says of the
	// same lines Chrome judged (never their values): Judge compares.
	Predicted []Prediction `json:"predicted,omitempty"`

	lines []string // the Set-Cookie lines, until predicted; never output
	raw   string   // the URL as requested, for the analysis; never output
}

// Prediction is authtui's Set-Cookie analysis of one line Chrome saw:
// the finding IDs that say a browser will drop the cookie or not send
// it to the front end ("" IDs: it predicts the cookie works).
type Prediction struct {
	Name string       `json:"name"`
	Lost []finding.ID `json:"lost,omitempty"`
	// ThirdParty: the analysis warns that browsers blocking third-party
	// cookies drop it.
	ThirdParty bool `json:"third_party,omitempty"`
}

// JarCookie is a cookie in the final jar.
type JarCookie struct {
	Name      string `json:"name"`
	Domain    string `json:"domain"`
	SameSite  string `json:"same_site,omitempty"`
	Secure    bool   `json:"secure"`
	Partition string `json:"partition,omitempty"`
}

// Pass is one run of the page: with third-party cookies allowed, then
// blocked (as Safari, Brave, or Chrome with them off).
type Pass struct {
	ThirdPartyBlocked bool          `json:"third_party_blocked"`
	Requests          []Request     `json:"requests"`
	Jar               []JarCookie   `json:"jar"`
	Session           bool          `json:"session"` // get-session answered a session
	Duration          time.Duration `json:"duration_ns"`
	// Error: the run itself failed (Chrome, the protocol, a timeout).
	Error string `json:"error,omitempty"`
	// PageError: the page's own fetch threw (a CORS refusal or a
	// network error reads "Failed to fetch"); Chrome's reason is on the
	// request.
	PageError string `json:"page_error,omitempty"`
	// The social sign-in: where the navigation ended (no query but the
	// error code), and the error code BetterAuth or the provider
	// redirected with.
	Landed        string `json:"landed,omitempty"`
	CallbackError string `json:"callback_error,omitempty"`
	// AtProvider: the window never came back from the provider (its page
	// wants a person, or it refused).
	AtProvider bool `json:"at_provider,omitempty"`
}

// Result is a whole run.
type Result struct {
	Chrome string `json:"chrome"`
	Origin string `json:"origin"`
	// Social is the provider of a social sign-in run ("": email and
	// password).
	Social   string        `json:"social,omitempty"`
	Passes   []Pass        `json:"passes"`
	Findings finding.List  `json:"findings"`
	Duration time.Duration `json:"duration_ns"`
}

// pagePath is the path the page is served under on the front end's
// origin, answered through the Fetch domain: no front end needs to run.
const pagePath = "/__authtui__/"

// Run drives both passes and judges them.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	chrome, err := Find(o.Chrome)
	if err != nil {
		return nil, err
	}
	if o.BasePath == "" {
		o.BasePath = "/api/auth"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.FrontendURL != "" {
		u, err := url.Parse(o.FrontendURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("the front end's URL %q is not an http(s) URL", textsafe.URL(o.FrontendURL))
		}
		fo := u.Scheme + "://" + u.Host
		if o.Origin != "" && !strings.EqualFold(strings.TrimRight(o.Origin, "/"), fo) {
			return nil, fmt.Errorf("--origin %s and the front end's URL (origin %s) disagree: the page's origin is its URL's", textsafe.URL(o.Origin), textsafe.URL(fo))
		}
		o.Origin = fo
	}
	if u, err := url.Parse(o.Origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the front end's origin %q is not an http(s) origin", textsafe.Clean(o.Origin))
	}
	if s := o.Social; s != nil {
		sc := *s
		switch {
		case o.FrontendURL != "" && sc.CallbackURL == "":
			sc.CallbackURL = o.FrontendURL
		case o.FrontendURL == "":
			// No front end runs: the sign-in lands on a page answered here.
			sc.CallbackURL = strings.TrimRight(o.Origin, "/") + pagePath + "done"
		}
		if sc.Wait <= 0 {
			sc.Wait = 5 * time.Minute
		}
		if sc.Headed && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return nil, errors.New("a visible browser window needs a display (DISPLAY or WAYLAND_DISPLAY): run without --headed, with a provider that signs in by itself")
		}
		o.Social = &sc
	}
	social := ""
	if o.Social != nil {
		social = textsafe.Truncate(o.Social.Provider, 80)
	}
	res := &Result{Chrome: chrome, Origin: strings.TrimRight(o.Origin, "/"), Social: social}
	passes := []bool{false, true}
	if o.Social != nil && o.Social.Headed {
		passes = passes[:1] // a person signs in once
	}
	for _, blocked := range passes {
		if o.Progress != nil {
			o.Progress(Event{Phase: "start", ThirdPartyBlocked: blocked})
		}
		p := runPass(ctx, chrome, o, blocked)
		res.Passes = append(res.Passes, p)
		if o.Progress != nil {
			o.Progress(Event{Phase: "end", ThirdPartyBlocked: blocked, Pass: &p})
		}
		if ctx.Err() != nil {
			break
		}
	}
	res.Findings = Judge(res)
	res.Duration = time.Since(start)
	return res, nil
}

func runPass(ctx context.Context, chrome string, o Options, blocked bool) Pass {
	began := time.Now()
	p := Pass{ThirdPartyBlocked: blocked}
	profile, err := os.MkdirTemp("", "authtui-chrome-")
	if err != nil {
		p.Error = err.Error()
		return p
	}
	defer os.RemoveAll(profile)
	// A fresh profile blocks third-party cookies and so hides the real
	// reasons: the first pass allows them, the second blocks them.
	mode := 0
	if blocked {
		mode = 1
	}
	os.MkdirAll(filepath.Join(profile, "Default"), 0o700)
	prefs, _ := json.Marshal(map[string]any{"profile": map[string]any{"cookie_controls_mode": mode}})
	os.WriteFile(filepath.Join(profile, "Default", "Preferences"), prefs, 0o600)

	var group processGroup
	defer group.kill(profile)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.UserDataDir(profile),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		// The page has no address (it is answered through the protocol),
		// so Chrome treats it as public and blocks its fetches to
		// loopback; the defaults' own disable-features are kept.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,LocalNetworkAccessChecks"),
		// Chrome in a process group of its own, killed whole at the end
		// of the pass: on exit, Ctrl-C and timeout alike.
		chromedp.ModifyCmdFunc(group.setup),
	)
	if o.HostResolverRules != "" {
		opts = append(opts, chromedp.Flag("host-resolver-rules", o.HostResolverRules))
	}
	if o.IgnoreCertErrors {
		opts = append(opts, chromedp.IgnoreCertErrors)
	}
	if o.Social != nil && o.Social.Headed {
		opts = append(opts, chromedp.Flag("headless", false))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	cctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	limit := 3 * o.Timeout
	if o.Social != nil && o.Social.Headed {
		limit += o.Social.Wait
	}
	tctx, cancelT := context.WithTimeout(cctx, limit)
	defer cancelT()

	rec := newRecorder(o)
	pageURL := strings.TrimRight(o.Origin, "/") + pagePath
	if o.FrontendURL != "" {
		pageURL = o.FrontendURL
	}
	var out pageOut
	err = chromedp.Listen(tctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			// The front end's page, answered here: no front end needs
			// to run for the page to be on its origin.
			go chromedp.Call(tctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID: e.RequestID, ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html"}},
				Body:            []byte("<!doctype html><title>authtui</title>"),
			})
			return
		}
		rec.event(ev)
	})
	if err == nil {
		_, err = chromedp.Call(tctx, network.Enable, network.EnableParams{})
	}
	if err == nil && o.FrontendURL == "" {
		_, err = chromedp.Call(tctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pageURL + "*"}}})
	}
	if err == nil {
		err = chromedp.Do(tctx, chromedp.Navigate(pageURL))
	}
	switch {
	case err != nil:
	case o.Social != nil:
		out, err = socialFlow(tctx, o, &p)
	default:
		out, err = chromedp.Run(tctx, chromedp.Evaluate[pageOut](pageScript(o), chromedp.EvalAwaitPromise))
	}
	if err == nil {
		var jar network.GetCookiesResult
		jar, err = chromedp.Call(tctx, network.GetCookies, network.GetCookiesParams{URLs: []string{strings.TrimRight(o.BaseURL, "/") + "/"}})
		for _, c := range jar.Cookies {
			jc := JarCookie{Name: textsafe.Truncate(c.Name, 80), Domain: textsafe.Truncate(c.Domain, 80), SameSite: string(c.SameSite), Secure: c.Secure}
			if c.PartitionKey != nil {
				jc.Partition = textsafe.Truncate(c.PartitionKey.TopLevelSite, 80)
			}
			p.Jar = append(p.Jar, jc)
		}
	}
	// Events arrive asynchronously; the last ExtraInfo may trail the
	// script by a moment.
	time.Sleep(50 * time.Millisecond)
	p.Requests = rec.requests()
	p.Session = out.Session
	if err != nil {
		p.Error = textsafe.Safe(err.Error())
	} else if out.Error != "" {
		p.PageError = textsafe.Safe(out.Error)
	}
	p.Duration = time.Since(began)
	return p
}

// jsString is s as a JavaScript string literal: strings go into the
// page's scripts JSON-encoded, never spliced.
func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// endpoints is where BetterAuth's endpoints are: base URL and basePath.
func (o Options) endpoints() string { return strings.TrimRight(o.BaseURL, "/") + o.BasePath }

// sessionOnlyScript asks get-session (and the API) from a page that is
// already signed in (the social flow's landing page).
func sessionOnlyScript(o Options) string {
	return `(async () => {
  const out = {signIn: 0, getSession: 0, session: false, api: 0, error: ""};
` + sessionScript(o) + `
  return out;
})()`
}

// pageOut is what the page's script reports.
type pageOut struct {
	SignIn     int    `json:"signIn"`
	GetSession int    `json:"getSession"`
	Session    bool   `json:"session"`
	API        int    `json:"api"`
	Error      string `json:"error"`
}

// pageScript signs in and calls get-session (and the API) with
// credentials, as BetterAuth's client does. Strings are JSON-encoded into
// the source: the password reaches the page, never an output.
func pageScript(o Options) string {
	q, base := jsString, o.endpoints()
	return `(async () => {
  const out = {signIn: 0, getSession: 0, session: false, api: 0, error: ""};
  try {
    const r = await fetch(` + q(base+"/sign-in/email") + `, {method: "POST", credentials: "include",
      headers: {"content-type": "application/json"}, body: JSON.stringify({email: ` + q(o.Email) + `, password: ` + q(o.Password) + `})});
    out.signIn = r.status;
  } catch (e) { out.error = "sign-in: " + e.message; return out; }
` + sessionScript(o) + `
  return out;
})()`
}

// sessionScript calls get-session (and the API) with credentials from
// the page, filling out.
func sessionScript(o Options) string {
	q, base := jsString, o.endpoints()
	return `  try {
    const g = await fetch(` + q(base+"/get-session") + `, {credentials: "include"});
    out.getSession = g.status;
    const b = await g.text();
    out.session = b.includes('"session"') && !b.startsWith("null");
  } catch (e) { out.error = "get-session: " + e.message; return out; }
  if (` + q(o.APIURL) + ` !== "") {
    try { const a = await fetch(` + q(o.APIURL) + `, {credentials: "include"}); out.api = a.status; }
    catch (e) { out.error = "api: " + e.message; }
  }`
}

// recorder gathers the protocol's events per request, and per hop of a
// redirect chain: a navigation keeps one request id through its
// redirects, and each hop has its own requestWillBeSent and ExtraInfo
// events, which need not arrive in order; the nth of each kind belongs to
// the nth hop.
type recorder struct {
	mu    sync.Mutex
	o     Options
	order []*Request
	ids   map[network.RequestID]*chain
}

type chain struct {
	hops              []*Request
	sent, reqX, respX int // requestWillBeSent, and each ExtraInfo kind, seen so far
}

func newRecorder(o Options) *recorder {
	return &recorder{o: o, ids: map[network.RequestID]*chain{}}
}

// hop returns the chain's nth hop, making it (and any before it) when an
// ExtraInfo event comes before its requestWillBeSent.
func (r *recorder) hop(c *chain, n int) *Request {
	for len(c.hops) <= n {
		q := &Request{}
		c.hops = append(c.hops, q)
		r.order = append(r.order, q)
	}
	return c.hops[n]
}

func (r *recorder) chainOf(id network.RequestID) *chain {
	c, ok := r.ids[id]
	if !ok {
		c = &chain{}
		r.ids[id] = c
	}
	return c
}

func (r *recorder) event(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if e.Request == nil {
			return
		}
		doc := e.Type == network.ResourceTypeDocument
		if doc && r.o.Social == nil {
			return // the page itself: only the social flow navigates
		}
		c := r.chainOf(e.RequestID)
		if e.RedirectResponse != nil && c.sent > 0 {
			r.hop(c, c.sent-1).Status = int(e.RedirectResponse.Status)
		}
		q := r.hop(c, c.sent)
		c.sent++
		q.URL, q.raw = textsafe.URL(e.Request.URL), e.Request.URL
		q.Step = r.step(e.Request.URL, doc)
		if e.Request.Method == "OPTIONS" && q.Step != "other" {
			q.Step = "preflight " + q.Step // CORS asks first; a row of its own
		}
	case *network.EventResponseReceived:
		if e.Response != nil {
			c := r.chainOf(e.RequestID)
			r.hop(c, max(c.sent-1, 0)).Status = int(e.Response.Status)
		}
	case *network.EventResponseReceivedExtraInfo:
		c := r.chainOf(e.RequestID)
		q := r.hop(c, c.respX)
		c.respX++
		for _, b := range e.BlockedCookies {
			name := cookieName(b.CookieLine)
			if b.Cookie != nil {
				name = b.Cookie.Name
			}
			var reasons []string
			for _, x := range b.BlockedReasons {
				reasons = append(reasons, string(x))
			}
			q.Refused = append(q.Refused, Cookie{Name: textsafe.Truncate(name, 80), Reasons: reasons})
		}
		for k, v := range e.Headers {
			if strings.EqualFold(k, "set-cookie") {
				for _, line := range strings.Split(fmt.Sprint(v), "\n") {
					n := cookieName(line)
					if n == "" {
						continue
					}
					if len(q.lines) < 32 {
						q.lines = append(q.lines, line)
					}
					if !refused(q.Refused, n) {
						q.Stored = append(q.Stored, textsafe.Truncate(n, 80))
					}
				}
			}
		}
	case *network.EventRequestWillBeSentExtraInfo:
		c := r.chainOf(e.RequestID)
		q := r.hop(c, c.reqX)
		c.reqX++
		for _, ac := range e.AssociatedCookies {
			if ac.Cookie == nil {
				continue
			}
			if len(ac.BlockedReasons) == 0 {
				q.Sent = append(q.Sent, textsafe.Truncate(ac.Cookie.Name, 80))
				continue
			}
			var reasons []string
			for _, x := range ac.BlockedReasons {
				reasons = append(reasons, string(x))
			}
			q.Withheld = append(q.Withheld, Cookie{Name: textsafe.Truncate(ac.Cookie.Name, 80), Reasons: reasons})
		}
	case *network.EventLoadingFailed:
		c := r.chainOf(e.RequestID)
		q := r.hop(c, max(c.sent-1, 0))
		q.Failed = textsafe.Truncate(e.ErrorText, 120)
		if e.CorsErrorStatus != nil {
			q.CORSError = string(e.CorsErrorStatus.CorsError)
		}
	}
}

func refused(cs []Cookie, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

func cookieName(line string) string {
	n, _, _ := strings.Cut(strings.TrimSpace(line), "=")
	return strings.TrimSpace(n)
}

// step names a request by what the page asked (doc: a navigation of
// the social flow).
func (r *recorder) step(raw string, doc bool) string {
	base := strings.TrimRight(r.o.BaseURL, "/")
	switch {
	case strings.Contains(raw, "/sign-in/"):
		return "sign-in"
	case strings.Contains(raw, "/get-session"):
		return "get-session"
	case r.o.APIURL != "" && strings.HasPrefix(raw, r.o.APIURL):
		return "api"
	case !doc:
		return "other"
	case r.o.Social != nil && strings.HasPrefix(raw, r.o.Social.CallbackURL):
		return "landing"
	case strings.HasPrefix(raw, strings.TrimRight(r.o.Origin, "/")+pagePath), r.o.FrontendURL != "" && strings.HasPrefix(raw, r.o.FrontendURL):
		return "other" // the page itself
	case strings.HasPrefix(raw, base) && strings.Contains(raw, "/callback/"):
		return "callback"
	case strings.HasPrefix(raw, base):
		return "auth service page" // BetterAuth's error page, or a redirect of its own
	case strings.HasPrefix(raw, strings.TrimRight(r.o.Origin, "/")):
		return "front end page"
	}
	return "provider"
}

// requests are the page's requests and hops in order.
func (r *recorder) requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Request
	for _, q := range r.order {
		if q.URL == "" || q.Step == "other" {
			continue
		}
		q.Predicted = predict(q.lines, q.raw, r.o.Origin)
		q.lines, q.raw = nil, ""
		out = append(out, *q)
	}
	return out
}

// predict runs authtui's own Set-Cookie analysis on the lines Chrome
// judged, against the request that set them and the page's origin.
func predict(lines []string, reqURL, origin string) []Prediction {
	var out []Prediction
	site := probe.NewSiteContext(reqURL, origin)
	for _, line := range lines {
		for _, it := range probe.ParseInput("Set-Cookie: " + line).Items {
			if it.Kind != probe.ItemSetCookie {
				continue
			}
			_, fs := probe.AnalyzeSetCookie(it, "", site, time.Now())
			pr := Prediction{Name: textsafe.Truncate(it.Name, 80)}
			for _, f := range fs {
				switch {
				case f.ID == finding.SetCookieThirdParty:
					pr.ThirdParty = true
				case slices.Contains(probe.LossFindings, f.ID):
					pr.Lost = append(pr.Lost, f.ID)
				}
			}
			out = append(out, pr)
		}
	}
	return out
}
