package login

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Social configures a social sign-in (login --social) in place of email
// and password: BetterAuth's POST /sign-in/social, the provider's
// authorize hop and BetterAuth's callback, followed as a browser follows
// them, with a cookie jar and the front end's Origin.
type Social struct {
	// Provider is the provider id ("google", a genericOAuth providerId).
	Provider string `json:"provider"`
	// Auto follows the provider's redirects too (--provider-auto): for a
	// provider that signs in without a person, as test providers do.
	// Without it the flow stops after the first leg.
	Auto bool `json:"auto"`
	// CallbackURL is where the front end wants to land after the sign-in;
	// default the Origin + "/".
	CallbackURL string `json:"callback_url,omitempty"`
	// BaseURLs are the base URLs every source and declared environment
	// names, to tell which one the redirect_uri is built from.
	BaseURLs []SourcedURL `json:"-"`
}

// SourcedURL is a base URL and where it was read.
type SourcedURL struct {
	Label string
	URL   string
	// Env is the project environment the URL belongs to when it is not
	// the one the run checks ("BETTER_AUTH_URL of auth (preview)" while
	// checking production); "" for the run's own sources and flags.
	Env string
}

// SourceBaseURLs lists the base URL each loaded source sets (the first of
// probe.BaseURLVars), plus extra ones (the resolved base URL, another
// environment's), without repeats: an extra that only says where a
// source's URL was read ("BETTER_AUTH_URL in auth.env" for auth.env's
// own URL) adds nothing.
func SourceBaseURLs(sources []probe.Source, extra ...SourcedURL) []SourcedURL {
	var out []SourcedURL
	add := func(s SourcedURL) {
		if strings.TrimSpace(s.URL) == "" {
			return
		}
		for _, o := range out {
			same := normURL(o.URL) == normURL(s.URL) && o.Env == s.Env
			if same && (o.Label == s.Label || strings.HasSuffix(s.Label, " in "+o.Label)) {
				return
			}
		}
		out = append(out, s)
	}
	for _, src := range sources {
		if !src.Loaded() {
			continue
		}
		if _, v, ok := src.FirstSet(probe.BaseURLVars); ok {
			add(SourcedURL{Label: src.Label, URL: v})
		}
	}
	for _, e := range extra {
		add(e)
	}
	return out
}

// Step names of the social sign-in, stable for JSON consumers.
const (
	StepSocialStart = "social-start"
	StepRedirectURI = "redirect-uri"
	StepState       = "state"
	StepAuthorize   = "authorize"
	StepCallback    = "callback"
)

// maxProviderHops bounds the redirects followed at the provider.
const maxProviderHops = 10

// errorPath is the path of the errorCallbackURL the flow sends: BetterAuth
// redirects there only after it found the state's verification row (its
// own error page otherwise), which tells a missing row from a refused
// state cookie.
const errorPath = "/authtui-oauth-error"

// socialRun is the state of a social sign-in between its steps.
type socialRun struct {
	jar    *cookiejar.Jar
	client *http.Client

	startURL    *url.URL // where sign-in/social was posted
	callbackURL string   // the front end's landing URL
	errorURL    string   // errorCallbackURL

	authURL      *url.URL
	state        string
	redirectURI  *url.URL
	redirectFrom string // which base URL the redirect_uri is built from, as a sentence
	// redirectElsewhere: built from another environment's base URL.
	redirectElsewhere bool

	stateCookie  *http.Cookie // as Set-Cookie set it
	stateSigners []string     // labels of the sources whose secret signed it
	stateSigned  bool         // a <state>.<signature> cookie (database strategy)
	lossWhy      string       // why the state cookie cannot come back, from its attributes
	notStored    bool         // a browser would not have stored it at all (a cross-site fetch's answer)
	lossFix      string       // what to change for it to come back

	rowChecked, rowFound bool
	rowTable             string

	callback *url.URL // the provider's redirect back to BetterAuth
	denied   *finding.Finding
}

// socialSteps are the steps of a social sign-in up to the session; the
// steps after it are the email/password flow's.
func (r *run) socialSteps() []func() bool {
	return []func() bool{r.stepSocialStart, r.stepRedirectURI, r.stepState, r.stepAuthorize, r.stepCallback}
}

// redactQuery shows a URL with the values of the query parameters that
// must never be shown whole (code, state, nonce, PKCE, tokens) cut to a
// short prefix, and the other parameters as they are (a redirect_uri
// without its own query).
func redactQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return textsafe.URL(raw)
	}
	q := u.Query()
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	out := textsafe.URL(u.String())
	if len(q) == 0 {
		return out
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		v := q.Get(k)
		// A key is read by its last part: a URL pasted into a parameter
		// makes keys like "…/callback?code".
		name := k[strings.LastIndexAny(k, "?&/")+1:]
		switch name {
		case "code", "state", "nonce", "code_challenge", "code_verifier", "id_token", "access_token", "refresh_token", "client_secret", "token", "device_id", "user":
			v = cut(v)
		case "redirect_uri", "callbackURL", "post_logout_redirect_uri":
			v = textsafe.URL(v)
		case "client_id", "response_type", "response_mode", "scope", "code_challenge_method", "prompt", "error", "error_description", "iss":
			// Public, and what a misconfiguration is read from.
			v = textsafe.Truncate(v, 80)
		default:
			if opaque(v) {
				v = cut(v) // an unknown parameter that looks like a token
			} else {
				v = textsafe.Truncate(v, 80)
			}
		}
		parts = append(parts, textsafe.Truncate(k, 40)+"="+v)
	}
	return out + "?" + strings.Join(parts, "&")
}

// followed is resp without its Location: a redirect the flow follows
// itself (the detail says where it led), not one a renderer should show
// as not followed.
func followed(resp *response) *response {
	c := safeResp(resp)
	c.header.Del("Location")
	return c
}

