package login

import "time"

// Acceptance is how an endpoint judged one credential. Only Accepted is
// positive evidence: a 2xx whose body is a null session is a rejection.
type Acceptance string

const (
	NotRun      Acceptance = ""            // the step did not run (no API URL, no bearer, cancelled)
	Accepted    Acceptance = "accepted"    // 2xx with a body that is a session (or the API's own non-null answer)
	Rejected    Acceptance = "rejected"    // 401/403, a 2xx null session, a redirect (to a sign-in page)
	NotSession  Acceptance = "not-session" // get-session 2xx whose body is neither null nor a session (HTML from a cache, other JSON)
	ServerError Acceptance = "error"       // 5xx
	Unreachable Acceptance = "unreachable" // transport failure or timeout
)

// Outcome is what one request that presents a credential showed. The
// verdict is built from these, so Seen says in a few words what came
// back ("200 null", "401 {\"error\":\"unauthorized\"}", "302 → /login").
type Outcome struct {
	Step       string     `json:"step"`
	Via        string     `json:"via,omitempty"` // cookie, bearer token
	Result     Acceptance `json:"result"`
	HTTPStatus int        `json:"http_status,omitempty"`
	Seen       string     `json:"seen,omitempty"`
	// Cleared: the answer expired the session cookie (get-session does
	// that when the signature verified but no valid row was found).
	Cleared bool `json:"cleared,omitempty"`
}

// Ran reports whether the step ran and produced an answer to judge.
func (o Outcome) Ran() bool { return o.Result != NotRun }

// IssuedCookie is what sign-in handed out, so that a verdict can compare
// it with what the user's API expects (cookie name and prefix, the
// attributes the browser applies, the cookie cache, the bearer token).
// Values are never kept here, only names and attributes.
type IssuedCookie struct {
	Name         string `json:"name,omitempty"`          // e.g. __Secure-better-auth.session_token
	CookiePrefix string `json:"cookie_prefix,omitempty"` // advanced.cookiePrefix, e.g. better-auth
	SecurePrefix bool   `json:"secure_prefix"`           // the name starts with __Secure-
	SameSite     string `json:"same_site,omitempty"`     // Lax, Strict, None; "" when absent (browsers default to Lax)
	Domain       string `json:"domain,omitempty"`
	Secure       bool   `json:"secure"`
	HTTPOnly     bool   `json:"http_only"`
	// Cache: sign-in also set a session_data cookie cache.
	Cache          bool      `json:"cache"`
	CacheStrategy  string    `json:"cache_strategy,omitempty"` // compact, jwt, jwe (as the decoder read it)
	CacheExpiresAt time.Time `json:"cache_expires_at,omitzero"`
	// Bearer: the answer carried set-auth-token (the bearer plugin is on).
	Bearer bool `json:"bearer"`
}
