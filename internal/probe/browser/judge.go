package browser

import (
	"fmt"
	"strings"

	"github.com/authtui/authtui/internal/probe/finding"
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
					"Chrome refused the answer of %s to a page on %s: CORS %s. The page never sees it, whatever the server did: add %s to trustedOrigins (BetterAuth then answers Access-Control-Allow-Origin for it) and let any proxy pass the Access-Control-Allow-Credentials header (set to true).",
					q.Step, res.Origin, q.CORSError, res.Origin)
			}
			for _, c := range q.Refused {
				if p.ThirdPartyBlocked && thirdParty(c.Reasons) {
					continue // said once below, with what it means
				}
				add(finding.BrowserCookieRefused, c.Name+strings.Join(c.Reasons, ","),
					"Chrome did not store the cookie %s from %s (%s): %s.", c.Name, q.Step, strings.Join(c.Reasons, ", "), fixFor(first(c.Reasons)))
			}
			for _, c := range q.Withheld {
				if p.ThirdPartyBlocked && thirdParty(c.Reasons) {
					continue
				}
				add(finding.BrowserCookieNotSent, c.Name+strings.Join(c.Reasons, ","),
					"Chrome holds the cookie %s but did not send it with %s (%s): %s.", c.Name, q.Step, strings.Join(c.Reasons, ", "), fixFor(first(c.Reasons)))
			}
		}
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
			if q.Status == 403 {
				add(finding.LoginOriginRejected, "browser", "sign-in from a page on %s answered 403: BetterAuth rejects the origin (INVALID_ORIGIN when it is not in trustedOrigins). Add %s to trustedOrigins (BETTER_AUTH_TRUSTED_ORIGINS).", res.Origin, res.Origin)
			} else {
				add(finding.LoginUnexpectedStatus, "browser", "sign-in from a page on %s answered %d, not 200.", res.Origin, q.Status)
			}
		}
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

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