// safeResp is resp with its Location shown through redactQuery, for the
// event's Redirect: a code or state never reaches an event whole.
func safeResp(resp *response) *response {
	if resp == nil {
		return nil
	}
	c := *resp
	c.header = resp.header.Clone()
	if loc := c.header.Get("Location"); loc != "" {
		c.header.Set("Location", redactQuery(loc))
	}
	return &c
}

// cut shows the first 4 characters of a state, code or nonce.
// opaque says whether v looks like a code or token: 16 or more
// characters of the base64url alphabet (hex included).
func opaque(v string) bool {
	if len(v) < 16 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}

func cut(v string) string {
	if len(v) <= 4 {
		return "…"
	}
	return v[:4] + "…"
}

func (r *run) stepSocialStart() bool {
	const title = "Start the social sign-in"
	t := r.start(StepSocialStart, title)
	jar, _ := cookiejar.New(nil)
	c := *r.client
	c.Jar = jar
	s := &socialRun{jar: jar, client: &c, startURL: r.base}
	r.social = s
	s.callbackURL = r.opts.Social.CallbackURL
	if s.callbackURL == "" {
		s.callbackURL = strings.TrimRight(r.opts.Origin, "/") + "/"
	}
	// The errorCallbackURL shares the callbackURL's origin (a relative
	// callbackURL: the front end's), so BetterAuth's origin check treats
	// both alike.
	s.errorURL = strings.TrimRight(r.opts.Origin, "/") + errorPath
	if cu, err := url.Parse(s.callbackURL); err == nil && cu.Host != "" {
		s.errorURL = cu.Scheme + "://" + cu.Host + errorPath
	}
	body := map[string]any{"provider": r.opts.Social.Provider, "callbackURL": s.callbackURL}
	if s.errorURL != "" {
		body["errorCallbackURL"] = s.errorURL
	}
	endpoint := r.url("/sign-in/social")
	resp, err := do(r.ctx, s.client, r.opts.Timeout, http.MethodPost, endpoint, http.Header{"Origin": {r.opts.Origin}}, body)
	if err != nil {
		r.end(StepSocialStart, title, t, StatusFail, nil, err.Error(), r.netFinding(StepSocialStart, err))
		return false
	}
	seen := Describe(resp.status, resp.header, resp.body)
	if resp.status != http.StatusOK {
		f := r.socialStartFinding(resp, seen, endpoint)
		r.end(StepSocialStart, title, t, StatusFail, safeResp(resp), f.Message, f)
		return false
	}
	var out struct {
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}
	_ = json.Unmarshal(resp.body, &out)
	au, err := url.Parse(out.URL)
	if out.URL == "" || err != nil || au.Host == "" {
		f := finding.New(finding.LoginUnexpectedStatus, StepSocialStart,
			"POST %s answered %s without an authorization URL: a proxy or another app answered, not BetterAuth's social sign-in (it answers 200 {\"url\":…,\"redirect\":true}).", endpoint, seen)
		r.end(StepSocialStart, title, t, StatusFail, safeResp(resp), f.Message, f)
		return false
	}
	s.authURL = au
	s.state = au.Query().Get("state")
	if ru, err := url.Parse(au.Query().Get("redirect_uri")); err == nil && ru.Host != "" {
		s.redirectURI = ru
	}
	for _, line := range resp.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil || ck.MaxAge < 0 {
			continue
		}
		if strings.HasSuffix(ck.Name, ".state") || strings.HasSuffix(ck.Name, ".oauth_state") || ck.Name == "state" || ck.Name == "oauth_state" {
			s.stateCookie = ck
			break
		}
	}
	detail := "authorization URL " + authSummary(au) + "; "
	if s.stateCookie == nil {
		detail += "no state cookie"
	} else {
		detail += "state cookie " + s.stateCookie.Name
		if sv := probe.ParseSigned(s.stateCookie.Value); sv.Problem == "" {
			s.stateSigned = true
			for _, c := range probe.VerifySigned(sv, r.opts.Candidates) {
				if !slices.Contains(s.stateSigners, c.Label) {
					s.stateSigners = append(s.stateSigners, c.Label)
				}
			}
			switch {
			case len(s.stateSigners) > 0:
				detail += " signed with the secret of " + strings.Join(s.stateSigners, ", ")
			case len(r.opts.Candidates) > 0:
				detail += " signed with a secret none of the sources holds"
			}
		}
	}
	r.end(StepSocialStart, title, t, StatusOK, safeResp(resp), detail)
	return true
}

// authSummary shows an authorization URL without its query, and which
// of the parameters that matter here it carries (their values are the
// provider's to check, and state and nonce are not to be shown).
func authSummary(au *url.URL) string {
	q := au.Query()
	var has []string
	for _, k := range []string{"redirect_uri", "state", "nonce"} {
		if q.Get(k) != "" {
			has = append(has, k)
		}
	}
	if m := q.Get("code_challenge_method"); m != "" {
		has = append(has, "PKCE "+textsafe.Truncate(m, 10))
	}
	if m := q.Get("response_mode"); m != "" {
		has = append(has, "response_mode="+textsafe.Truncate(m, 20))
	}
	out := textsafe.URL(au.Scheme + "://" + au.Host + au.Path)
	if len(has) > 0 {
		out += " (" + strings.Join(has, ", ") + ")"
	}
	return out
}

