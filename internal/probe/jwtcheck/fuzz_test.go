package jwtcheck

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// fixedKey is an Ed25519 key from a fixed seed, so that fuzz seeds are
// real signed tokens and the same on every run (it signs nothing but them).
var fixedKey = ed25519.NewKeyFromSeed([]byte("authtui-jwtcheck-fuzz-seed-32byt"))

// sign makes a real JWS with go-jose; kid "" leaves the header without one.
func sign(t testing.TB, alg jose.SignatureAlgorithm, priv any, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jwksOf publishes public keys the way a JWKS endpoint does (JSON), read
// back with ParseJWKS.
func jwksOf(t testing.TB, keys ...jose.JSONWebKey) *jose.JSONWebKeySet {
	t.Helper()
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	set, err := ParseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func claimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss": "https://auth.example.com", "aud": "https://auth.example.com", "sub": "user-1",
		"email": "ada@example.com", "iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
}

// Every algorithm the jwt() plugin can be configured with verifies, with
// keys that went through a JWKS document.
func TestAlgorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	keys := map[jose.SignatureAlgorithm][2]any{
		jose.EdDSA: {fixedKey, fixedKey.Public()},
		jose.ES256: {p256, &p256.PublicKey},
		jose.ES512: {p521, &p521.PublicKey},
		jose.PS256: {rsaKey, &rsaKey.PublicKey},
		jose.RS256: {rsaKey, &rsaKey.PublicKey},
	}
	if len(keys) != len(Algorithms) {
		t.Fatalf("%d algorithms tested, %d supported", len(keys), len(Algorithms))
	}
	now := time.Now()
	for alg, pair := range keys {
		kid := "kid-" + string(alg)
		tok := sign(t, alg, pair[0], kid, claimsAt(now))
		set := jwksOf(t, jose.JSONWebKey{Key: pair[1], KeyID: kid, Algorithm: string(alg), Use: "sig"})
		if rep := Verify(tok, set, Options{Now: now}); rep.Signature != SignatureValid || len(rep.Findings) != 0 {
			t.Errorf("%s: %q %v", alg, rep.Signature, ids(rep.Findings))
		}
		// No kid: every key is tried.
		noKid := sign(t, alg, pair[0], "", claimsAt(now))
		if rep := Verify(noKid, set, Options{Now: now}); rep.Signature != SignatureValid || rep.KeyID != kid {
			t.Errorf("%s without kid: %q key %q", alg, rep.Signature, rep.KeyID)
		}
	}

	// The JWKS's key under this kid is for another algorithm.
	tok := sign(t, jose.ES256, p256, "shared", claimsAt(now))
	set := jwksOf(t, jose.JSONWebKey{Key: fixedKey.Public(), KeyID: "shared", Algorithm: "EdDSA"})
	rep := Verify(tok, set, Options{Now: now})
	if rep.Signature != SignatureInvalid || !rep.Findings.Has(finding.JWTSignatureInvalid) || !strings.Contains(rep.Findings[0].Message, "is for EdDSA") {
		t.Errorf("alg confusion: %q %v", rep.Signature, rep.Findings)
	}
	// No kid, and no key of the set verifies it.
	rep = Verify(sign(t, jose.ES256, p256, "", claimsAt(now)), set, Options{Now: now})
	if rep.Signature != SignatureKeyUnknown || !strings.Contains(rep.Findings[0].Message, "no kid") {
		t.Errorf("no kid, foreign key: %q %v", rep.Signature, rep.Findings)
	}

	// An unsigned token: alg none, empty signature.
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(claimsAt(now))
	none := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
	if !Looks(none) {
		t.Error("an alg none token should look like a JWT")
	}
	rep = Verify(none, set, Options{Now: now})
	if rep.Signature != SignatureUnsupported || !rep.Findings.Has(finding.JWTAlgUnsupported) || !strings.Contains(rep.Findings[0].Message, "unsigned") {
		t.Errorf("alg none: %q %v", rep.Signature, rep.Findings)
	}
}

