package probe

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/probe/textsafe"

	"github.com/authtui/authtui/internal/probe/finding"
)

// decodeWith decodes input against the candidates of the given sources.
func decodeWith(t *testing.T, input string, now time.Time, baseURL, origin string, sources ...Source) DecodeReport {
	t.Helper()
	return Decode(input, DecodeOptions{Candidates: Candidates(sources), BaseURL: baseURL, Origin: origin, Now: now})
}

func cookieOf(t *testing.T, rep DecodeReport, kind string) CookieReport {
	t.Helper()
	for _, c := range rep.Cookies {
		if c.Kind == kind {
			return c
		}
	}
	t.Fatalf("no %s cookie in report: %+v", kind, rep.Cookies)
	return CookieReport{}
}

func wantFindings(t *testing.T, fs finding.List, want ...finding.ID) {
	t.Helper()
	for _, id := range want {
		if !fs.Has(id) {
			t.Errorf("missing finding %s; got %s", id, ids(fs))
		}
	}
}

func noFindings(t *testing.T, fs finding.List, unwanted ...finding.ID) {
	t.Helper()
	for _, id := range unwanted {
		if fs.Has(id) {
			t.Errorf("unexpected finding %s; got %s", id, ids(fs))
		}
	}
}

func ids(fs finding.List) string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f.ID))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// Every capture's browser Cookie header verifies with the secret of the
// server that issued it, and the cache (where there is one) describes the
// session the token names.
func TestDecodeEveryFixtureVerifiesWithIssuerSecret(t *testing.T) {
	for _, name := range allFixtures(t) {
		f := loadFixture(t, name)
		if f.CookieHeader == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			env := f.Env
			if f.IssuerEnv != nil {
				env = f.IssuerEnv
			}
			rep := decodeWith(t, f.CookieHeader, captureTime(t, f), "", "", source("issuer.env", env))
			tok := cookieOf(t, rep, KindSessionToken)
			wantLabel := "issuer.env"
			if env["BETTER_AUTH_SECRET"] == "" && env["BETTER_AUTH_SECRETS"] == "" {
				wantLabel = DefaultLabel
			}
			if !slices.Contains(tok.VerifiedBy, wantLabel) {
				t.Fatalf("session_token verified_by %v, want %s", tok.VerifiedBy, wantLabel)
			}
			if tok.Token() != f.SessionToken {
				t.Errorf("token %q…, fixture session row token %q…", textsafe.TokenPrefix(tok.Token()), textsafe.TokenPrefix(f.SessionToken))
			}
			for _, c := range rep.Cookies {
				if c.Kind != KindSessionData {
					continue
				}
				if c.Cache == nil || !c.Cache.Readable || c.Signature != "valid" {
					t.Fatalf("cache not verified: %+v", c.Cache)
				}
				if c.Cache.Contents.token != f.SessionToken {
					t.Errorf("cache describes another token")
				}
				if c.Cache.Expired {
					t.Errorf("cache expired at capture time %v", c.Cache.ExpiresAt)
				}
			}
			noFindings(t, rep.Findings, finding.CookieSignatureBad, finding.CacheInvalid, finding.CookieMalformed,
				finding.CacheTokenMismatch, finding.CookieNone, finding.CacheExpired)
		})
	}
}

func TestDecodeNamesSignerAndFlagsOtherSource(t *testing.T) {
	f := loadFixture(t, "plain")
	auth := source("auth-service/.env", map[string]string{"BETTER_AUTH_SECRET": secretA})
	api := source("api/.env", map[string]string{"BETTER_AUTH_SECRET": secretC})
	rep := decodeWith(t, f.CookieHeader, captureTime(t, f), "", "", auth, api)
	tok := cookieOf(t, rep, KindSessionToken)
	if !slices.Equal(tok.VerifiedBy, []string{"auth-service/.env"}) {
		t.Fatalf("verified_by = %v", tok.VerifiedBy)
	}
	wantFindings(t, rep.Findings, finding.CookieSignerDiffers)
	for _, fd := range rep.Findings {
		if fd.ID == finding.CookieSignerDiffers && !(strings.Contains(fd.Message, "auth-service/.env") && strings.Contains(fd.Message, "api/.env")) {
			t.Errorf("signer-differs must name both sides: %s", fd.Message)
		}
	}
}

