package check

import (
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
)

// socialSteps are the steps of a social sign-in before the session exists.
var socialSteps = []string{login.StepSocialStart, login.StepRedirectURI, login.StepState, login.StepAuthorize, login.StepCallback}

// socialRule: a social sign-in (login --social) that breaks before
// BetterAuth set a session cookie. Its findings name the cause with the
// evidence of the run; the first break in the order of the flow wins,
// and for one ID the callback's observation wins over the state step's
// prediction.
func socialRule(f *facts) (Verdict, bool) {
	order := []finding.ID{
		finding.OAuthProviderNotFound,
		finding.OAuthRedirectURIMismatch,
		finding.OAuthProviderRefused,
		finding.OAuthProviderUnreachable,
		finding.OAuthProviderDenied,
		finding.OAuthStateCookieLost,
		finding.OAuthStateMismatch,
		finding.OAuthCallbackError,
	}
	for _, id := range order {
		all := f.all(id)
		if len(all) == 0 {
			continue
		}
		g := all[0]
		for _, h := range all {
			if h.Source == login.StepCallback {
				g = h
			}
		}
		// The callback's findings carry the state step's evidence (the
		// verification row) themselves.
		v := verdictFrom(g, socialPrefix(id)+g.Message)
		if f.browser != nil {
			// Chrome saw the same cause: its own words are evidence too.
			if b, ok := firstIn(f.browser.Findings, id); ok {
				v.Evidence = append(v.Evidence, finding.Evidence{Step: "browser", Seen: b.Message})
			}
		}
		if id == finding.OAuthStateCookieLost && g.Source == login.StepState {
			v.TellApart = "Run with --provider-auto (a test provider) or finish the sign-in in a browser: the callback then answers state_mismatch if the cookie is indeed lost."
		}
		return v, true
	}
	// The auth service unreachable at the social steps.
	for _, id := range []finding.ID{finding.ServerUnreachable, finding.ServerTimeout} {
		for _, g := range f.all(id) {
			for _, s := range socialSteps {
				if g.Source == s {
					return verdictFrom(g, "The social sign-in could not reach the auth service, so no session was issued: "+g.Message), true
				}
			}
		}
	}
	return Verdict{}, false
}

func socialPrefix(id finding.ID) string {
	switch id {
	case finding.OAuthProviderNotFound:
		return "The social sign-in cannot start: "
	case finding.OAuthRedirectURIMismatch, finding.OAuthProviderRefused, finding.OAuthProviderUnreachable, finding.OAuthProviderDenied:
		return "The social sign-in stops at the provider, before BetterAuth's callback, so no session is issued: "
	}
	return "The social sign-in fails at BetterAuth's callback, so no session is issued: "
}

// socialStopped is the healthy verdict of a social sign-in that stopped
// after its first leg (no --provider-auto): what was checked, and that
// the session itself was not; "" for any other run.
func socialStopped(f *facts) string {
	if f.login == nil {
		return ""
	}
	stopped := false
	for _, e := range f.login.Events {
		if e.Phase == login.PhaseEnd && e.Step == login.StepAuthorize && e.Status == login.StatusSkip {
			stopped = true
		}
	}
	if !stopped {
		return ""
	}
	const rest = " The session itself was not tested: finish the sign-in in a browser, or use --provider-auto with a provider that signs in without a person."
	if len(f.all(finding.OAuthRedirectURIUnexpected)) > 0 {
		// A warning stands: the first leg is not "fine".
		return "No error in the first leg of the social sign-in, but its redirect_uri is not the callback of this run's base URL (oauth-redirect-uri-unexpected): the provider must have exactly that URI registered, or it answers redirect_uri_mismatch." + rest
	}
	return "No problem found in the first leg of the social sign-in: BetterAuth handed out the authorization URL, and its redirect_uri and the state cookie fit where the callback lands (see the steps)." + rest
}