// socialStartFinding explains a sign-in/social that did not answer 200.
func (r *run) socialStartFinding(resp *response, seen, endpoint string) finding.Finding {
	code := errorCode(resp.body)
	st := resp.status
	switch {
	case st == http.StatusNotFound && code == "PROVIDER_NOT_FOUND":
		return finding.New(finding.OAuthProviderNotFound, StepSocialStart,
			"POST %s answered 404 PROVIDER_NOT_FOUND: the auth service has no provider %q. Check the id (--social); a genericOAuth provider whose discovery failed when the server started is skipped until its discovery URL answers (its log says \"Discovery fetch failed\").",
			endpoint, textsafe.Truncate(r.opts.Social.Provider, 40))
	case st == http.StatusForbidden && code != "":
		return finding.New(finding.LoginOriginRejected, StepSocialStart,
			"social sign-in from Origin %s with callbackURL %s answered 403 %s: the auth service does not trust that origin or callback URL. Add it to trustedOrigins (or BETTER_AUTH_TRUSTED_ORIGINS, comma separated, no spaces).",
			r.opts.Origin, textsafe.URL(r.social.callbackURL), code)
	case st >= 500:
		return finding.New(finding.LoginServerError, StepSocialStart,
			"POST %s answered %s: the auth service failed while starting the social sign-in (often the database: it stores the state in the verification table). Check its logs.", endpoint, seen)
	case st == http.StatusNotFound:
		return finding.New(finding.LoginUnexpectedStatus, StepSocialStart,
			"POST %s answered %s: nothing serves social sign-in there. The auth service's basePath is not %s (where authtui looks), or a proxy forwards only some of it.", endpoint, seen, r.opts.BasePath)
	}
	return finding.New(finding.LoginUnexpectedStatus, StepSocialStart, "POST %s answered %s, not 200 with an authorization URL.", endpoint, seen)
}

// cookieAttrs lists a Set-Cookie's attributes as they matter here.
func cookieAttrs(c *http.Cookie) string {
	var a []string
	if c.Domain != "" {
		a = append(a, "Domain="+c.Domain)
	} else {
		a = append(a, "host-only")
	}
	a = append(a, "Path="+orDefault(c.Path, "/"))
	if c.MaxAge > 0 {
		a = append(a, fmt.Sprintf("Max-Age=%d", c.MaxAge))
	}
	if c.HttpOnly {
		a = append(a, "HttpOnly")
	}
	if c.Secure {
		a = append(a, "Secure")
	}
	a = append(a, "SameSite="+sameSiteOf(c))
	return strings.Join(a, "; ")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func sameSiteOf(c *http.Cookie) string {
	switch c.SameSite {
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	case http.SameSiteLaxMode:
		return "Lax"
	}
	return "unset (Lax)"
}

// normURL folds a URL for comparison: lower-case scheme and host, no
// trailing slash, no query.
func normURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(strings.TrimSpace(raw), "/")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.Path, "/")
}

func (r *run) stepRedirectURI() bool {
	const title = "Check the redirect_uri"
	t := r.start(StepRedirectURI, title)
	s := r.social
	if s.redirectURI == nil {
		f := finding.New(finding.OAuthRedirectURIUnexpected, StepRedirectURI,
			"the authorization URL has no redirect_uri: the provider then uses the one registered for the client, which may not be BetterAuth's callback.")
		r.end(StepRedirectURI, title, t, "", nil, f.Message, f)
		return true
	}
	got := normURL(s.redirectURI.String())
	path := r.opts.BasePath + "/callback/" + r.opts.Social.Provider
	bases := r.opts.Social.BaseURLs
	covered := false
	for _, b := range bases {
		covered = covered || (b.Env == "" && normURL(b.URL) == normURL(r.opts.BaseURL))
	}
	if !covered {
		bases = append([]SourcedURL{{Label: "the base URL", URL: r.opts.BaseURL}}, bases...)
	}
	// One entry per base URL and environment, with every label that
	// names it.
	type named struct {
		url, env string
		labels   []string
	}
	var groups []named
	for _, b := range bases {
		u := normURL(b.URL)
		i := slices.IndexFunc(groups, func(g named) bool { return g.url == u && g.env == b.Env })
		if i < 0 {
			groups = append(groups, named{url: u, env: b.Env})
			i = len(groups) - 1
		}
		if !slices.Contains(groups[i].labels, b.Label) {
			groups[i].labels = append(groups[i].labels, b.Label)
		}
	}
	var here, away, differ []string
	for _, g := range groups {
		switch {
		case g.url+path == got && g.env == "":
			here = append(here, g.labels...)
		case g.url+path == got:
			away = append(away, g.labels...)
		case g.env == "":
			differ = append(differ, textsafe.URL(g.url)+" from "+joinAnd(g.labels))
		}
	}
	shown := textsafe.URL(s.redirectURI.String())
	switch {
	case len(here) > 0:
		s.redirectFrom = "It is the callback of the base URL from " + joinAnd(here) + "."
		detail := fmt.Sprintf("redirect_uri %s is the callback of the base URL from %s", shown, joinAnd(here))
		if start := normURL(r.opts.BaseURL); start+path != got {
			// The provider sends the browser to another origin than the
			// one the sign-in starts on: the state step says whether the
			// state cookie goes there too.
			detail += ", not of the one the sign-in starts on (" + textsafe.URL(start) + ")"
		}
		r.end(StepRedirectURI, title, t, StatusOK, nil, detail+"; the provider must have exactly this URI registered")
	case len(away) > 0:
		s.redirectFrom = "It is the callback of another environment's base URL (" + joinAnd(away) + "): the auth service runs with that environment's BETTER_AUTH_URL."
		s.redirectElsewhere = true
		f := finding.New(finding.OAuthRedirectURIUnexpected, StepRedirectURI,
			"redirect_uri %s is the callback of another environment's base URL (%s), not of this run's (%s): the auth service runs with that environment's BETTER_AUTH_URL (a variable set for every environment, or a deployment given the other environment's settings). A provider that has only this environment's callback registered answers redirect_uri_mismatch.",
			shown, joinAnd(away), strings.Join(differ, "; "))
		r.end(StepRedirectURI, title, t, "", nil, f.Message, f)
	default:
		why := "the auth service runs with another BETTER_AUTH_URL than the sources say, or its provider config sets redirectURI"
		if !strings.HasSuffix(strings.TrimRight(s.redirectURI.Path, "/"), path) {
			why = "it is not BetterAuth's callback path " + path + ": the provider config sets redirectURI (to a proxy or the front end)"
		}
		s.redirectFrom = "It is the callback of none of the base URLs the sources name."
		f := finding.New(finding.OAuthRedirectURIUnexpected, StepRedirectURI,
			"redirect_uri %s is the callback of none of the base URLs the sources name (%s): %s. The provider must have exactly this URI registered.", shown, strings.Join(differ, "; "), why)
		r.end(StepRedirectURI, title, t, "", nil, f.Message, f)
	}
	return true
}