func TestDecodeTamperedSignature(t *testing.T) {
	f := loadFixture(t, "plain")
	// Flip one character of the signature, keeping its shape.
	h := f.CookieHeader
	i := strings.LastIndex(h, ".") + 1
	for h[i] == '%' || h[i-1] == '%' || h[i-2] == '%' { // stay outside %XX escapes
		i++
	}
	flipped := byte('A')
	if h[i] == 'A' {
		flipped = 'B'
	}
	tampered := h[:i] + string(flipped) + h[i+1:]
	rep := decodeWith(t, tampered, captureTime(t, f), "", "", source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA}))
	tok := cookieOf(t, rep, KindSessionToken)
	if tok.Signature != "invalid" || len(tok.VerifiedBy) != 0 {
		t.Fatalf("tampered cookie: signature %q verified_by %v", tok.Signature, tok.VerifiedBy)
	}
	wantFindings(t, rep.Findings, finding.CookieSignatureBad)
}

func TestDecodeDefaultSecret(t *testing.T) {
	f := loadFixture(t, "no-secret")
	rep := decodeWith(t, f.CookieHeader, captureTime(t, f), "", "", source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA}))
	tok := cookieOf(t, rep, KindSessionToken)
	if !slices.Equal(tok.VerifiedBy, []string{DefaultLabel}) {
		t.Fatalf("verified_by = %v", tok.VerifiedBy)
	}
	wantFindings(t, rep.Findings, finding.CookieSignedByDefault)
}

func TestDecodeRotation(t *testing.T) {
	rotation := source("rotation.env", map[string]string{"BETTER_AUTH_SECRETS": "2:" + secretB + ",1:" + secretA})

	t.Run("current version signs", func(t *testing.T) {
		f := loadFixture(t, "rotation")
		rep := decodeWith(t, f.CookieHeader, captureTime(t, f), "", "", rotation)
		tok := cookieOf(t, rep, KindSessionToken)
		if tok.Signature != "valid" || len(tok.Matches) != 1 || tok.Matches[0].Version != "2" {
			t.Fatalf("want a match with version 2, got %+v", tok.Matches)
		}
		cache := cookieOf(t, rep, KindSessionData).Cache
		if cache.Strategy != StrategyJWE || !strings.Contains(cache.KeyIDLabel, "rotation.env v2") {
			t.Errorf("jwe kid should name version 2: %+v", cache)
		}
		noFindings(t, rep.Findings, finding.CookieSignedByRetired, finding.CookieSignatureBad, finding.CacheInvalid)
	})
	t.Run("cookie from before the rotation", func(t *testing.T) {
		// The real server answered null for this cookie (rotation-old-cookie.json).
		f := loadFixture(t, "rotation-old-cookie")
		rep := decodeWith(t, f.CookieHeader, captureTime(t, f), "", "", rotation)
		tok := cookieOf(t, rep, KindSessionToken)
		if tok.Signature != "invalid" {
			t.Errorf("a retired version does not make the signature valid for the server")
		}
		wantFindings(t, rep.Findings, finding.CookieSignedByRetired)
		// The jwe cache, though, is decrypted with every version.
		if c := cookieOf(t, rep, KindSessionData); c.Signature != "valid" {
			t.Errorf("jwe cache with an older version should be accepted: %+v", c.Cache)
		}
	})
}

