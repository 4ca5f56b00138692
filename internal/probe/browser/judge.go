package browser

import (
	"fmt"
	"strings"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// fixFor says, in BetterAuth's terms, what makes Chrome accept a cookie
// it refused or withheld for reason.
func fixFor(reason string) string {
	switch reason {
	case "SameSiteLax", "SchemefulSameSiteLax", "SameSiteUnspecifiedTreatedAsLax", "SchemefulSameSiteUnspecifiedTreatedAsLax":
		return "the front end is on another site, and a SameSite=Lax cookie is not stored or sent on its fetches: set advanced.defaultCookieAttributes to { sameSite: \"none\", secure: true } (https), or serve the auth service from the front end's site (a same-site proxy or rewrite; crossSubDomainCookies for subdomains of one site)"
	case "SameSiteStrict", "SchemefulSameSiteStrict":
		return "SameSite=Strict cookies never travel cross-site: use sameSite \"none\" with secure, or a same-site proxy"
	case "SameSiteNoneInsecure":
		return "SameSite=None needs Secure: BetterAuth adds Secure itself, so something between it and the browser strips it (a proxy rewriting Set-Cookie), or defaultCookieAttributes.secure is false"
	case "SecureOnly", "SchemeNotSupported":
		return "a Secure cookie over http: serve the auth service over https (loopback is exempt), or do not force secure"
	case "InvalidDomain", "DomainMismatch":
		return "the cookie's Domain does not cover the auth service's host: advanced.crossSubDomainCookies.domain must be the auth host or a parent of it"
	case "UserPreferences", "ThirdPartyPhaseout", "ThirdPartyBlockedInFirstPartySet", "ThirdPartyBlocked":
		return "third-party cookies are blocked (Safari, Brave, Chrome with them off): serve the auth service from the front end's site (a same-site proxy or rewrite), or use the bearer plugin with Authorization headers"
	case "InvalidPrefix":
		return "a __Secure- or __Host- cookie that breaks its prefix's rules (Secure, Path=/, no Domain for __Host-)"
	case "NameValuePairExceedsMaxSize", "DisallowedCharacter", "SyntaxError":
		return "the Set-Cookie line itself is malformed or too large (the cookie cache is the usual culprit: lower session.cookieCache or use strategy compact)"
	}
	return "see Chrome's reason"
}

// corsFix says, per Chrome's CORS error name, what makes the answer
// reach a page that fetches with credentials.
func corsFix(name, origin string) string {
	switch {
	case strings.Contains(name, "AllowCredentials"):
		return "the answer names the origin but lacks Access-Control-Allow-Credentials: true, which a fetch with credentials needs. Whatever answers CORS for the auth service (a cors() middleware, a proxy, the platform's headers) must send it: cors({ origin, credentials: true }), or let the proxy pass BetterAuth's header."
	case strings.Contains(name, "Wildcard"):
		return "Access-Control-Allow-Origin: * is not allowed with credentials: answer the origin itself (" + origin + "), as BetterAuth does for its trustedOrigins."
	case strings.Contains(name, "InvalidStatus"):
		return "the OPTIONS preflight did not get a 2xx: something in front of BetterAuth (a proxy, the framework's routing) answers OPTIONS with an error; let the preflight through to a CORS handler."
	case strings.Contains(name, "AllowOrigin"):
		return "add " + origin + " to trustedOrigins (BetterAuth then answers Access-Control-Allow-Origin for it; a cors() middleware in front must name it too), and send Access-Control-Allow-Credentials: true."
	case strings.Contains(name, "Disallowed") || strings.Contains(name, "Header"):
		return "the preflight's Access-Control-Allow-Headers or -Methods leaves out what the request sends (content-type, POST): allow them in the CORS handler."
	}
	return "answer CORS for " + origin + " with Access-Control-Allow-Origin (the origin itself) and Access-Control-Allow-Credentials: true."
}

// thirdParty says whether a reason is Chrome's third-party blocking.
func thirdParty(reasons []string) bool {
	for _, r := range reasons {
		switch r {
		case "UserPreferences", "ThirdPartyPhaseout", "ThirdPartyBlockedInFirstPartySet", "ThirdPartyBlocked":
			return true
		}
	}
	return false
}

// Judge turns what Chrome said into findings, each with Chrome's reason
// under its own name and the fix in BetterAuth's terms.
func Judge(res *Result) finding.List {
	var fs finding.List
	seen := map[string]bool{}
	add := func(id finding.ID, key, format string, a ...any) {
		if !seen[string(id)+key] {
			seen[string(id)+key] = true
			fs.Add(id, "browser", format, a...)
		}
	}
	var allowed, blocked *Pass
	for i := range res.Passes {
		if res.Passes[i].ThirdPartyBlocked {
			blocked = &res.Passes[i]
		} else {
			allowed = &res.Passes[i]
		}
	}
	for _, p := range res.Passes {
		for _, q := range p.Requests {
			if q.CORSError != "" {
				add(finding.BrowserCORSRejected, q.Step+q.CORSError,
					"Chrome refused the answer of %s to a page on %s: CORS %s. The page never sees it, whatever the server did: %s",
					q.Step, res.Origin, q.CORSError, corsFix(q.CORSError, res.Origin))
			}
			for _, c := range q.Refused {
				if p.ThirdPartyBlocked && thirdParty(c.Reasons) {
					continue // said once below, with what it means
				}
				if res.Social != "" && isStateCookie(c.Name) {
					continue // judgeSocial says what it does to the callback
				}
				add(finding.BrowserCookieRefused, c.Name+strings.Join(c.Reasons, ","),
					"Chrome did not store the cookie %s from %s (%s): %s.", c.Name, q.Step, strings.Join(c.Reasons, ", "), fixFor(first(c.Reasons)))
			}
			for _, c := range q.Withheld {
				if p.ThirdPartyBlocked && thirdParty(c.Reasons) {
					continue
				}
				if res.Social != "" && isStateCookie(c.Name) {
					continue
				}
				add(finding.BrowserCookieNotSent, c.Name+strings.Join(c.Reasons, ","),
					"Chrome holds the cookie %s but did not send it with %s (%s): %s.", c.Name, q.Step, strings.Join(c.Reasons, ", "), fixFor(first(c.Reasons)))
			}
		}
	}
	if res.Social != "" {
		judgeSocial(res, add)
	}
	// A pass without a session and without any reason of Chrome's: the
	// server said no (a ✗ always carries a finding).
	for _, p := range res.Passes {
		if p.Session || len(fs) > 0 {
			continue
		}
		for _, q := range p.Requests {
			if q.Step != "sign-in" || q.Status == 0 || (q.Status >= 200 && q.Status < 300) {
				continue
			}
			switch {
			case res.Social != "" && q.Status == 404:
				add(finding.OAuthProviderNotFound, "browser", "sign-in/social for %s answered 404 in Chrome: the auth service has no such provider (PROVIDER_NOT_FOUND: not configured, or its discovery failed).", res.Social)
				continue
			case res.Social != "" && q.Status == 403:
				add(finding.LoginOriginRejected, "browser", "sign-in/social from a page on %s answered 403: BetterAuth rejects the origin or the callbackURL (INVALID_ORIGIN, INVALID_CALLBACK_URL). Add %s to trustedOrigins (BETTER_AUTH_TRUSTED_ORIGINS).", res.Origin, res.Origin)
				continue
			}
			if q.Status == 403 {
				add(finding.LoginOriginRejected, "browser", "sign-in from a page on %s answered 403: BetterAuth rejects the origin (INVALID_ORIGIN when it is not in trustedOrigins). Add %s to trustedOrigins (BETTER_AUTH_TRUSTED_ORIGINS).", res.Origin, res.Origin)
			} else {
				add(finding.LoginUnexpectedStatus, "browser", "sign-in from a page on %s answered %d, not 200.", res.Origin, q.Status)
			}
		}
	}
	noSession(res, add)
	for _, p := range res.Passes {
		if p.Error != "" && !p.Session {
			mode := "third-party cookies allowed"
			if p.ThirdPartyBlocked {
				mode = "third-party cookies blocked"
			}
			add(finding.BrowserRunFailed, mode, "The browser pass with %s did not finish: %s. Chrome said nothing either way about that pass.", mode, textsafe.Truncate(p.Error, 300))
		}
	}
	for _, d := range disagreements(allowed, blocked) {
		add(finding.BrowserAnalysisDisagrees, d, "%s The browser wins: authtui's Set-Cookie analysis has a defect here (please report the cookie's attributes, never its value).", d)
	}
	if allowed != nil && blocked != nil && allowed.Session && !blocked.Session {
		var why []string
		for _, q := range blocked.Requests {
			for _, c := range append(append([]Cookie{}, q.Refused...), q.Withheld...) {
				if thirdParty(c.Reasons) {
					why = append(why, fmt.Sprintf("%s at %s: %s", c.Name, q.Step, strings.Join(c.Reasons, ", ")))
				}
			}
		}
		add(finding.BrowserThirdPartyBlocked, "",
			"Sign-in works in Chrome with third-party cookies allowed, and fails with them blocked (%s): the session cookie is a third-party cookie on %s, so Safari, Brave and Chrome with third-party cookies off never keep it. %s.",
			strings.Join(why, "; "), res.Origin, fixFor("UserPreferences"))
	}
	return fs
}

// noSession gives a pass that ended without a session, and that nothing
// above explained, its finding from what Chrome did show: the sign-in's
// answer carried no cookie at all, or Chrome kept the cookie and sent it
// and the server still said no (a ✗ always carries a finding).
func noSession(res *Result, add func(finding.ID, string, string, ...any)) {
	for _, p := range res.Passes {
		if p.Session || p.Error != "" || p.PageError != "" || p.AtProvider || p.CallbackError != "" {
			continue
		}
		var signIn *Request
		explained := false
		for i, q := range p.Requests {
			if q.Step == "sign-in" && signIn == nil {
				signIn = &p.Requests[i]
			}
			explained = explained || len(q.Refused) > 0 || len(q.Withheld) > 0 || q.CORSError != "" || q.Failed != ""
		}
		if explained || signIn == nil || signIn.Status < 200 || signIn.Status >= 300 {
			continue // said above, with Chrome's reason or the server's status
		}
		var sent []string
		status := 0
		for _, q := range p.Requests {
			if q.Step == "get-session" && len(q.Sent) > 0 {
				sent, status = q.Sent, q.Status
			}
		}
		switch {
		case len(signIn.Stored) == 0 && res.Social == "":
			add(finding.LoginNoCookie, "browser", "In Chrome, the sign-in from a page on %s answered %d with no Set-Cookie at all: Chrome had no cookie to store or refuse. Something between BetterAuth and the browser strips Set-Cookie (a CDN or proxy rule, a framework response that drops the headers).", res.Origin, signIn.Status)
		case len(sent) > 0:
			add(finding.BrowserNoSession, "browser", "Chrome sent its cookies (%s) with get-session, refusing and withholding none, and get-session answered %d without a session: the server rejects the cookie itself, not the browser. Another secret or database behind part of the auth routes, or a missing row: `authtui check` with the same URLs says which.", strings.Join(sent, ", "), status)
		}
	}
}

// lostIn says whether Chrome refused the cookie at any request of the
// pass, or withheld it from one, for a reason other than third-party
// blocking (third says it was for that reason).
func lostIn(p *Pass, name string) (lost bool, reasons []string, third bool) {
	for _, q := range p.Requests {
		for _, c := range append(append([]Cookie{}, q.Refused...), q.Withheld...) {
			if c.Name != name {
				continue
			}
			if thirdParty(c.Reasons) {
				third = true
				continue
			}
			lost, reasons = true, append(reasons, c.Reasons...)
		}
	}
	return lost, reasons, third
}

// disagreements compare Chrome's verdict on each Set-Cookie line with
// authtui's own analysis of the same line: whether the cookie is lost
// (with third-party cookies allowed), and whether blocking third-party
// cookies loses it.
func disagreements(allowed, blocked *Pass) []string {
	var out []string
	said := map[string]bool{}
	if allowed != nil && allowed.Error == "" {
		for _, q := range allowed.Requests {
			for _, pr := range q.Predicted {
				lost, reasons, _ := lostIn(allowed, pr.Name)
				predicted := len(pr.Lost) > 0
				if lost == predicted || said[pr.Name] {
					continue
				}
				said[pr.Name] = true
				if lost {
					out = append(out, fmt.Sprintf("Chrome dropped %s from %s (%s), but authtui's Set-Cookie analysis of the same line found nothing wrong.", pr.Name, q.Step, strings.Join(reasons, ", ")))
				} else {
					out = append(out, fmt.Sprintf("authtui's Set-Cookie analysis said %s would be lost (%s), but Chrome stored and sent it.", pr.Name, joinIDs(pr.Lost)))
				}
			}
		}
	}
	if blocked != nil && blocked.Error == "" {
		for _, q := range blocked.Requests {
			for _, pr := range q.Predicted {
				if len(pr.Lost) > 0 || said[pr.Name] {
					continue // lost anyway: compared above
				}
				_, _, third := lostIn(blocked, pr.Name)
				if third == pr.ThirdParty {
					continue
				}
				said[pr.Name] = true
				if third {
					out = append(out, fmt.Sprintf("With third-party cookies blocked Chrome dropped %s, but authtui's Set-Cookie analysis did not call it a third-party cookie.", pr.Name))
				} else {
					out = append(out, fmt.Sprintf("authtui's Set-Cookie analysis called %s a third-party cookie, but Chrome kept it with third-party cookies blocked.", pr.Name))
				}
			}
		}
	}
	return out
}

func joinIDs(ids []finding.ID) string {
	var ss []string
	for _, id := range ids {
		ss = append(ss, string(id))
	}
	return strings.Join(ss, ", ")
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// isStateCookie says whether a cookie is BetterAuth's OAuth state:
// <prefix>.state (database strategy) or <prefix>.oauth_state (cookie
// strategy), with or without __Secure-.
func isStateCookie(name string) bool {
	return strings.HasSuffix(name, ".state") || strings.HasSuffix(name, ".oauth_state")
}

// providerCodes are the errors an OAuth provider itself redirects with
// (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6); BetterAuth passes
// them on.
var providerCodes = map[string]bool{"access_denied": true, "invalid_request": true, "unauthorized_client": true,
	"unsupported_response_type": true, "invalid_scope": true, "server_error": true, "temporarily_unavailable": true,
	"interaction_required": true, "login_required": true, "account_selection_required": true, "consent_required": true}

// judgeSocial reads the social sign-in's hops: where the state cookie
// went (Chrome's reasons), what the provider and the callback answered,
// and where the navigation ended.
func judgeSocial(res *Result, add func(finding.ID, string, string, ...any)) {
	for _, p := range res.Passes {
		if p.Error != "" {
			continue
		}
		// The state cookie: refused at sign-in/social, or withheld from
		// the callback (third-party blocking is said once, elsewhere).
		var (
			lost            []string
			thirdPartyLoss  bool // refused or withheld as a third-party cookie
			sentAtCallback  bool // positive evidence that it came back
			reachedCallback bool
		)
		for _, q := range p.Requests {
			for _, c := range q.Refused {
				if !isStateCookie(c.Name) {
					continue
				}
				if p.ThirdPartyBlocked && thirdParty(c.Reasons) {
					thirdPartyLoss = true
					continue
				}
				lost = append(lost, fmt.Sprintf("Chrome did not store the state cookie %s from %s (%s): %s", c.Name, q.Step, strings.Join(c.Reasons, ", "), fixFor(first(c.Reasons))))
			}
			if q.Step != "callback" {
				continue
			}
			reachedCallback = true
			for _, c := range q.Withheld {
				if !isStateCookie(c.Name) {
					continue
				}
				if p.ThirdPartyBlocked && thirdParty(c.Reasons) {
					thirdPartyLoss = true
					continue
				}
				lost = append(lost, fmt.Sprintf("Chrome held the state cookie %s but did not send it with the callback (%s): %s", c.Name, strings.Join(c.Reasons, ", "), fixFor(first(c.Reasons))))
			}
			for _, n := range q.Sent {
				sentAtCallback = sentAtCallback || isStateCookie(n)
			}
		}
		if !reachedCallback && len(lost) > 0 {
			// Something stopped the flow before the callback; the lost
			// state cookie is the next failure, already certain.
			add(finding.OAuthStateCookieLost, "browser-early", "%s. The callback would answer state_mismatch once the sign-in gets that far.", strings.Join(lost, "; "))
		}
		for _, q := range p.Requests {
			if q.Step != "provider" {
				continue
			}
			if q.Failed != "" && q.CORSError == "" {
				add(finding.OAuthProviderUnreachable, "browser", "Chrome could not reach the provider at %s (%s): the sign-in stops before anyone can sign in. Check that the provider is up and that its discovery URL points at an address browsers reach.", q.URL, q.Failed)
			}
		}
		if p.Landed != "" && p.CallbackError == "" && !p.Session {
			var last *Request
			for i := range p.Requests {
				if p.Requests[i].Step == "provider" {
					last = &p.Requests[i]
				}
			}
			switch {
			case last != nil && last.Status >= 400:
				add(finding.OAuthProviderRefused, "browser", "the provider answered %d at %s and did not send Chrome back: it refused the authorization request. The usual cause is a redirect_uri it has not registered (redirect_uri_mismatch): register the auth service's <base URL>/api/auth/callback/%s exactly, or fix BETTER_AUTH_URL (or the provider's redirectURI) to the registered one.", last.Status, last.URL, res.Social)
			case p.AtProvider:
				add(finding.BrowserRunFailed, "provider", "Chrome stopped at the provider's page %s: it waits for a person to sign in. Run with --headed to sign in in a visible window (it needs a display), or use a test provider that signs in by itself; nothing past the provider was judged.", p.Landed)
			}
		}
		code := p.CallbackError
		switch {
		case code == "":
		case code == "state_mismatch" && len(lost) > 0:
			add(finding.OAuthStateCookieLost, "browser"+code, "In Chrome the callback answered state_mismatch: %s.", strings.Join(lost, "; "))
		case code == "state_mismatch" && thirdPartyLoss:
			// Third-party blocking took it: said once, with what it means.
		case code == "state_mismatch" && !sentAtCallback:
			add(finding.OAuthStateCookieLost, "browser"+code, "In Chrome the callback answered state_mismatch, and the callback carried no state cookie, though Chrome gave no reason of its own: it was set for another host or path than the callback's (BETTER_AUTH_URL vs the redirect_uri's host), or it expired (5 minutes).")
		case code == "state_mismatch":
			add(finding.OAuthStateMismatch, "browser"+code, "In Chrome the state cookie came back with the callback, and BetterAuth still answered state_mismatch: the instance that handled the callback cannot verify the cookie (another BETTER_AUTH_SECRET) or has no record of the state (another database, or the state expired). `authtui login --social %s --provider-auto` tells which.", res.Social)
		case providerCodes[code]:
			add(finding.OAuthProviderDenied, "browser"+code, "the provider answered error=%s and BetterAuth passed it on (landed on %s): the provider refused the sign-in, not BetterAuth.", code, p.Landed)
		default:
			cause, ok := login.CallbackCause(code)
			if !ok {
				cause = "a code authtui does not know; read the auth service's log."
			}
			add(finding.OAuthCallbackError, "browser"+code, "In Chrome the callback redirected with error=%s (landed on %s): %s", code, p.Landed, cause)
		}
	}
}