// joinAnd lists labels as "a, b and c".
func joinAnd(labels []string) string {
	if len(labels) < 2 {
		return strings.Join(labels, "")
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " and " + labels[len(labels)-1]
}

// stateLoss says why a browser would not send the state cookie ck, set
// by host setter while the sign-in started, with the provider's redirect
// to the callback cb; nil when it would.
func stateLoss(ck *http.Cookie, setter string, provider, cb, origin, base *url.URL) []string {
	var lost []string
	// The client starts the sign-in with fetch from the front end's page:
	// on a cross-site fetch's answer, Chrome stores no Lax or Strict
	// cookie (SameSiteLax: authtui's browser probe saw it refuse this
	// very cookie).
	if origin != nil && base != nil && ck.SameSite != http.SameSiteNoneMode {
		if cross, why := probe.CrossSite(origin, base); cross {
			lost = append(lost, fmt.Sprintf("it is SameSite=%s and is set on the answer to a fetch from the front end's page on %s, another site than %s (%s): browsers do not store it", sameSiteOf(ck), origin.Host, base.Host, why))
		}
	}
	if !domainMatch(setter, ck.Domain, cb.Hostname()) {
		scope := setter + " only (no Domain attribute)"
		if ck.Domain != "" {
			scope = "Domain=" + ck.Domain
		}
		lost = append(lost, fmt.Sprintf("the callback %s lands on host %s, but the cookie was set by %s for %s, so the browser does not send it there", textsafe.URL(cb.Scheme+"://"+cb.Host+cb.Path), cb.Hostname(), setter, scope))
	}
	if ck.Secure && cb.Scheme == "http" && !probe.IsLoopbackHost(cb.Hostname()) {
		lost = append(lost, "the cookie is Secure and the callback is plain http, where browsers do not send Secure cookies")
	}
	if ck.SameSite == http.SameSiteStrictMode && provider != nil {
		if cross, why := probe.CrossSite(provider, cb); cross {
			lost = append(lost, "the cookie is SameSite=Strict, and the provider's redirect back is a cross-site navigation ("+why+"), which carries no Strict cookie")
		}
	}
	if ck.SameSite == http.SameSiteNoneMode && !ck.Secure {
		lost = append(lost, "the cookie is SameSite=None without Secure, which browsers refuse to store")
	}
	if p := orDefault(ck.Path, "/"); !strings.HasPrefix(cb.Path, strings.TrimRight(p, "/")) {
		lost = append(lost, fmt.Sprintf("the cookie's Path=%s does not cover the callback path %s", p, cb.Path))
	}
	return lost
}

// withheld reports whether a browser would hold back the state cookie
// on the provider's redirect to the callback although it has it stored
// for that URL: SameSite=Strict on a cross-site navigation; a
// SameSite=None cookie without Secure is never stored at all. Go's cookie
// jar knows neither rule, so the flow applies them itself.
func (s *socialRun) withheld(cb *url.URL) bool {
	ck := s.stateCookie
	if ck == nil {
		return false
	}
	if s.notStored {
		return true // as a browser: it never kept the cookie
	}
	if ck.SameSite == http.SameSiteNoneMode && !ck.Secure {
		return true
	}
	cross, _ := probe.CrossSite(s.authURL, cb)
	return ck.SameSite == http.SameSiteStrictMode && cross
}

// domainMatch reports whether a cookie set by setter with Domain domain
// (empty: host-only) is sent to host.
func domainMatch(setter, domain, host string) bool {
	host = strings.ToLower(host)
	if domain == "" {
		return strings.EqualFold(setter, host)
	}
	d := strings.ToLower(strings.TrimPrefix(domain, "."))
	return host == d || strings.HasSuffix(host, "."+d)
}

func (r *run) stepState() bool {
	const title = "Check the state cookie and its record"
	t := r.start(StepState, title)
	s := r.social
	if s.stateCookie == nil {
		f := finding.New(finding.OAuthStateCookieLost, StepState,
			"social sign-in set no state cookie (no <prefix>.state or <prefix>.oauth_state Set-Cookie): the callback will answer state_mismatch. BetterAuth always sets one here, so a proxy or CDN in front of the auth service most likely strips Set-Cookie from its answers.")
		r.end(StepState, title, t, StatusFail, nil, f.Message, f)
		return true
	}
	ck := s.stateCookie
	cb := s.redirectURI
	if cb == nil {
		cb = r.base
	}
	setter := r.base.Hostname()
	var origin *url.URL
	if r.opts.Origin != "" {
		origin, _ = url.Parse(r.opts.Origin)
	}
	lost := stateLoss(ck, setter, s.authURL, cb, origin, r.base)
	if origin != nil && ck.SameSite != http.SameSiteNoneMode {
		s.notStored, _ = probe.CrossSite(origin, r.base)
	}
	var fs finding.List
	parts := []string{ck.Name + " (" + cookieAttrs(ck) + ") reaches the callback on " + cb.Host}
	if len(lost) > 0 {
		s.lossWhy = strings.Join(lost, "; ")
		s.lossFix = "Change the state cookie's attributes (advanced.defaultCookieAttributes in the auth config) so that the browser sends it with the callback."
		if !domainMatch(setter, ck.Domain, cb.Hostname()) {
			s.lossFix = "Make BETTER_AUTH_URL the URL the browser starts the sign-in on, so that the provider sends the browser back to the host that set the cookie."
		}
		fs.Add(finding.OAuthStateCookieLost, StepState,
			"the state cookie %s cannot come back with the callback: %s. BetterAuth's callback then answers state_mismatch. %s",
			ck.Name, s.lossWhy, s.lossFix)
		parts[0] = ck.Name + " (" + cookieAttrs(ck) + ") does not reach the callback"
	} else if cb.Host != r.base.Host {
		parts[0] += " (same host: ports do not scope cookies)"
	}
	status := ""
	if s.stateSigned {
		s.rowChecked, s.rowFound, s.rowTable = r.stateRow()
		switch {
		case !s.rowChecked:
			parts = append(parts, "verification row not checked: "+r.dbMissingForState())
		case s.rowFound:
			parts = append(parts, "verification row auth-state:"+cut(s.state)+" in "+s.rowTable)
		default:
			parts = append(parts, "no verification row auth-state:"+cut(s.state)+" in "+s.rowTable+": the auth service writes to another database than the one authtui reads (or keeps verifications in secondaryStorage)")
			status = StatusWarn
		}
	} else {
		parts = append(parts, "cookie state strategy (the state is encrypted in the cookie; no verification row)")
	}
	if s.authURL.Query().Get("response_mode") == "form_post" && ck.SameSite != http.SameSiteStrictMode {
		// callback.mjs answers the provider's POST with a GET redirect to
		// itself, a top-level navigation that carries Lax cookies.
		parts = append(parts, "response_mode=form_post: BetterAuth turns the provider's cross-site POST into a GET redirect, which carries the cookie")
	}
	if len(fs) > 0 {
		status = ""
	}
	r.end(StepState, title, t, status, nil, strings.Join(parts, "; "), fs...)
	return true
}

// stateRow looks the state's verification row up, read-only.
func (r *run) stateRow() (checked, found bool, table string) {
	r.awaitDB()
	if r.opts.DB == nil {
		return false, false, ""
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.Timeout)
	defer cancel()
	v, err := r.opts.DB.LookupVerification(ctx, r.opts.Schema, "auth-state:"+r.social.state)
	if err != nil {
		r.social.rowTable = textsafe.Safe(err.Error())
		return false, false, ""
	}
	return true, v.Found, v.Table
}

func (r *run) dbMissingForState() string {
	if r.social.rowTable != "" {
		return r.social.rowTable
	}
	if r.noDB != "" {
		return r.noDB
	}
	return "no database configured (--database-url)"
}

func (r *run) stepAuthorize() bool {
	const title = "Authorize at the provider"
	t := r.start(StepAuthorize, title)
	s := r.social
	if !r.opts.Social.Auto {
		r.end(StepAuthorize, title, t, StatusSkip, nil,
			"not followed: a real provider needs a person. Finish a sign-in from the front end in a browser (the authorization URL carries the state, so authtui does not print it whole), or pass --provider-auto for a test provider that signs in by itself: authtui then follows the provider, the callback and the session")
		return false
	}
	next := s.authURL.String()
	var hops []string
	for i := 0; i < maxProviderHops; i++ {
		u, _ := url.Parse(next)
		resp, err := do(r.ctx, s.client, r.opts.Timeout, http.MethodGet, next, nil, nil)
		if err != nil {
			f := finding.New(finding.OAuthProviderUnreachable, StepAuthorize,
				"the provider's authorization endpoint %s: %s. BetterAuth handed out the authorization URL, but the provider does not answer there now: it is down, or it moved since the auth service read its discovery document (a genericOAuth provider's, at startup).",
				textsafe.URL(u.Scheme+"://"+u.Host+u.Path), err)
			if ne, ok := err.(*netError); ok && ne.class == "cancelled" {
				f = r.netFinding(StepAuthorize, err)
			}
			r.end(StepAuthorize, title, t, StatusFail, nil, f.Message, f)
			return false
		}
		hops = append(hops, fmt.Sprintf("%s %d", textsafe.URL(u.Host+u.Path), resp.status))
		if resp.status >= 300 && resp.status < 400 {
			loc, err := u.Parse(resp.header.Get("Location"))
			if err != nil || loc.Host == "" {
				break
			}
			if s.redirectURI != nil && normURL(loc.Scheme+"://"+loc.Host+loc.Path) == normURL(s.redirectURI.String()) {
				s.callback = loc
				detail := "the provider redirected back to " + redactQuery(loc.String())
				if len(hops) > 1 {
					detail += " (hops: " + strings.Join(hops, " → ") + ")"
				}
				if e := loc.Query().Get("error"); e != "" {
					f := finding.New(finding.OAuthProviderDenied, StepAuthorize,
						"the provider redirected back with error=%s%s instead of a code: %s",
						textsafe.Truncate(e, 60), describeProviderError(loc.Query().Get("error_description")), providerErrorCause(e))
					s.denied = &f
					r.end(StepAuthorize, title, t, StatusFail, followed(resp), detail, f)
					return true // the callback shows what BetterAuth makes of it
				}
				r.end(StepAuthorize, title, t, StatusOK, followed(resp), detail)
				return true
			}
			next = loc.String()
			continue
		}
		seen := Describe(resp.status, resp.header, resp.body)
		if resp.status >= 400 {
			ru := "(none)"
			if s.redirectURI != nil {
				ru = textsafe.URL(s.redirectURI.String())
			}
			if strings.Contains(string(resp.body), "redirect_uri_mismatch") || strings.Contains(string(resp.body), "redirect_uri") && strings.Contains(strings.ToLower(string(resp.body)), "mismatch") {
				f := finding.New(finding.OAuthRedirectURIMismatch, StepAuthorize,
					"the provider refused the authorization request with %d redirect_uri_mismatch and did not redirect back: redirect_uri %s is not registered for the OAuth client.%s %s",
					resp.status, ru, prefixSpace(s.redirectFrom), mismatchFix(s.redirectElsewhere))
				f = f.WithEvidence(finding.Evidence{Step: StepRedirectURI, Seen: "redirect_uri " + ru}, finding.Evidence{Step: StepAuthorize, Seen: fmt.Sprintf("%d redirect_uri_mismatch", resp.status)})
				r.end(StepAuthorize, title, t, StatusFail, safeResp(resp), f.Message, f)
				return false
			}
			f := finding.New(finding.OAuthProviderRefused, StepAuthorize,
				"the provider answered the authorization request with %s and did not redirect back: it refuses the request itself (an unknown client id, a scope or response type it does not support). Check the provider's client id and scopes in the auth service's config.", seen)
			r.end(StepAuthorize, title, t, StatusFail, safeResp(resp), f.Message, f)
			return false
		}
		r.end(StepAuthorize, title, t, StatusSkip, safeResp(resp),
			"the provider answered "+seen+": a page for a person (sign-in or consent), not a redirect back. --provider-auto works only with providers that sign in without one; finish in a browser")
		return false
	}
	f := finding.New(finding.OAuthProviderRefused, StepAuthorize, "the provider did not redirect back to the redirect_uri within %d hops (%s).", maxProviderHops, strings.Join(hops, " → "))
	r.end(StepAuthorize, title, t, StatusFail, nil, f.Message, f)
	return false
}

// mismatchFix is what to do about a redirect_uri the provider refuses.
func mismatchFix(elsewhere bool) string {
	if elsewhere {
		return "Give the auth service this environment's BETTER_AUTH_URL, so that it builds this environment's callback (and register that one at the provider if it is not), rather than registering the other environment's URI."
	}
	return "Register exactly that URI at the provider, or make BETTER_AUTH_URL (or the provider's redirectURI) build the registered one."
}

// prefixSpace is s after a space, or "" for an empty s.
func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func describeProviderError(desc string) string {
	if desc == "" {
		return ""
	}
	return " (" + textsafe.Truncate(desc, 80) + ")"
}

// providerErrorCause explains the OAuth 2.0 / OIDC error codes a
// provider redirects back with.
func providerErrorCause(code string) string {
	switch code {
	case "access_denied":
		return "the user (or a policy of the provider) refused consent. Nothing is wrong with the configuration; sign in again and accept."
	case "invalid_scope":
		return "the provider does not offer a scope the auth service asks for: check the provider's scopes."
	case "unauthorized_client", "invalid_client":
		return "the OAuth client may not use this flow: check the client id and its allowed grant types at the provider."
	case "unsupported_response_type":
		return "the provider does not support response_type=code for this client."
	case "server_error", "temporarily_unavailable":
		return "the provider failed; retry later."
	case "login_required", "consent_required", "interaction_required", "account_selection_required":
		return "the provider needs a person to sign in or consent (prompt=none cannot be honoured)."
	}
	return "see the provider's documentation for this error."
}

func (r *run) stepCallback() bool {
	const title = "Follow the callback to BetterAuth"
	t := r.start(StepCallback, title)
	s := r.social
	cb := s.callback
	// The cookies a browser sends with the provider's redirect: the jar's
	// for the callback URL, less what a browser withholds.
	sent := false
	var pairs []string
	view := cb
	if cb.Scheme == "http" && probe.IsLoopbackHost(cb.Hostname()) {
		// Browsers send Secure cookies to http://localhost and loopback
		// addresses (a secure context); Go's jar does not.
		u := *cb
		u.Scheme = "https"
		view = &u
	}
	for _, c := range s.jar.Cookies(view) {
		if s.stateCookie != nil && c.Name == s.stateCookie.Name {
			if s.withheld(cb) {
				continue
			}
			sent = true
		}
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	var h http.Header
	if len(pairs) > 0 {
		h = http.Header{"Cookie": {strings.Join(pairs, "; ")}}
	}
	resp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodGet, cb.String(), h, nil)
	if err == nil {
		s.jar.SetCookies(cb, (&http.Response{Header: resp.header}).Cookies())
	}
	if err != nil {
		f := r.netFinding(StepCallback, err)
		f.Message = "the callback " + textsafe.URL(cb.Scheme+"://"+cb.Host+cb.Path) + ": " + err.Error()
		r.end(StepCallback, title, t, StatusFail, nil, f.Message, f)
		return false
	}
	sentSays := "the request carried the state cookie"
	if !sent {
		sentSays = "the request did not carry the state cookie"
	}
	loc, _ := cb.Parse(resp.header.Get("Location"))
	if resp.status >= 300 && resp.status < 400 && loc != nil {
		if code := loc.Query().Get("error"); code != "" {
			f := r.callbackFinding(code, loc, sent)
			f.Evidence = perStep(f.Evidence)
			to := redactQuery(loc.String())
			switch {
			case s.errorURL != "" && normURL(loc.Scheme+"://"+loc.Host+loc.Path) == normURL(s.errorURL):
				to += " (the errorCallbackURL authtui passed, which BetterAuth uses once it found the state's verification row)"
			case strings.HasSuffix(strings.TrimRight(loc.Path, "/"), r.opts.BasePath+"/error"):
				to += " (its own error page, not the errorCallbackURL authtui passed)"
			}
			// The detail says where it redirected: no "not followed"
			// line repeating it.
			r.end(StepCallback, title, t, StatusFail, followed(resp), fmt.Sprintf("%s; BetterAuth redirected to %s", sentSays, to), f)
			return false
		}
	}
	iss := r.decodeIssued(resp)
	if resp.status >= 300 && resp.status < 400 && iss.signed != nil {
		r.signedIn = true
		r.record(Outcome{Step: StepCallback, Via: "social sign-in", HTTPStatus: resp.status, Seen: Describe(resp.status, resp.header, resp.body), Result: Accepted})
		r.end(StepCallback, title, t, StatusOK, followed(resp), fmt.Sprintf("signed in through %s: BetterAuth set the session cookie and redirected to %s", textsafe.Truncate(r.opts.Social.Provider, 40), redactQuery(loc.String())))
		return r.stepCookie(resp, iss)
	}
	seen := Describe(resp.status, resp.header, resp.body)
	f := finding.New(finding.OAuthCallbackError, StepCallback,
		"the callback answered %s without a session cookie and without an error code: a proxy answered instead of BetterAuth, or strips Set-Cookie from the callback's answer.", seen)
	r.end(StepCallback, title, t, StatusFail, safeResp(resp), f.Message, f)
	return false
}

// callbackFinding maps BetterAuth 1.7.25's callback error codes to their
// cause, with the evidence of the run.
func (r *run) callbackFinding(code string, loc *url.URL, sent bool) finding.Finding {
	s := r.social
	shown := textsafe.Truncate(code, 60)
	cbHost := s.callback.Host
	ev := []finding.Evidence{{Step: StepCallback, Seen: "error=" + shown}}
	if s.denied != nil && code == s.callback.Query().Get("error") {
		// The provider's own error, passed through.
		return *s.denied
	}
	if code == "state_mismatch" {
		viaErrorURL := s.errorURL != "" && normURL(loc.Scheme+"://"+loc.Host+loc.Path) == normURL(s.errorURL)
		ev = append(ev, finding.Evidence{Step: StepCallback, Seen: map[bool]string{true: "state cookie sent", false: "state cookie not sent"}[sent]})
		if s.rowChecked {
			ev = append(ev, finding.Evidence{Step: StepState, Seen: map[bool]string{true: "verification row auth-state:" + cut(s.state) + " in " + s.rowTable, false: "no verification row auth-state:" + cut(s.state) + " in " + s.rowTable}[s.rowFound]})
		}
		switch {
		case !sent:
			why, fix := s.lossWhy, s.lossFix
			if why == "" {
				why = "the cookie jar holds it for " + s.startURL.Host + " but not for the callback URL"
			}
			if fix == "" {
				fix = "Make BETTER_AUTH_URL the URL the browser starts the sign-in on, so that the provider sends the browser back to the host that set the cookie."
			}
			return finding.New(finding.OAuthStateCookieLost, StepCallback,
				"the callback on %s answered state_mismatch: the state cookie %s set when the sign-in started on %s did not come back with it (%s). %s",
				cbHost, s.stateCookie.Name, s.startURL.Host, why, fix).WithEvidence(ev...)
		case viaErrorURL:
			return r.stateRefused(ev)
		default:
			where := "its database has no verification row for the state"
			if s.rowChecked && s.rowFound {
				where += ", while the database authtui reads (" + s.rowTable + ") has it: the instance that handled the callback reads another database than " + r.dbLabel()
			} else {
				// Seconds after the sign-in started, the state did not expire.
				where += ": it reads another database than the instance that started the sign-in"
				if s.rowChecked {
					where += " (the database authtui reads, " + s.rowTable + ", has no row either: the instance that started the sign-in writes it elsewhere, to another database or secondaryStorage)"
				} else {
					where += " (with --database-url authtui also looks the row up where the sign-in started)"
				}
			}
			return finding.New(finding.OAuthStateMismatch, StepCallback,
				"the callback on %s answered state_mismatch although the state cookie was sent: %s (BetterAuth redirected to its own error page, not to the flow's errorCallbackURL, which it does only after it found the row). Give every instance that can receive the callback the same DATABASE_URL.",
				cbHost, where).WithEvidence(ev...)
		}
	}
	msg, ok := callbackCauses[code]
	if !ok {
		msg = "an error of a plugin or hook (or the provider's, passed through); read the auth service's log for the callback."
	}
	return finding.New(finding.OAuthCallbackError, StepCallback, "the callback on %s redirected with error=%s: %s", cbHost, shown, msg).WithEvidence(ev...)
}

// perStep joins the evidence seen at one step into one entry, in the
// order the steps first appear: a finding's "seen at" then names each
// step once.
func perStep(ev []finding.Evidence) []finding.Evidence {
	var out []finding.Evidence
	for _, e := range ev {
		i := slices.IndexFunc(out, func(o finding.Evidence) bool { return o.Step == e.Step })
		switch {
		case i < 0:
			out = append(out, e)
		case e.Seen != "" && !strings.Contains(out[i].Seen, e.Seen):
			out[i].Seen += "; " + e.Seen
		}
	}
	return out
}

func (r *run) dbLabel() string {
	if r.opts.DB != nil {
		return r.opts.DB.Target().String()
	}
	return "the configured one"
}

// stateRefused: the callback instance found the state's row (it
// redirected to the errorCallbackURL) but refused the state cookie that
// was sent. Which secret does it sign with? A fresh social sign-in
// started at the callback's origin hands out a state cookie signed with
// that instance's secret: verified against the candidates, it tells
// another secret from a cookie dropped on the way.
func (r *run) stateRefused(ev []finding.Evidence) finding.Finding {
	s := r.social
	cbOrigin := s.callback.Scheme + "://" + s.callback.Host
	startSigners := orUnknown(s.stateSigners)
	probeSigners, probed := r.callbackSigners(cbOrigin)
	same := probed && len(probeSigners) > 0 && len(s.stateSigners) > 0 && slices.Equal(probeSigners, s.stateSigners)
	switch {
	case probed && !same:
		by := "a secret none of the sources holds"
		if len(probeSigners) > 0 {
			by = "the secret of " + strings.Join(probeSigners, ", ")
		}
		return finding.New(finding.OAuthStateMismatch, StepCallback,
			"the callback on %s answered state_mismatch although the state cookie was sent and its verification row was found: the instance that handled it signs with %s, the one that started the sign-in on %s with %s, so it cannot verify the cookie. Give every instance that can receive the callback the same BETTER_AUTH_SECRET.",
			s.callback.Host, by, s.startURL.Host, startSigners).WithEvidence(append(ev, finding.Evidence{Step: StepCallback, Seen: "the callback instance's own state cookie is signed with " + by})...)
	case same:
		return finding.New(finding.OAuthStateCookieLost, StepCallback,
			"the callback on %s answered state_mismatch although authtui sent the state cookie and the instance there signs with the same secret (%s) and found the verification row: the cookie most likely did not arrive. Something between the browser and the auth service (a proxy, CDN or middleware on the callback path) drops the Cookie header; behind a load balancer, the callback may also have reached another instance, with another secret, than the one authtui asked afterwards.",
			s.callback.Host, startSigners).WithEvidence(append(ev, finding.Evidence{Step: StepCallback, Seen: "the callback instance's own state cookie is signed with the same secret"})...)
	}
	return finding.New(finding.OAuthStateMismatch, StepCallback,
		"the callback on %s answered state_mismatch although the state cookie was sent and its verification row was found: the instance there could not verify the cookie (signed with the secret of %s). It runs with another BETTER_AUTH_SECRET, or something on the way drops the Cookie header; compare that instance's secret fingerprint (authtui secrets on its env).",
		s.callback.Host, startSigners).WithEvidence(ev...)
}

func orUnknown(labels []string) string {
	if len(labels) == 0 {
		return "a secret none of the sources holds"
	}
	return strings.Join(labels, ", ")
}

// callbackSigners starts a social sign-in at origin (the callback's) and
// names the sources whose secret signs its state cookie. probed is false
// when that instance did not hand one out.
func (r *run) callbackSigners(origin string) (labels []string, probed bool) {
	u := origin + strings.TrimRight(r.base.Path, "/") + r.opts.BasePath + "/sign-in/social"
	// The callback's own origin first (an instance trusts its base URL),
	// then the front end's (a proxy in front of the first instance).
	var resp *response
	for _, o := range []string{origin, r.opts.Origin} {
		body := map[string]any{"provider": r.opts.Social.Provider, "callbackURL": strings.TrimRight(o, "/") + "/"}
		rsp, err := do(r.ctx, r.client, r.opts.Timeout, http.MethodPost, u, http.Header{"Origin": {o}}, body)
		if err == nil && rsp.status == http.StatusOK {
			resp = rsp
			break
		}
	}
	if resp == nil {
		return nil, false
	}
	for _, line := range resp.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil || ck.Name != r.social.stateCookie.Name {
			continue
		}
		sv := probe.ParseSigned(ck.Value)
		if sv.Problem != "" {
			return nil, false
		}
		for _, c := range probe.VerifySigned(sv, r.opts.Candidates) {
			if !slices.Contains(labels, c.Label) {
				labels = append(labels, c.Label)
			}
		}
		return labels, true
	}
	return nil, false
}