func TestDecodeCacheStrategies(t *testing.T) {
	for _, tc := range []struct{ fixture, strategy string }{
		{"cache-compact", StrategyCompact}, {"cache-jwt", StrategyJWT}, {"cache-jwe", StrategyJWE}, {"cache-chunked", StrategyCompact},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := loadFixture(t, tc.fixture)
			now := captureTime(t, f)
			good := source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA})
			rep := decodeWith(t, f.CookieHeader, now, "", "", good)
			c := cookieOf(t, rep, KindSessionData)
			if c.Cache.Strategy != tc.strategy {
				t.Fatalf("strategy %q, want %q", c.Cache.Strategy, tc.strategy)
			}
			if c.Cache.Contents == nil || c.Cache.Contents.Email != "alice@example.com" {
				t.Errorf("contents not decoded: %+v", c.Cache.Contents)
			}
			if tc.fixture == "cache-chunked" && c.Cache.Chunks != 3 {
				t.Errorf("chunks = %d, want 3", c.Cache.Chunks)
			}

			wrong := source("api.env", map[string]string{"BETTER_AUTH_SECRET": secretC})
			rep = decodeWith(t, f.CookieHeader, now, "", "", wrong)
			wantFindings(t, rep.Findings, finding.CacheInvalid, finding.CookieSignatureBad)

			rep = decodeWith(t, f.CookieHeader, now.Add(time.Hour), "", "", good)
			wantFindings(t, rep.Findings, finding.CacheExpired)
		})
	}
}

func TestDecodeCacheTokenMismatch(t *testing.T) {
	// A cache left over from sign-up next to the token from sign-in.
	f := loadFixture(t, "cache-compact")
	signUp, _ := f.exchange(t, "sign-up")
	signIn, _ := f.exchange(t, "sign-in")
	header := firstPair(signIn[0]) + "; " + firstPair(signUp[1])
	rep := decodeWith(t, header, captureTime(t, f), "", "", source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA}))
	wantFindings(t, rep.Findings, finding.CacheTokenMismatch)
}

func firstPair(setCookie string) string {
	pair, _, _ := strings.Cut(setCookie, ";")
	return pair
}

func TestDecodeChunkMissing(t *testing.T) {
	f := loadFixture(t, "cache-chunked")
	var kept []string
	for _, part := range strings.Split(f.CookieHeader, "; ") {
		if !strings.HasPrefix(part, "better-auth.session_data.1=") {
			kept = append(kept, part)
		}
	}
	rep := decodeWith(t, strings.Join(kept, "; "), captureTime(t, f), "", "", source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA}))
	wantFindings(t, rep.Findings, finding.CacheChunkMissing)
}

func TestDecodeBearer(t *testing.T) {
	f := loadFixture(t, "bearer")
	_, token := f.exchange(t, "sign-in")
	auth := source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA})
	for _, input := range []string{token, "Authorization: Bearer " + token, "set-auth-token: " + token, "Bearer " + token} {
		rep := decodeWith(t, input, captureTime(t, f), "", "", auth)
		c := cookieOf(t, rep, KindBearer)
		if !slices.Equal(c.VerifiedBy, []string{"auth.env"}) || c.Token() != f.SessionToken {
			t.Errorf("%.20q: verified_by %v", input, c.VerifiedBy)
		}
	}
}

func TestDecodeDontRemember(t *testing.T) {
	f := loadFixture(t, "plain-dont-remember")
	rep := decodeWith(t, f.CookieHeader, captureTime(t, f), "", "", source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA}))
	c := cookieOf(t, rep, KindDontRemember)
	if c.Signature != "valid" {
		t.Fatalf("dont_remember: %+v", c)
	}
}

