package oidctest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func authorize(t *testing.T, p *Provider, redirectURI string) *http.Response {
	t.Helper()
	q := url.Values{"scope": {"openid email"}, "state": {"st4te"}, "client_id": {p.ClientID}, "response_type": {"code"}, "redirect_uri": {redirectURI}}
	resp, err := noRedirect().Get(p.AuthorizationEndpoint() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestOIDCProvider(t *testing.T) {
	p := Start(t, Options{Email: "ada@example.com", RedirectURIs: []string{"http://127.0.0.1:1/cb"}})
	resp, err := http.Get(p.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc.Issuer != p.Issuer {
		t.Fatalf("issuer %q, want %q", disc.Issuer, p.Issuer)
	}

	ok := authorize(t, p, "http://127.0.0.1:1/cb")
	loc, _ := url.Parse(ok.Header.Get("Location"))
	if ok.StatusCode != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st4te" {
		t.Fatalf("registered URI: %d %s", ok.StatusCode, loc)
	}

	bad := authorize(t, p, "http://localhost:1/cb")
	body, _ := io.ReadAll(bad.Body)
	if bad.StatusCode != http.StatusBadRequest || bad.Header.Get("Location") != "" || !strings.Contains(string(body), "redirect_uri_mismatch") {
		t.Fatalf("other URI: %d %q %s", bad.StatusCode, bad.Header.Get("Location"), body)
	}
	if p.Refused.Load() != 1 {
		t.Fatalf("refused %d", p.Refused.Load())
	}

	p.Deny("access_denied")
	denied := authorize(t, p, "http://127.0.0.1:1/cb")
	loc, _ = url.Parse(denied.Header.Get("Location"))
	if denied.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st4te" || loc.Query().Get("code") != "" {
		t.Fatalf("denied: %d %s", denied.StatusCode, loc)
	}

	p.Stop()
	if _, err := http.Get(p.DiscoveryURL()); err == nil {
		t.Fatal("stopped provider still answers")
	}
}