// callbackCauses are the codes BetterAuth 1.7.25's callback redirects
// with (api/routes/callback.mjs, oauth2/errors.mjs, state.mjs,
// oauth2/link-account.mjs), besides state_mismatch, in a user's words.
var callbackCauses = map[string]string{
	"state_not_found":                          "the callback came without a state parameter: the provider (or a proxy or rewrite on the way) dropped the query string, or the provider started the flow itself (IdP-initiated) without allowIdpInitiated.",
	"state_invalid":                            "the encrypted state cookie (cookie state strategy) does not decrypt: the instance that handled the callback runs with another BETTER_AUTH_SECRET, or the cookie was cut.",
	"invalid_callback_request":                 "the callback's query or body did not parse (a parameter repeated, or of the wrong type): something rewrote the provider's redirect.",
	"no_code":                                  "the provider redirected back without a code and without an error: it does not speak the authorization code flow for this client, or a proxy dropped the code.",
	"oauth_provider_not_found":                 "the instance that handled the callback has no such provider: it runs another configuration than the one that started the sign-in, or its discovery failed at startup.",
	"issuer_missing":                           "the provider's discovery gave no issuer, and the callback carried one: fix the provider's discovery document.",
	"issuer_mismatch":                          "the callback's iss is not the issuer of the provider's discovery document: the code came from another provider (a mix-up) or the discovery URL points at another tenant.",
	"nonce_binding_missing":                    "the stored state has no id_token nonce although the provider requires one: the sign-in was started by an older release or another instance's configuration.",
	"invalid_code":                             "exchanging the code at the provider's token endpoint failed: a wrong client secret, a redirect_uri at the token request that differs from the authorize one (redirectURI vs BETTER_AUTH_URL), a code used twice or expired, or the auth service cannot reach the token endpoint.",
	"unable_to_get_user_info":                  "the user's profile could not be read: the id_token failed verification (JWKS, audience = client id, nonce) or the userinfo endpoint refused the access token, or its subject differs from the id_token's.",
	"no_callback_url":                          "the stored state has no callbackURL and the auth service has no baseURL to fall back on: set BETTER_AUTH_URL.",
	"email_not_found":                          "the provider returned no email: request its email scope, or map a placeholder with mapProfileToUser.",
	"email_not_verified":                       "the provider says the email is not verified and the auth service requires verified emails for this provider.",
	"account_not_linked":                       "a user with this email exists already and the provider is not trusted for automatic linking: add it to account.accountLinking.trustedProviders, or sign in the way that user signed up.",
	"unable_to_link_account":                   "linking the provider account to the existing user failed (a database error or a hook refused).",
	"email_does_not_match":                     "the provider account's email differs from the signed-in user's, and linking requires them to match.",
	"account_already_linked_to_different_user": "this provider account belongs to another user already.",
	"signup_disabled":                          "no user has this email and sign-up through this provider is disabled (disableSignUp / disableImplicitSignUp).",
	"unable_to_create_user":                    "creating the user failed: a database error (read the auth service's log) or a databaseHooks.user.create hook that refused.",
	"unable_to_create_session":                 "creating the session failed: a database error (read the auth service's log) or a session hook that refused.",
	"unable_to_update_account":                 "updating the stored account tokens failed: a database error or a hook.",
	"internal_server_error":                    "the auth service failed while handling the callback (the state could not be read or stored: its database); read its log.",
	"account_ownership_conflict":               "the account is bound to another user than the one being linked.",
	"user_not_found":                           "the user being linked no longer exists.",
}