// Claims of the wrong type, and the shapes RFC 7519 allows.
func TestParseClaims(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	head := enc([]byte(`{"alg":"EdDSA","kid":"k"}`))
	tok := func(payload string) string { return head + "." + enc([]byte(payload)) + ".c2ln" }
	for payload, wantErr := range map[string]string{
		`{"aud":["a","b"],"exp":1.5e9,"user":{"email":"n@example.com"}}`: "",
		`{"iss":1}`:          "iss",
		`{"aud":[1]}`:        "aud",
		`{"exp":"tomorrow"}`: "exp",
		`{"exp":1e300}`:      "out of range",
		`[]`:                 "JSON object",
		`{"a":1} {"b":2}`:    "JSON object",
		`null`:               "JSON object",
	} {
		tk, err := Parse(tok(payload))
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v", payload, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: error %v, want %q", payload, err, wantErr)
		case wantErr == "":
			if len(tk.Audience) != 2 || tk.Email != "n@example.com" || tk.Expires.Unix() != 1.5e9 {
				t.Errorf("%s: %+v", payload, tk)
			}
		}
	}
	big := tok(`{"pad":"` + strings.Repeat("x", MaxTokenBytes) + `"}`)
	if _, err := Parse(big); err == nil || Looks(big) {
		t.Error("a token over 16 KiB")
	}
	if _, err := Parse("Bearer " + tok(`{}`)); err != nil {
		t.Errorf("with Bearer: %v", err)
	}
	if _, err := Parse("a.b.c.d.e"); err == nil || !strings.Contains(err.Error(), "JWE") {
		t.Errorf("five parts: %v", err)
	}
	// A claim with an escape sequence is shown inert.
	tk, err := Parse(tok(`{"iss":"https://a.example\u001b[2J","email":"x\u0007@example.com"}`))
	if err != nil || strings.ContainsAny(tk.Issuer+tk.Email, "\x1b\x07") {
		t.Errorf("control characters kept: %q %q (%v)", tk.Issuer, tk.Email, err)
	}
}

func fuzzSeeds(t testing.TB) []string {
	now := time.Unix(1767225600, 0) // fixed, so the seeds are too
	c := claimsAt(now)
	arr := claimsAt(now)
	arr["aud"] = []string{"https://auth.example.com", "api"}
	arr["nbf"] = 1767225600.25
	enc := base64.RawURLEncoding.EncodeToString
	return []string{
		sign(t, jose.EdDSA, fixedKey, "k1", c),
		sign(t, jose.EdDSA, fixedKey, "", arr),
		sign(t, jose.EdDSA, fixedKey, "k1", map[string]any{"exp": 1e300, "iss": []int{1}}),
		enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`{"session":{}}`)) + ".c2ln",
		enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(`{}`)) + ".",
		"eyJhbGciOiJFZERTQSJ9.e30",
		"a.b.c.d.e",
		"Bearer  x.y.z",
		"",
		"...",
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: fixedKey.Public(), KeyID: "k1", Algorithm: "EdDSA"}}}
	opts := Options{
		Now:       time.Unix(1767225600, 0),
		Issuers:   []Expected{{Label: "a", Value: "https://auth.example.com/"}},
		Audiences: []Expected{{Label: "api", Value: "api"}},
	}
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := Parse(s)
		if err == nil && !Looks(s) {
			t.Fatal("Parse accepts what Looks rejects")
		}
		if err != nil && textsafe.Clean(err.Error()) != err.Error() {
			t.Fatalf("error not clean: %q", err)
		}
		if tk != nil {
			for _, v := range append([]string{tk.Alg, tk.Kid, tk.Typ, tk.Issuer, tk.Subject, tk.Email}, tk.Audience...) {
				if textsafe.Clean(v) != v {
					t.Fatalf("token field not clean: %q", v)
				}
			}
		}
		rep := Verify(s, set, opts)
		// Verify says malformed exactly when Parse fails, or when go-jose
		// is stricter than Parse (then the signature counts as invalid).
		malformed := rep.Findings.Has(finding.JWTMalformed)
		if (err != nil && !malformed) || (err == nil && malformed && rep.Signature != SignatureInvalid) {
			t.Fatalf("Parse error %v, signature %q, findings %v", err, rep.Signature, ids(rep.Findings))
		}
		for _, f := range rep.Findings {
			if textsafe.Clean(f.Message) != f.Message || !f.ID.Known() {
				t.Fatalf("finding %s not clean: %q", f.ID, f.Message)
			}
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	for _, keys := range [][]jose.JSONWebKey{
		{{Key: fixedKey.Public(), KeyID: "k1", Algorithm: "EdDSA", Use: "sig"}},
		{{Key: &rsaKey.PublicKey, KeyID: "r", Algorithm: "RS256"}, {Key: fixedKey, KeyID: "private"}},
		{{Key: []byte("0123456789abcdef"), KeyID: "oct"}},
	} {
		b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := ParseJWKS(b)
		if err != nil {
			if textsafe.Clean(err.Error()) != err.Error() {
				t.Fatalf("error not clean: %q", err)
			}
			return
		}
		for _, k := range set.Keys {
			if _, sym := k.Key.([]byte); sym || !k.IsPublic() {
				t.Fatalf("kept a symmetric or private key %q", k.KeyID)
			}
		}
	})
}