func TestDecodeSetCookieLines(t *testing.T) {
	auth := source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA})

	t.Run("secure prefix over https", func(t *testing.T) {
		f := loadFixture(t, "secure")
		sc, _ := f.exchange(t, "sign-in")
		input := "Set-Cookie: " + strings.Join(sc, "\nSet-Cookie: ")
		rep := decodeWith(t, input, captureTime(t, f), "https://auth.example.com", "https://auth.example.com", auth)
		c := cookieOf(t, rep, KindSessionToken)
		if c.SetCookie == nil || !c.SetCookie.Secure || c.SetCookie.SameSite != "Lax" || *c.SetCookie.MaxAge != 604800 {
			t.Fatalf("attributes: %+v", c.SetCookie)
		}
		if rep.Findings.HasError() || rep.Findings.Has(finding.CookieNameMismatch) {
			t.Errorf("clean capture raised %s", ids(rep.Findings))
		}
		// The same cookie judged against an http base URL: the names disagree.
		rep = decodeWith(t, input, captureTime(t, f), "http://auth.example.com", "", auth)
		wantFindings(t, rep.Findings, finding.CookieNameMismatch, finding.SetCookieSecureOverHTTP)
		// A front end on another site cannot send a Lax cookie.
		rep = decodeWith(t, input, captureTime(t, f), "https://auth.example.com", "https://app.example.net", auth)
		wantFindings(t, rep.Findings, finding.SetCookieCrossSite)
	})

	t.Run("cross-subdomain SameSite=None", func(t *testing.T) {
		f := loadFixture(t, "cross-subdomain")
		sc, _ := f.exchange(t, "sign-in")
		rep := decodeWith(t, strings.Join(sc, "\n"), captureTime(t, f), "https://auth.example.com", "https://app.example.com", auth)
		c := cookieOf(t, rep, KindSessionToken)
		if c.SetCookie.Domain != "example.com" || c.SetCookie.SameSite != "None" {
			t.Fatalf("attributes: %+v", c.SetCookie)
		}
		noFindings(t, rep.Findings, finding.SetCookieDomainInvalid, finding.SetCookieCrossSite, finding.SetCookieThirdParty)
		rep = decodeWith(t, strings.Join(sc, "\n"), captureTime(t, f), "https://auth.example.com", "https://app.other.net", auth)
		wantFindings(t, rep.Findings, finding.SetCookieThirdParty)
		rep = decodeWith(t, strings.Join(sc, "\n"), captureTime(t, f), "https://auth.example.org", "", auth)
		wantFindings(t, rep.Findings, finding.SetCookieDomainInvalid)
	})

	t.Run("attribute faults on a real line", func(t *testing.T) {
		f := loadFixture(t, "cross-subdomain")
		sc, _ := f.exchange(t, "sign-in")
		line := sc[0]
		for _, tc := range []struct {
			edit func(string) string
			want finding.ID
		}{
			{func(s string) string { return strings.Replace(s, "; Secure", "", 1) }, finding.SetCookieSameSiteNoneInsecure},
			{func(s string) string { return strings.Replace(s, "; Secure", "", 1) }, finding.SetCookiePrefixInvalid},
			{func(s string) string { return strings.Replace(s, "Domain=example.com", "Domain=com", 1) }, finding.SetCookieDomainInvalid},
			{func(s string) string { return strings.Replace(s, "Domain=example.com", "Domain=127.0.0.1", 1) }, finding.SetCookieDomainInvalid},
			{func(s string) string { return strings.Replace(s, "__Secure-", "__Host-", 1) }, finding.SetCookiePrefixInvalid},
		} {
			edited := tc.edit(line)
			rep := decodeWith(t, "Set-Cookie: "+edited, captureTime(t, f), "https://auth.example.com", "", auth)
			wantFindings(t, rep.Findings, tc.want)
		}
	})

	t.Run("server clears the session", func(t *testing.T) {
		f := loadFixture(t, "no-row")
		sc, _ := f.exchange(t, "get-session")
		rep := decodeWith(t, strings.Join(sc, "\n"), time.Now(), "http://localhost:3000", "", auth)
		wantFindings(t, rep.Findings, finding.SetCookieCleared)
		noFindings(t, rep.Findings, finding.CookieNone, finding.CookieMalformed)
	})
}

