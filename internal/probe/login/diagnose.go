package login

import (
	"fmt"
	"strings"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Diagnosis is the verdict: the most likely root cause first, with the
// findings that support it.
type Diagnosis struct {
	Verdict  string     `json:"verdict"`
	Cause    finding.ID `json:"cause,omitempty"`
	Evidence []string   `json:"evidence"`
	Healthy  bool       `json:"healthy"`
}

// DiagnoseContext carries what the findings alone do not say.
type DiagnoseContext struct {
	ServerSecret []string // labels the server signs with, when known
	Signers      []string // labels of the sources that have a secret of their own
	APIURL       string
}

// rule is one root cause: it applies when its finding is present, and
// says what that means for "session is null". Rules are ordered: the
// first that applies is the verdict, because an earlier cause makes the
// later symptoms inevitable (a server that cannot be reached cannot be
// asked about secrets; a wrong secret makes every lookup fail).
type rule struct {
	id      finding.ID
	verdict func(f finding.Finding, all finding.List, dc DiagnoseContext) string
}

var rules = []rule{
	{finding.ServerUnreachable, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The auth service cannot be reached, so nothing else could be checked: " + f.Message
	}},
	{finding.ServerTimeout, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The auth service accepts connections but does not answer in time: " + f.Message
	}},
	{finding.ServerNotBetterAuth, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The base URL does not point at BetterAuth: " + f.Message
	}},
	{finding.LoginOriginRejected, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The auth service rejects the front end's origin, so the browser never gets a session: " + f.Message
	}},
	{finding.LoginCredentialsRejected, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The test credentials were refused; the session itself was not tested. Use a working test user or --replay-session."
	}},
	{finding.LoginEmailNotVerified, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The test user's email is not verified, so BetterAuth refuses to sign it in: " + f.Message
	}},
	{finding.GetSessionError, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The auth service fails on its side, most likely its database: " + f.Message
	}},
	{finding.LoginServerError, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The auth service fails while signing in, so no session could be tested: " + f.Message
	}},
	{finding.ServerSecretDefault, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The auth service runs on BetterAuth's built-in default secret: its BETTER_AUTH_SECRET never reached the process. Every other service that has the real secret rejects its cookies."
	}},
	{finding.ServerSecretUnknown, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "The auth service signs with a secret that none of your env files holds, so any service configured from them returns null: " + f.Message
	}},
	{finding.APIRejectsSession, func(f finding.Finding, all finding.List, dc DiagnoseContext) string {
		v := "Your API rejects a session that BetterAuth accepts"
		if len(dc.ServerSecret) > 0 {
			v += fmt.Sprintf(": the auth service signs with the secret of %s", strings.Join(dc.ServerSecret, ", "))
			if others := mismatched(dc); others != "" {
				v += "; " + others + " holds another, and the API most likely runs with it"
			}
		}
		return v + ". Give the API the auth service's BETTER_AUTH_SECRET (and the same cookie prefix and database)."
	}},
	{finding.CookieSignerDiffers, func(f finding.Finding, _ finding.List, dc DiagnoseContext) string {
		return "Services disagree about the secret: " + f.Message
	}},
	{finding.GetSessionNull, func(f finding.Finding, _ finding.List, _ DiagnoseContext) string {
		return "BetterAuth returns null for its own fresh session: " + f.Message
	}},
	{finding.SessionNotFound, passThrough("The signature is fine but the database has no row for the token: ")},
	{finding.SessionExpired, passThrough("The session row has expired: ")},
	{finding.SessionUserMissing, passThrough("The session's user is gone: ")},
	{finding.CookieSignedByDefault, passThrough("The cookie was issued by a server without a secret: ")},
	{finding.CookieSignatureBad, passThrough("No configured secret verifies the cookie: ")},
	{finding.CookieSignedByRetired, passThrough("The cookie predates a secret rotation: ")},
	{finding.SetCookieCrossSite, passThrough("The browser will not send the cookie to your front end: ")},
	{finding.SetCookieSameSiteNoneInsecure, passThrough("The browser rejects the cookie: ")},
	{finding.SetCookiePrefixInvalid, passThrough("The browser rejects the cookie: ")},
	{finding.SetCookieSecureOverHTTP, passThrough("The browser drops the cookie: ")},
	{finding.SetCookieDomainInvalid, passThrough("The browser rejects the cookie: ")},
	{finding.CookieNameMismatch, passThrough("The cookie is sent under another name than the server reads: ")},
	{finding.LoginNoCookie, passThrough("Sign-in sets no session cookie: ")},
	{finding.DBUnreachable, passThrough("The database cannot be reached: ")},
	{finding.DBSchemaMissing, passThrough("The database has no BetterAuth session table: ")},
	{finding.SecretMissing, passThrough("A service has no secret configured: ")},
	{finding.SecretDefault, passThrough("A service uses the published default secret: ")},
	{finding.SecretWhitespace, passThrough("A secret carries stray characters: ")},
	{finding.SecretMismatch, passThrough("Services are configured with different secrets: ")},
	{finding.SecretsMalformed, passThrough("BETTER_AUTH_SECRETS is malformed: ")},
	{finding.CacheInvalid, passThrough("The cookie cache does not verify: ")},
	{finding.CacheTokenMismatch, passThrough("The cookie cache is stale: ")},
}

func passThrough(prefix string) func(finding.Finding, finding.List, DiagnoseContext) string {
	return func(f finding.Finding, _ finding.List, _ DiagnoseContext) string { return prefix + f.Message }
}

// mismatched names the sources with a secret of their own that is not
// the one the server signs with.
func mismatched(dc DiagnoseContext) string {
	server := map[string]bool{}
	for _, l := range dc.ServerSecret {
		server[l] = true
	}
	var out []string
	for _, s := range dc.Signers {
		if !server[s] {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// Diagnose picks the root cause from everything the probes found.
func Diagnose(all finding.List, dc DiagnoseContext) Diagnosis {
	d := Diagnosis{Evidence: []string{}}
	for _, r := range rules {
		for _, f := range all {
			if f.ID != r.id {
				continue
			}
			d.Cause = f.ID
			d.Verdict = r.verdict(f, all, dc)
			for _, g := range all.Sorted() {
				if g.Severity != finding.Info || g.ID == finding.ServerSecretIdentified {
					d.Evidence = append(d.Evidence, string(g.ID)+": "+g.Message)
				}
			}
			return d
		}
	}
	d.Healthy = !all.HasError()
	switch {
	case len(dc.ServerSecret) > 0:
		d.Verdict = fmt.Sprintf("No problem found: the server signs with the secret of %s, and every check that ran accepted the session. If a browser still gets null, paste its Cookie header into authtui decode.", strings.Join(dc.ServerSecret, ", "))
	case all.HasError():
		d.Verdict = "Errors were found; see the findings."
	default:
		d.Verdict = "No problem found in what could be checked. Add credentials (--email, --password-env) or --replay-session to test a real session."
	}
	for _, g := range all.Sorted() {
		d.Evidence = append(d.Evidence, string(g.ID)+": "+g.Message)
	}
	return d
}
