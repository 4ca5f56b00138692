package jwtcheck

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const password = "correct horse battery staple"

// jwtOptions start a real BetterAuth with the jwt() plugin on its own
// PostgreSQL database (the plugin keeps its keys in the jwks table).
func jwtOptions(t *testing.T, extra ...string) batest.Options {
	return batest.Options{DatabaseURL: pgtest.DSN(t), ExtraEnv: append([]string{"FIXTURE_JWT=1"}, extra...)}
}

// get sends GET path with the session cookie and returns the response and
// its body (at most 64 KiB).
func get(t *testing.T, srv *batest.Server, path, cookie string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return res, body
}

// tokenOf is GET /api/auth/token's {"token": JWT}.
func tokenOf(t *testing.T, srv *batest.Server, sess batest.Session) string {
	t.Helper()
	res, body := get(t, srv, "/api/auth/token", sess.CookieHeader)
	var out struct {
		Token string `json:"token"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Token == "" {
		t.Fatalf("GET /api/auth/token: HTTP %d, %d bytes of body without a token", res.StatusCode, len(body))
	}
	return out.Token
}

// sessionJWT is the set-auth-jwt header get-session answers with.
func sessionJWT(t *testing.T, srv *batest.Server, sess batest.Session) string {
	t.Helper()
	res, _ := get(t, srv, "/api/auth/get-session", sess.CookieHeader)
	tok := res.Header.Get("set-auth-jwt")
	if res.StatusCode != http.StatusOK || tok == "" {
		t.Fatalf("get-session: HTTP %d, set-auth-jwt present: %v", res.StatusCode, tok != "")
	}
	return tok
}

func fetch(t *testing.T, srv *batest.Server) *jose.JSONWebKeySet {
	t.Helper()
	set, err := FetchJWKS(context.Background(), nil, JWKSURL(srv.URL), 10*time.Second)
	if err != nil {
		t.Fatalf("FetchJWKS: %v", err)
	}
	return set
}

// assertClean fails when any output of rep holds the token beyond its
// prefix: the signature part, or the payload part.
func assertClean(t *testing.T, rep Report, raw string) {
	t.Helper()
	parts := strings.Split(raw, ".")
	out, _ := json.Marshal(rep)
	for _, p := range parts[1:] {
		if len(p) >= 12 && strings.Contains(string(out), p[:12]) {
			t.Fatalf("the report shows part of the token beyond its prefix")
		}
	}
	if strings.Contains(string(out), raw) {
		t.Fatalf("the report shows the raw token")
	}
}

func ids(l finding.List) []finding.ID {
	out := []finding.ID{}
	for _, f := range l {
		out = append(out, f.ID)
	}
	return out
}

func onlyFinding(t *testing.T, rep Report, id finding.ID) finding.Finding {
	t.Helper()
	if len(rep.Findings) != 1 || rep.Findings[0].ID != id {
		t.Fatalf("findings %v, want only %s", ids(rep.Findings), id)
	}
	return rep.Findings[0]
}

// One real server serves every check on its tokens; each subtest moves
// only what it is about (the clock, the expectations, the jwks table).
func TestRealServer(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_JWT=1"}})
	user := batest.SignUp(t, srv.URL, "jwt-ada@example.com", password)
	sess := batest.SignIn(t, srv.URL, "jwt-ada@example.com", password)

	tok := tokenOf(t, srv, sess)
	hdr := sessionJWT(t, srv, sess)
	set := fetch(t, srv)
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS of a fresh server: %d keys, want 1", len(set.Keys))
	}
	base := []Expected{{Label: "auth server", Value: srv.BaseURL}}

	t.Run("valid", func(t *testing.T) {
		for name, raw := range map[string]string{"GET /api/auth/token": tok, "set-auth-jwt": hdr} {
			if !Looks(raw) {
				t.Errorf("%s: Looks is false", name)
			}
			rep := Verify(raw, set, Options{Issuers: base, Audiences: base})
			if rep.Signature != SignatureValid || len(rep.Findings) != 0 {
				t.Fatalf("%s: signature %q, findings %v", name, rep.Signature, ids(rep.Findings))
			}
			tk := rep.Token
			if tk.Alg != "EdDSA" || tk.Kid == "" || rep.KeyID != set.Keys[0].KeyID || tk.Kid != rep.KeyID {
				t.Errorf("%s: alg %q kid %q, key %q (JWKS has %q)", name, tk.Alg, tk.Kid, rep.KeyID, set.Keys[0].KeyID)
			}
			if tk.Issuer != srv.BaseURL || len(tk.Audience) != 1 || tk.Audience[0] != srv.BaseURL {
				t.Errorf("%s: iss %q aud %q, want both %q", name, tk.Issuer, tk.Audience, srv.BaseURL)
			}
			if life := tk.Expires.Sub(tk.IssuedAt); life != 900*time.Second {
				t.Errorf("%s: exp - iat = %s, want 15m", name, life)
			}
			if d := time.Since(tk.IssuedAt); d < -time.Minute || d > time.Minute {
				t.Errorf("%s: iat %s is not now", name, tk.IssuedAt)
			}
			if tk.Subject != user.ID || tk.Email != "jwt-ada@example.com" {
				t.Errorf("%s: sub %q email %q, want %q jwt-ada@example.com", name, tk.Subject, tk.Email, user.ID)
			}
			if tk.Prefix != textsafe.TokenPrefix(raw) {
				t.Errorf("%s: prefix %q", name, tk.Prefix)
			}
			assertClean(t, rep, raw)
		}
	})

	t.Run("expired", func(t *testing.T) {
		// A real token and the clock moved on: 16 minutes after iat is a
		// minute past its 15-minute life, well beyond the 30 s skew.
		tk, err := Parse(tok)
		if err != nil {
			t.Fatal(err)
		}
		rep := Verify(tok, set, Options{Now: tk.IssuedAt.Add(16 * time.Minute)})
		f := onlyFinding(t, rep, finding.JWTExpired)
		if rep.Signature != SignatureValid || !strings.Contains(f.Message, "1m0s ago") || !strings.Contains(f.Message, "15m0s") {
			t.Errorf("signature %q, message %q", rep.Signature, f.Message)
		}
		assertClean(t, rep, tok)
		// Within the skew is not expired yet.
		if rep := Verify(tok, set, Options{Now: tk.Expires.Add(20 * time.Second)}); len(rep.Findings) != 0 {
			t.Errorf("20 s after exp, within the 30 s skew: %v", ids(rep.Findings))
		}
	})

	t.Run("not yet valid", func(t *testing.T) {
		// The same real token judged by a clock 5 minutes behind the
		// server's: its iat is in the future.
		tk, _ := Parse(tok)
		rep := Verify(tok, set, Options{Now: tk.IssuedAt.Add(-5 * time.Minute)})
		f := onlyFinding(t, rep, finding.JWTNotYetValid)
		if !strings.Contains(f.Message, "iat ") || !strings.Contains(f.Message, "in 5m0s") {
			t.Errorf("message %q", f.Message)
		}
	})

	t.Run("wrong audience", func(t *testing.T) {
		rep := Verify(tok, set, Options{Issuers: base, Audiences: []Expected{{Label: "api", Value: "https://api.example.com"}}})
		f := onlyFinding(t, rep, finding.JWTAudienceMismatch)
		for _, want := range []string{`api expects "https://api.example.com"`, `aud ["` + srv.BaseURL + `"]`, "jwt.audience"} {
			if !strings.Contains(f.Message, want) {
				t.Errorf("message %q lacks %q", f.Message, want)
			}
		}
		// Every party must find its audience: the base URL alone is not enough
		// when an API also checks its own.
		rep = Verify(tok, set, Options{Audiences: append(base, Expected{Label: "api", Value: "https://api.example.com"})})
		f = onlyFinding(t, rep, finding.JWTAudienceMismatch)
		if strings.Contains(f.Message, "auth server expects") {
			t.Errorf("names a met expectation: %q", f.Message)
		}
	})

	t.Run("wrong issuer", func(t *testing.T) {
		want := []Expected{{Label: ".env.production", Value: "https://auth.example.com"}, {Label: "api/.env", Value: srv.BaseURL + "/"}}
		rep := Verify(tok, set, Options{Issuers: want})
		f := onlyFinding(t, rep, finding.JWTIssuerMismatch)
		for _, s := range []string{`iss "` + srv.BaseURL + `"`, `.env.production expects "https://auth.example.com"`, `api/.env expects "` + srv.BaseURL + `/"`, "trailing slash", "BETTER_AUTH_URL"} {
			if !strings.Contains(f.Message, s) {
				t.Errorf("message %q lacks %q", f.Message, s)
			}
		}
		// One source that expects it is enough.
		if rep := Verify(tok, set, Options{Issuers: append(want, base...)}); len(rep.Findings) != 0 {
			t.Errorf("with the server's base URL among the issuers: %v", ids(rep.Findings))
		}
	})

	t.Run("tampered", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		// One character in the middle of the signature (the last one may
		// carry only padding bits).
		sig := []byte(parts[2])
		i := len(sig) / 2
		if sig[i] == 'A' {
			sig[i] = 'B'
		} else {
			sig[i] = 'A'
		}
		flipped := parts[0] + "." + parts[1] + "." + string(sig)
		rep := Verify(flipped, set, Options{})
		onlyFinding(t, rep, finding.JWTSignatureInvalid)
		if rep.Signature != SignatureInvalid {
			t.Errorf("signature %q", rep.Signature)
		}
		assertClean(t, rep, flipped)

		// The payload edited to another user, the signature kept.
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(payload), "jwt-ada@example.com", "jwt-eve@example.com", 1)
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(edited)) + "." + parts[2]
		rep = Verify(forged, set, Options{})
		onlyFinding(t, rep, finding.JWTSignatureInvalid)
		if rep.Token.Email != "jwt-eve@example.com" {
			t.Errorf("the forged token decodes to %q", rep.Token.Email)
		}
	})

	t.Run("malformed", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		// Cut while copying: the payload loses its end.
		cut := parts[0] + "." + parts[1][:len(parts[1])/2] + "." + parts[2]
		if !Looks(cut) {
			t.Fatal("a cut token should still look like a JWT")
		}
		rep := Verify(cut, set, Options{})
		f := onlyFinding(t, rep, finding.JWTMalformed)
		if rep.Signature != "" || !strings.Contains(f.Message, "payload") {
			t.Errorf("signature %q message %q", rep.Signature, f.Message)
		}
		assertClean(t, rep, cut)
		if _, err := Parse(parts[0] + "." + parts[1]); err == nil || strings.Contains(err.Error(), parts[1][:12]) {
			t.Errorf("two parts: %v", err)
		}
		if Looks(sess.SessionCookie) {
			t.Error("a signed session cookie looks like a JWT")
		}
	})

	t.Run("no JWKS", func(t *testing.T) {
		// The JWKS could not be fetched: the claims are still judged.
		rep := Verify(tok, nil, Options{Audiences: []Expected{{Label: "api", Value: "api"}}})
		if rep.Signature != "" || !rep.Findings.Has(finding.JWTAudienceMismatch) || len(rep.Findings) != 1 {
			t.Errorf("signature %q findings %v", rep.Signature, ids(rep.Findings))
		}
	})

	// Last: it changes the server's keys.
	t.Run("rotation", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		tag, err := conn.Exec(ctx, `DELETE FROM jwks`)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("DELETE FROM jwks: %v (%d rows)", err, tag.RowsAffected())
		}
		fresh := tokenOf(t, srv, sess) // the server mints a new key
		rotated := fetch(t, srv)
		old := Verify(tok, rotated, Options{})
		f := onlyFinding(t, old, finding.JWTKeyUnknown)
		if old.Signature != SignatureKeyUnknown || !strings.Contains(f.Message, "Rotated: the JWKS no longer has the key this token was signed with; the jwks table lost or replaced its key") {
			t.Errorf("old token: signature %q message %q", old.Signature, f.Message)
		}
		if !strings.Contains(f.Message, old.Token.Kid) || !strings.Contains(f.Message, rotated.Keys[0].KeyID) {
			t.Errorf("message names neither the token's kid nor the JWKS's: %q", f.Message)
		}
		assertClean(t, old, tok)
		if rep := Verify(fresh, rotated, Options{Issuers: base, Audiences: base}); rep.Signature != SignatureValid || len(rep.Findings) != 0 {
			t.Errorf("new token: signature %q findings %v", rep.Signature, ids(rep.Findings))
		}
		if rep := Verify(fresh, set, Options{}); rep.Signature != SignatureKeyUnknown {
			t.Errorf("new token against the old JWKS: %q", rep.Signature)
		}
	})
}

// Tokens and JWKS from other servers: one with its own database (its own
// keys), with the cookie cache's HS256 JWT too, and one without jwt().
func TestOtherServers(t *testing.T) {
	srvs := batest.StartAll(t,
		jwtOptions(t),
		jwtOptions(t, "FIXTURE_CACHE=jwt"),
		batest.Options{},
	)
	home, other, plain := srvs[0], srvs[1], srvs[2]
	batest.SignUp(t, home.URL, "home@example.com", password)
	batest.SignUp(t, other.URL, "other@example.com", password)
	homeTok := tokenOf(t, home, batest.SignIn(t, home.URL, "home@example.com", password))
	otherSess := batest.SignIn(t, other.URL, "other@example.com", password)
	otherTok := tokenOf(t, other, otherSess)
	homeSet := fetch(t, home)

	t.Run("foreign token", func(t *testing.T) {
		rep := Verify(otherTok, homeSet, Options{})
		onlyFinding(t, rep, finding.JWTKeyUnknown)
		if rep.Signature != SignatureKeyUnknown {
			t.Errorf("signature %q", rep.Signature)
		}
		if rep := Verify(homeTok, homeSet, Options{}); rep.Signature != SignatureValid {
			t.Errorf("home token: %q %v", rep.Signature, ids(rep.Findings))
		}
		if rep := Verify(otherTok, fetch(t, other), Options{}); rep.Signature != SignatureValid {
			t.Errorf("other token against its own JWKS: %q %v", rep.Signature, ids(rep.Findings))
		}
	})

	t.Run("cookie cache JWT", func(t *testing.T) {
		var cache string
		for _, c := range otherSess.Cookies {
			if strings.HasSuffix(c.Name, ".session_data") {
				cache = c.Value
			}
		}
		if cache == "" {
			t.Fatal("no session_data cookie with FIXTURE_CACHE=jwt")
		}
		if !Looks(cache) {
			t.Fatal("the jwt cookie cache should look like a JWT")
		}
		rep := Verify(cache, homeSet, Options{})
		f := onlyFinding(t, rep, finding.JWTAlgUnsupported)
		if rep.Signature != SignatureUnsupported || rep.Token.Alg != "HS256" || !strings.Contains(f.Message, "session_data") {
			t.Errorf("signature %q alg %q message %q", rep.Signature, rep.Token.Alg, f.Message)
		}
		assertClean(t, rep, cache)
	})

	t.Run("no jwt plugin", func(t *testing.T) {
		_, err := FetchJWKS(context.Background(), nil, JWKSURL(plain.URL), 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "jwt() plugin") {
			t.Errorf("JWKS of a server without jwt(): %v", err)
		}
	})
}

func TestFetchJWKSHangs(t *testing.T) {
	addr := testenv.SilentListener(t)
	start := time.Now()
	_, err := FetchJWKS(context.Background(), nil, "http://"+addr+JWKSPath+"?token=secret-value", 300*time.Millisecond)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s with a 300ms timeout", took)
	}
	if err == nil || !strings.Contains(err.Error(), "no complete answer within 300ms") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), "secret-value") {
		t.Errorf("the error shows the query: %v", err)
	}

	// Headers sent, then the body never ends: the timeout covers it too.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys":[`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer slow.Close()
	start = time.Now()
	_, err = FetchJWKS(context.Background(), nil, slow.URL, 300*time.Millisecond)
	if took := time.Since(start); took > 2*time.Second || err == nil || !strings.Contains(err.Error(), "no complete answer") {
		t.Errorf("a body that never ends: %v after %s", err, took)
	}

	// The caller's context ends first.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FetchJWKS(ctx, nil, "http://"+addr, time.Minute); err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("cancelled context: %v", err)
	}
}

