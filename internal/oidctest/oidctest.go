// Package oidctest runs a real OpenID Connect provider in process, on a
// free 127.0.0.1 port, for tests and the demo: github.com/oauth2-proxy/mockoidc
// (discovery, authorize, token, userinfo, JWKS; RS256 id_tokens with the
// nonce, PKCE S256), plus what a real provider such as Google does and
// mockoidc does not:
//
//   - it signs a chosen user in without a person: /authorize redirects
//     straight back to the redirect_uri with a code (Email, SetEmail);
//   - it checks the redirect_uri against the registered ones
//     (AllowRedirectURIs) and refuses any other at /authorize WITHOUT
//     redirecting: a 400 HTML page naming redirect_uri_mismatch, as Google
//     answers; with no URI registered, any is accepted;
//   - Deny("access_denied") makes /authorize redirect back with
//     ?error=access_denied&state=… as when the user clicks "Cancel";
//   - Stop closes the listener and every connection: the provider is down.
//
// Only tests and the demo's command (internal/oidctest/cmd/oidc-provider)
// import it; the main binary never does.
package oidctest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// DefaultEmail is the user signed in when Options.Email is empty.
const DefaultEmail = "oidc-user@example.com"

// Options configures a provider. Zero values are the defaults.
type Options struct {
	// Email is the signed-in user's (verified) email; DefaultEmail if empty.
	Email string
	// RedirectURIs are the registered redirect URIs (exact match, as
	// Google compares them); empty accepts any.
	RedirectURIs []string
	// Addr is the listen address; "" picks a free 127.0.0.1 port.
	Addr string
}

// Provider is a running OIDC provider.
type Provider struct {
	// Issuer is the issuer URL (http://127.0.0.1:PORT/oidc); the discovery
	// document is at Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string

	m *mockoidc.MockOIDC

	mu      sync.Mutex
	allowed []string
	deny    string
	email   string
	// person: /authorize shows a sign-in page first; personAfter > 0: the
	// page signs in by itself after that long, as a person would.
	person      bool
	personAfter time.Duration

	// Authorizations counts the requests /authorize received, Refused the
	// ones it refused for their redirect_uri, Tokens the token requests.
	Authorizations, Refused, Tokens atomic.Int64

	stopOnce sync.Once
}

// New starts a provider; Stop ends it.
func New(opts Options) (*Provider, error) {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return nil, err
	}
	p := &Provider{m: m, email: opts.Email, allowed: slices.Clone(opts.RedirectURIs)}
	if p.email == "" {
		p.email = DefaultEmail
	}
	if err := m.AddMiddleware(p.middleware); err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := m.Start(ln, nil); err != nil {
		ln.Close()
		return nil, err
	}
	p.Issuer, p.ClientID, p.ClientSecret = m.Issuer(), m.ClientID, m.ClientSecret
	return p, nil
}

// Start starts a provider for a test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	p, err := New(opts)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// DiscoveryURL is the provider's /.well-known/openid-configuration.
func (p *Provider) DiscoveryURL() string { return p.Issuer + "/.well-known/openid-configuration" }

// AuthorizationEndpoint is the provider's /authorize URL.
func (p *Provider) AuthorizationEndpoint() string { return p.m.AuthorizationEndpoint() }

// Env is the test BetterAuth server's configuration for this provider
// (testdata/betterauth/auth.mjs): FIXTURE_OIDC_ISSUER, _CLIENT_ID,
// _CLIENT_SECRET.
func (p *Provider) Env() []string {
	return []string{"FIXTURE_OIDC_ISSUER=" + p.Issuer, "FIXTURE_OIDC_CLIENT_ID=" + p.ClientID, "FIXTURE_OIDC_CLIENT_SECRET=" + p.ClientSecret}
}

// AllowRedirectURIs replaces the registered redirect URIs (none: any).
func (p *Provider) AllowRedirectURIs(uris ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed = slices.Clone(uris)
}

// Deny makes /authorize redirect back with ?error=code (e.g.
// "access_denied") instead of signing in; "" signs in again.
func (p *Provider) Deny(code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = code
}

// SetEmail changes the user the next authorizations sign in.
func (p *Provider) SetEmail(email string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.email = email
}

// Stop closes the listener and every open connection: afterwards a
// connection to the provider is refused. It is safe to call twice.
func (p *Provider) Stop() {
	p.stopOnce.Do(func() { _ = p.m.Server.Close() })
}

// RequirePerson makes /authorize show a sign-in page, as a real provider
// does, instead of signing in at once; with after > 0 the page signs in by
// itself after that long (a person at a visible window), else it waits
// for ever.
func (p *Provider) RequirePerson(after time.Duration) {
	p.mu.Lock()
	p.person, p.personAfter = true, after
	p.mu.Unlock()
}

// middleware runs before mockoidc's handlers: the redirect_uri check,
// the denial and the chosen user at /authorize.
func (p *Provider) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case mockoidc.TokenEndpoint:
			p.Tokens.Add(1)
		case mockoidc.AuthorizationEndpoint:
			p.Authorizations.Add(1)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			p.mu.Lock()
			allowed, deny, email := slices.Clone(p.allowed), p.deny, p.email
			person, after := p.person, p.personAfter
			p.mu.Unlock()
			if person && r.Form.Get("authtui_signed_in") != "1" {
				signInPage(w, r, after)
				return
			}
			redirectURI := r.Form.Get("redirect_uri")
			if len(allowed) > 0 && !slices.Contains(allowed, redirectURI) {
				p.Refused.Add(1)
				refuseRedirectURI(w, redirectURI)
				return
			}
			if deny != "" {
				u, err := url.Parse(redirectURI)
				if err != nil || u.Scheme == "" {
					http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
					return
				}
				q := u.Query()
				q.Set("error", deny)
				q.Set("error_description", "The user denied the request")
				q.Set("state", r.Form.Get("state"))
				u.RawQuery = q.Encode()
				http.Redirect(w, r, u.String(), http.StatusFound)
				return
			}
			p.m.QueueUser(user(email))
		}
		next.ServeHTTP(w, r)
	})
}

// user is the mock user for email: a stable subject derived from it.
func user(email string) *mockoidc.MockUser {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	name, _, _ := strings.Cut(email, "@")
	return &mockoidc.MockUser{Subject: hex.EncodeToString(sum[:8]), Email: email, EmailVerified: true, PreferredUsername: name}
}

// signInPage is the provider's page for a person: a button that goes on
// with the same request, pressed by the page itself after after (> 0).
func signInPage(w http.ResponseWriter, r *http.Request, after time.Duration) {
	q := r.URL.Query()
	q.Set("authtui_signed_in", "1")
	next := r.URL.Path + "?" + q.Encode()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	auto := ""
	if after > 0 {
		auto = fmt.Sprintf("<script>setTimeout(() => { location.href = %q }, %d)</script>", next, after.Milliseconds())
	}
	fmt.Fprintf(w, "<!doctype html><title>Sign in</title><h1>Sign in to the test provider</h1><a id=go href=\"%s\">Continue</a>%s\n", html.EscapeString(next), auto)
}

// refuseRedirectURI answers like Google's "Error 400: redirect_uri_mismatch"
// page: a page for the person, no redirect back to the application.
func refuseRedirectURI(w http.ResponseWriter, got string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<!doctype html><title>Error 400: redirect_uri_mismatch</title><h1>Access blocked: this app's request is invalid</h1><p>Error 400: redirect_uri_mismatch</p><p>The redirect URI in the request, %s, does not match the ones authorized for the OAuth client.</p>\n", html.EscapeString(got))
}
