package browser

import (
	"fmt"
	"strings"

	"github.com/authtui/authtui/internal/probe/finding"
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