// What a JWKS URL answers when it does not reach a JWKS: the body is never
// quoted, and the size cap holds against an answer without end.
func TestFetchJWKSGarbage(t *testing.T) {
	cases := map[string]struct {
		status int
		body   string
		stream bool // write endlessly until the client stops reading
		want   string
	}{
		"endless":   {status: 200, stream: true, want: "more than 1048576 bytes"},
		"html":      {status: 200, body: "<!doctype html><html>app</html>", want: "HTML page"},
		"not json":  {status: 200, body: "garbage \x1b[31m", want: "not JSON"},
		"no keys":   {status: 200, body: `{"token":"x"}`, want: `without a "keys" list`},
		"bad keys":  {status: 200, body: `{"keys":[{"kty":"zzz","kid":"a"},{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, want: "none of the JWKS's 2 key(s)"},
		"oct key":   {status: 200, body: `{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ","kid":"h"}]}`, want: "symmetric"},
		"error 500": {status: 500, body: `{"message":"db down"}`, want: "HTTP 500"},
		"redirect":  {status: 302, want: "redirect"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.status == 302 {
					w.Header().Set("Location", "https://login.example.com/?next=secret-next")
				}
				w.WriteHeader(c.status)
				if !c.stream {
					io.WriteString(w, c.body)
					return
				}
				chunk := []byte(strings.Repeat(`{"keys":[`, 4096))
				for r.Context().Err() == nil {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}))
			defer srv.Close()
			_, err := FetchJWKS(context.Background(), nil, srv.URL+JWKSPath, 5*time.Second)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "db down") || strings.Contains(err.Error(), "\x1b") || strings.Contains(err.Error(), "secret-next") {
				t.Errorf("the error shows what the server sent: %q", err)
			}
		})
	}
	if _, err := FetchJWKS(context.Background(), nil, "file:///etc/passwd", time.Second); err == nil {
		t.Error("a file URL")
	}
}

func TestJWKSURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:3000":             "http://127.0.0.1:3000/api/auth/jwks",
		"https://auth.example.com/":         "https://auth.example.com/api/auth/jwks",
		"https://auth.example.com/api/auth": "https://auth.example.com/api/auth/jwks",
	} {
		if got := JWKSURL(in); got != want {
			t.Errorf("JWKSURL(%q) = %q, want %q", in, got, want)
		}
	}
}
