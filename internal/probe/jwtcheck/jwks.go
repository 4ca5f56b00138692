package jwtcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

const (
	// JWKSPath is where the jwt() plugin serves its JWKS under the default
	// basePath /api/auth.
	JWKSPath = "/api/auth/jwks"
	// MaxJWKSBytes caps the JWKS body read: a JWKS of a few RSA keys is a
	// few KiB; a server answering more is not serving one.
	MaxJWKSBytes = 1 << 20
	// DefaultTimeout bounds FetchJWKS when its timeout is zero.
	DefaultTimeout = 10 * time.Second
	// maxKeys bounds how many keys a JWKS may list: every key is tried
	// for a token without kid.
	maxKeys = 100
)

// JWKSURL is the jwt() plugin's JWKS URL of a BetterAuth base URL
// (BETTER_AUTH_URL, with or without the /api/auth basePath).
func JWKSURL(baseURL string) string {
	base := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if strings.HasSuffix(base, "/api/auth") {
		return base + "/jwks"
	}
	return base + JWKSPath
}

// defaultClient follows no redirects: a JWKS URL that redirects (to a
// login page, to https) is reported as the redirect it is rather than as
// whatever page it leads to.
var defaultClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// FetchJWKS GETs the JWKS at jwksURL (JWKSURL(base) for a BetterAuth
// server) with ctx, within timeout (DefaultTimeout when zero) for the whole
// exchange, body included, and reads at most MaxJWKSBytes. client nil means
// a client that does not follow redirects. Errors name the URL without its
// userinfo or query and say what to check; they never hold the body.
func FetchJWKS(ctx context.Context, client *http.Client, jwksURL string, timeout time.Duration) (*jose.JSONWebKeySet, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if client == nil {
		client = defaultClient
	}
	shown := textsafe.URL(jwksURL)
	u, err := url.Parse(strings.TrimSpace(jwksURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("JWKS URL %s is not an http(s) URL", shown)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS URL %s: %s", shown, textsafe.Safe(err.Error()))
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, fetchError(ctx, shown, timeout, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxJWKSBytes+1))
	if err != nil {
		return nil, fetchError(ctx, shown, timeout, err)
	}
	if len(body) > MaxJWKSBytes {
		return nil, fmt.Errorf("GET %s answered more than %d bytes: that is no JWKS (a JWKS is a few KiB)", shown, MaxJWKSBytes)
	}
	switch {
	case res.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("GET %s answered 404: the server has no jwt() plugin, another basePath, or jwks.remoteUrl set (then the JWKS is served elsewhere)", shown)
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return nil, fmt.Errorf("GET %s answered %d, a redirect to %s: use the URL it redirects to", shown, res.StatusCode, textsafe.URL(res.Header.Get("Location")))
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s answered HTTP %d, not the JWKS: read the auth service's log", shown, res.StatusCode)
	}
	set, err := ParseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	return set, nil
}

// fetchError says what went wrong on the wire, without the URL again
// (net/http's errors repeat it, query included).
func fetchError(ctx context.Context, shown string, timeout time.Duration, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("GET %s: no complete answer within %s: the server hangs or is overloaded", shown, timeout)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("GET %s: cancelled", shown)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("GET %s: %s", shown, textsafe.Truncate(textsafe.Safe(err.Error()), 200))
}

// ParseJWKS reads a JWKS document (RFC 7517 section 5): {"keys":[…]}. Keys
// it cannot use are dropped: ones go-jose cannot read (unknown kty or
// curve, bad coordinates), symmetric keys (an "oct" key in a published
// JWKS would be a published secret, and never verifies the algorithms
// here), and keys for encryption (use "enc"). Private keys are kept as
// their public half only. A document whose keys are all unusable is an
// error, as is one over MaxJWKSBytes or with more than 100 keys; an empty
// keys list is not (the set then has no key, and every token is
// key-unknown).
func ParseJWKS(body []byte) (*jose.JSONWebKeySet, error) {
	if len(body) > MaxJWKSBytes {
		return nil, fmt.Errorf("the JWKS is more than %d bytes", MaxJWKSBytes)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return nil, errors.New("the answer is an HTML page, not a JWKS: the URL reaches a front end, not the auth service")
	}
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(trimmed, &doc); err != nil {
		return nil, errors.New("the answer is not JSON, so not a JWKS")
	}
	if doc.Keys == nil {
		return nil, errors.New(`the answer is JSON without a "keys" list: not a JWKS`)
	}
	raw := *doc.Keys
	if len(raw) > maxKeys {
		return nil, fmt.Errorf("the JWKS lists %d keys, more than the %d a real one has", len(raw), maxKeys)
	}
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	var firstProblem string
	for _, r := range raw {
		var k jose.JSONWebKey
		problem := ""
		switch err := k.UnmarshalJSON(r); {
		case err != nil:
			problem = joseProblem(err)
		case isSymmetric(k):
			problem = "a symmetric (oct) key"
		case !k.Valid():
			problem = "an invalid key"
		case k.Use == "enc":
			problem = `a key for encryption (use "enc")`
		}
		if problem != "" {
			if firstProblem == "" {
				firstProblem = problem
			}
			continue
		}
		if !k.IsPublic() {
			k = k.Public()
		}
		set.Keys = append(set.Keys, k)
	}
	if len(raw) > 0 && len(set.Keys) == 0 {
		return nil, fmt.Errorf("none of the JWKS's %d key(s) can verify a signature (the first: %s)", len(raw), firstProblem)
	}
	return set, nil
}

func isSymmetric(k jose.JSONWebKey) bool {
	_, sym := k.Key.([]byte)
	return sym
}

// joseProblem shortens go-jose's errors, which never contain key material.
func joseProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
	return textsafe.Truncate(msg, 120)
}