func TestDecodeCookieFaults(t *testing.T) {
	f := loadFixture(t, "plain")
	auth := source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA})
	now := captureTime(t, f)
	name, value, _ := strings.Cut(f.CookieHeader, "=")
	token, _, _ := strings.Cut(value, ".")

	for _, tc := range []struct {
		name, input string
		want        finding.ID
	}{
		{"unsigned token", name + "=" + token, finding.CookieMalformed},
		{"truncated signature", name + "=" + value[:len(value)-8], finding.CookieMalformed},
		{"double encoded", name + "=" + strings.ReplaceAll(value, "%", "%25"), finding.CookieMalformed},
		{"duplicate", f.CookieHeader + "; " + f.CookieHeader, finding.CookieDuplicate},
		{"too large", f.CookieHeader + "; better-auth.session_data=" + strings.Repeat("x", 5000), finding.CookieTooLarge},
		{"dash separator", strings.Replace(f.CookieHeader, "better-auth.session_token", "better-auth-session_token", 1), finding.CookieNameMismatch},
		{"no BetterAuth cookie", "theme=dark; _ga=GA1.2.3", finding.CookieNone},
		{"garbage", "\x00\x01 ☃ not a cookie at all", finding.CookieNone},
		{"empty", "", finding.CookieNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := decodeWith(t, tc.input, now, "", "", auth)
			wantFindings(t, rep.Findings, tc.want)
		})
	}

	t.Run("cookie prefix", func(t *testing.T) {
		p := loadFixture(t, "prefix")
		rep := Decode(p.CookieHeader, DecodeOptions{Candidates: Candidates([]Source{auth}), CookiePrefix: "better-auth", Now: now})
		wantFindings(t, rep.Findings, finding.CookieNameMismatch)
		if c := cookieOf(t, rep, KindSessionToken); c.Parts.CookiePrefix != "myapp" || c.Signature != "valid" {
			t.Errorf("custom prefix cookie: %+v", c)
		}
	})
}

// A secret with a stray space and newline signs differently; the trimmed
// variant explains a cookie signed by a server whose secret was clean.
func TestDecodeWhitespaceSecret(t *testing.T) {
	ws := loadFixture(t, "secret-whitespace")
	plain := loadFixture(t, "plain")
	dirty := source("dirty.env", ws.Env)

	rep := decodeWith(t, ws.CookieHeader, captureTime(t, ws), "", "", dirty)
	if c := cookieOf(t, rep, KindSessionToken); !slices.Equal(c.VerifiedBy, []string{"dirty.env"}) {
		t.Fatalf("cookie of the dirty server: verified_by %v", c.VerifiedBy)
	}

	rep = decodeWith(t, plain.CookieHeader, captureTime(t, plain), "", "", dirty)
	c := cookieOf(t, rep, KindSessionToken)
	if c.Signature != "invalid" || len(c.Matches) != 1 || c.Matches[0].Role != RoleTrimmed {
		t.Fatalf("want only a trimmed match: %+v", c.Matches)
	}
	wantFindings(t, rep.Findings, finding.CookieSignatureBad)
}

func TestDecodeJSONShape(t *testing.T) {
	f := loadFixture(t, "cache-jwe")
	rep := decodeWith(t, f.CookieHeader, captureTime(t, f), "", "", source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA}))
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Cookies  []map[string]any `json:"cookies"`
		Findings []struct {
			ID, Severity, Message string
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Cookies) != 2 {
		t.Fatalf("cookies: %d", len(out.Cookies))
	}
	for _, c := range out.Cookies {
		for _, key := range []string{"name", "kind", "verified_by"} {
			if _, ok := c[key]; !ok {
				t.Errorf("cookie lacks %q: %v", key, c)
			}
		}
	}
	if strings.Contains(string(data), f.SessionToken) || strings.Contains(string(data), secretA) {
		t.Error("JSON carries the full session token or the secret")
	}
}
