package report

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// decFixture is one capture from the real better-auth server
// (testdata/betterauth/capture.mjs; regenerate with `make fixtures`).
type decFixture struct {
	Case         string            `json:"case"`
	Env          map[string]string `json:"env"`
	IssuerEnv    map[string]string `json:"issuer_env"`
	SessionToken string            `json:"session_token"`
	CookieHeader string            `json:"cookie_header"`
	Exchanges    []struct {
		Name         string          `json:"name"`
		SetCookie    []string        `json:"set_cookie"`
		SetAuthToken *string         `json:"set_auth_token"`
		Body         json.RawMessage `json:"body"`
	} `json:"exchanges"`
}

const decFixtureDir = "../../testdata/fixtures"

func decFixtures(t *testing.T) map[string]decFixture {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(decFixtureDir, "*.json"))
	if len(paths) == 0 {
		t.Fatal("no fixtures (regenerate with `make fixtures`)")
	}
	out := map[string]decFixture{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f decFixture
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = f
	}
	return out
}

func decFixtureNamed(t *testing.T, name string) decFixture {
	t.Helper()
	f, ok := decFixtures(t)[name]
	if !ok {
		t.Fatalf("no fixture %s", name)
	}
	return f
}

// issuer is the env of the server that issued the fixture's cookies.
func (f decFixture) issuer() map[string]string {
	if f.IssuerEnv != nil {
		return f.IssuerEnv
	}
	return f.Env
}

// captured is a moment inside the capture's validity window: caches
// carry a 5-minute expiry from when the fixture was captured.
func (f decFixture) captured(t *testing.T) time.Time {
	t.Helper()
	for _, e := range f.Exchanges {
		var body struct {
			User struct {
				UpdatedAt time.Time `json:"updatedAt"`
			} `json:"user"`
		}
		if json.Unmarshal(e.Body, &body) == nil && !body.User.UpdatedAt.IsZero() {
			return body.User.UpdatedAt.Add(time.Minute)
		}
	}
	// no-row holds only a get-session for a token the server never
	// issued: no cache, nothing that expires.
	if f.CookieHeader == "" {
		return time.Now()
	}
	t.Fatalf("fixture %s: no timestamp in any body", f.Case)
	return time.Time{}
}

// session is what the server's get-session answered: the session the
// fixture's cookies name.
func (f decFixture) session(t *testing.T) (id, userID, email, token string) {
	t.Helper()
	for _, e := range f.Exchanges {
		if e.Name != "get-session" {
			continue
		}
		var body struct {
			Session struct{ ID, UserID, Token string }
			User    struct{ Email string }
		}
		if err := json.Unmarshal(e.Body, &body); err != nil {
			t.Fatal(err)
		}
		return body.Session.ID, body.Session.UserID, body.User.Email, body.Session.Token
	}
	t.Fatalf("fixture %s has no get-session", f.Case)
	return
}

func (f decFixture) setCookies(t *testing.T, exchange string) []string {
	t.Helper()
	for _, e := range f.Exchanges {
		if e.Name == exchange {
			return e.SetCookie
		}
	}
	t.Fatalf("fixture %s has no exchange %s", f.Case, exchange)
	return nil
}

// decode decodes input at the capture time against sources named by
// label, each with its env.
func decDecode(t *testing.T, f decFixture, input string, sources ...probe.Source) probe.DecodeReport {
	t.Helper()
	return probe.Decode(input, probe.DecodeOptions{
		Candidates: probe.CheckSecrets(sources).Candidates,
		BaseURL:    f.issuer()["BETTER_AUTH_URL"],
		Now:        f.captured(t),
	})
}

func decSource(label string, env map[string]string) probe.Source {
	return probe.Source{Label: label, Vars: env}
}

// flat is text with every run of white space one space: a fact wrapped
// over two lines reads the same.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// decCookie is the block of the first cookie of kind.
func decCookie(t *testing.T, rep probe.DecodeReport, kind string) (probe.CookieReport, Block) {
	t.Helper()
	for _, c := range rep.Cookies {
		if c.Kind == kind {
			return c, DecodeCookie(c, rep.Database)
		}
	}
	t.Fatalf("no %s cookie in %+v", kind, rep.Cookies)
	return probe.CookieReport{}, Block{}
}

// lineOf is the text of the block's line labelled label.
func lineOf(t *testing.T, b Block, label string) string {
	t.Helper()
	for i, l := range b.Lines {
		if l.Label != label {
			continue
		}
		// An indented line without label below is part of it.
		text := []string{l.Text()}
		for _, more := range b.Lines[i+1:] {
			if more.Label != "" || more.Indent == 0 {
				break
			}
			text = append(text, more.Text())
		}
		return strings.Join(text, " | ")
	}
	t.Fatalf("%s has no %q line: %+v", b.Title, label, b.Lines)
	return ""
}

// Every capture's cookies, decoded against the issuing server's secret,
// read as verified by it, in the text and in every fact; against another
// server's secret they read as invalid. The facts are what the layout
// must show: each is in the text as printed.
func TestDecodeFixturesSignatureVerdict(t *testing.T) {
	other := map[string]string{"BETTER_AUTH_SECRET": "authtui-fixture-secret-C-00112233445566778899"}
	for name, f := range decFixtures(t) {
		if f.CookieHeader == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			issuer := f.issuer()
			// BETTER_AUTH_SECRETS wins, its first version signing.
			want := "issuer.env (current)"
			switch first, _, _ := strings.Cut(issuer["BETTER_AUTH_SECRETS"], ","); {
			case first != "":
				version, _, _ := strings.Cut(first, ":")
				want = "issuer.env v" + version + " (current)"
			case issuer["BETTER_AUTH_SECRET"] == "":
				want = probe.DefaultLabel + " (default)"
			}
			rep := decDecode(t, f, f.CookieHeader, decSource("issuer.env", issuer))
			text := flat(TextString(Decode(rep, DecodeOptions{}), TextOptions{Width: 80}))
			signed := 0
			for _, c := range rep.Cookies {
				if c.Signature == "" {
					continue
				}
				signed++
				b := DecodeCookie(c, rep.Database)
				if got := lineOf(t, b, "signature"); got != "✓ valid, verified by "+want {
					t.Errorf("%s: signature %q, want verified by %s", c.Name, got, want)
				}
			}
			if signed == 0 || !strings.Contains(text, "✓ valid, verified by "+want) {
				t.Errorf("%d signed cookies; text:\n%s", signed, text)
			}
			for _, fact := range Facts(Decode(rep, DecodeOptions{})) {
				if !strings.Contains(text, flat(fact)) {
					t.Errorf("the text lacks the fact %q:\n%s", fact, text)
				}
			}

			if issuer["BETTER_AUTH_SECRET"] == other["BETTER_AUTH_SECRET"] || strings.HasPrefix(want, probe.DefaultLabel) {
				return // the other secret is the issuer's, or the default signs
			}
			rep = decDecode(t, f, f.CookieHeader, decSource("other.env", other))
			c, b := decCookie(t, rep, probe.KindSessionToken)
			if got := lineOf(t, b, "signature"); c.Signature != "invalid" || got != "✗ invalid: no candidate secret verifies it" {
				t.Errorf("against another secret: %s %q", c.Signature, got)
			}
		})
	}
}

// A cookie signed with a secret the server keeps only as an older
// BETTER_AUTH_SECRETS version is invalid there, and the line names the
// version that matches.
func TestDecodeRotationOldCookieMatchesOnly(t *testing.T) {
	f := decFixtureNamed(t, "rotation-old-cookie")
	rep := decDecode(t, f, f.CookieHeader, decSource("server.env", f.Env))
	c, b := decCookie(t, rep, probe.KindSessionToken)
	got := lineOf(t, b, "signature")
	if c.Signature != "invalid" || got != "✗ invalid for every server as configured; matches only server.env v1 (BETTER_AUTH_SECRETS, previous)" {
		t.Errorf("%s: %q", c.Signature, got)
	}
	// The rotated server's current secret (v2) signs: it is the one named
	// as current.
	rep = decDecode(t, decFixtureNamed(t, "rotation"), decFixtureNamed(t, "rotation").CookieHeader, decSource("server.env", f.Env))
	if _, b := decCookie(t, rep, probe.KindSessionToken); lineOf(t, b, "signature") != "✓ valid, verified by server.env v2 (current)" {
		t.Errorf("rotation: %q", lineOf(t, b, "signature"))
	}
}

// The caches read as the server that wrote them answered get-session:
// the same session, user, email and token; a JWE names its key by kid,
// and the cache's expiry is shown, marked once it has passed.
func TestDecodeFixtureCaches(t *testing.T) {
	for _, tc := range []struct{ fixture, strategy string }{
		{"cache-compact", "compact"}, {"cache-jwt", "jwt"}, {"cache-jwe", "jwe"}, {"cache-chunked", "compact, 3 chunks"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := decFixtureNamed(t, tc.fixture)
			rep := decDecode(t, f, f.CookieHeader, decSource("issuer.env", f.issuer()))
			c, b := decCookie(t, rep, probe.KindSessionData)
			id, user, email, token := f.session(t)
			cache := lineOf(t, b, "cache")
			if !strings.HasPrefix(cache, tc.strategy+" | expires "+Time(c.Cache.ExpiresAt)) || strings.Contains(cache, "expired") {
				t.Errorf("cache line %q", cache)
			}
			if got, want := lineOf(t, b, "contents"), "session "+id+" | user "+user+" "+email+" | token "+textsafe.TokenPrefix(token); got != want {
				t.Errorf("contents %q, want %q", got, want)
			}
			if tc.strategy == "jwe" {
				kid := jweKid(t, strings.TrimPrefix(f.CookieHeader[strings.Index(f.CookieHeader, "session_data="):], "session_data="))
				if !strings.Contains(cache, "kid "+kid[:15]+"… (key of issuer.env)") {
					t.Errorf("no kid %s… of issuer.env in %q", kid[:15], cache)
				}
			} else if strings.Contains(cache, "kid ") {
				t.Errorf("a %s cache has no kid: %q", tc.strategy, cache)
			}
			// A day later the same cache has expired, and says so.
			late := probe.Decode(f.CookieHeader, probe.DecodeOptions{Candidates: probe.CheckSecrets([]probe.Source{decSource("issuer.env", f.issuer())}).Candidates, Now: f.captured(t).Add(24 * time.Hour)})
			if _, b := decCookie(t, late, probe.KindSessionData); !strings.Contains(lineOf(t, b, "cache"), "! expired "+Time(c.Cache.ExpiresAt)) {
				t.Errorf("expired cache: %q", lineOf(t, b, "cache"))
			}
		})
	}
}

// jweKid is the kid of a JWE's protected header.
func jweKid(t *testing.T, v string) string {
	t.Helper()
	head, _, _ := strings.Cut(v, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(raw, &h); err != nil || len(h.Kid) < 16 {
		t.Fatalf("JWE header %s: %v", raw, err)
	}
	return h.Kid
}

// The attributes of the Set-Cookie lines the server sent at sign-in, as
// a browser weighs them.
func TestDecodeFixtureAttributes(t *testing.T) {
	week := "Max-Age=604800 (7d00h)"
	for _, tc := range []struct {
		fixture, cookie, want string
	}{
		{"plain", "better-auth.session_token", "SameSite=Lax; HttpOnly; Path=/; " + week},
		{"secure", "__Secure-better-auth.session_token", "SameSite=Lax; Secure; HttpOnly; Path=/; " + week},
		{"cross-subdomain", "__Secure-better-auth.session_token", "SameSite=None; Secure; HttpOnly; Domain=example.com; Path=/; " + week},
		{"plain-dont-remember", "better-auth.session_token", "SameSite=Lax; HttpOnly; Path=/; session cookie (no Max-Age)"},
		{"cache-jwe", "better-auth.session_data", "SameSite=Lax; HttpOnly; Path=/; Max-Age=300 (5m)"},
		{"prefix", "myapp.session_token", "SameSite=Lax; HttpOnly; Path=/; " + week},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := decFixtureNamed(t, tc.fixture)
			lines := f.setCookies(t, "sign-in")
			rep := decDecode(t, f, "Set-Cookie: "+strings.Join(lines, "\nSet-Cookie: "), decSource("issuer.env", f.issuer()))
			var found bool
			for _, c := range rep.Cookies {
				if c.Name != tc.cookie {
					continue
				}
				found = true
				if got := lineOf(t, DecodeCookie(c, ""), "attributes"); got != tc.want {
					t.Errorf("attributes %q, want %q", got, tc.want)
				}
			}
			if !found {
				t.Fatalf("no %s among %d cookies", tc.cookie, len(rep.Cookies))
			}
			text := TextString(Decode(rep, DecodeOptions{}), TextOptions{})
			if strings.Contains(text, "Partitioned") || strings.Contains(text, "CLEARED") {
				t.Errorf("the server set neither Partitioned nor a cleared cookie:\n%s", text)
			}
		})
	}
}

// No capture has a Partitioned or a cleared cookie (auth.mjs has no
// option for the first, and no exchange signs out): the real sign-in line
// with the attribute added, or its Max-Age set to 0, shows them.
func TestDecodePartitionedAndCleared(t *testing.T) {
	f := decFixtureNamed(t, "secure")
	line := f.setCookies(t, "sign-in")[0]
	for _, tc := range []struct{ line, want string }{
		{line + "; Partitioned", "SameSite=Lax; Secure; HttpOnly; Partitioned; Path=/; Max-Age=604800 (7d00h)"},
		{strings.Replace(line, "Max-Age=604800", "Max-Age=0", 1), "SameSite=Lax; Secure; HttpOnly; Path=/; Max-Age=0; CLEARED"},
	} {
		rep := decDecode(t, f, "Set-Cookie: "+tc.line, decSource("issuer.env", f.issuer()))
		c, b := decCookie(t, rep, probe.KindSessionToken)
		if got := lineOf(t, b, "attributes"); got != tc.want {
			t.Errorf("attributes %q, want %q", got, tc.want)
		}
		if c.SetCookie.Cleared && b.Lines[slices.IndexFunc(b.Lines, func(l Line) bool { return l.Label == "attributes" })].Tone() != Warn {
			t.Error("a cleared cookie's attributes are not marked")
		}
	}
}

// The database line of a session token says why it was not looked up,
// in the words of the state the caller passes: the CLI's and the
// console's states each have one sentence, and a failure reads as one
// (✗) without colour.
func TestDecodeDatabaseStates(t *testing.T) {
	f := decFixtureNamed(t, "plain")
	rep := decDecode(t, f, f.CookieHeader, decSource("issuer.env", f.issuer()))
	for state, want := range map[LookupState]string{
		LookupNotConfigured:          "not configured: token not looked up (--database-url or DATABASE_URL)",
		LookupNotConnected:           "not connected: token not looked up",
		LookupPending:                "looking up the token…",
		LookupUnreachable:            "✗ database unreachable: token not looked up",
		LookupNoSessionTable:         "✗ no session table: token not looked up",
		LookupFailed:                 "✗ lookup failed",
		"lookup timed out after 10s": "✗ lookup timed out after 10s",
		// An error quoting a credential is cut before it is shown.
		"lookup failed: postgres://app:hunter2@db/app": "✗ lookup failed: postgres://app:",
	} {
		rep.Database = state
		for _, blocks := range [][]Block{Decode(rep, DecodeOptions{}), Decode(probe.DecodeReport{Cookies: rep.Cookies}, DecodeOptions{DB: state})} {
			var got string
			for _, b := range blocks {
				if b.Title == "better-auth.session_token" {
					got = lineOf(t, b, "database")
				}
			}
			if !strings.HasPrefix(got, want) || strings.Contains(got, "hunter2") {
				t.Errorf("state %q: database %q, want %q", state, got, want)
			}
		}
	}
}

// What the input was: its size and kind when the caller knows them, and
// a curl command's URL without its credentials.
func TestDecodeInputBlock(t *testing.T) {
	f := decFixtureNamed(t, "plain")
	paste := "curl 'https://demo:hunter2-Tr0ub4dor@auth.example.com/api/auth/get-session?token=qTok3n' -H 'cookie: " + f.CookieHeader + "'"
	rep, in := probe.DecodeInput(paste, probe.DecodeOptions{Candidates: probe.CheckSecrets([]probe.Source{decSource("issuer.env", f.issuer())}).Candidates, Now: f.captured(t)})
	text := TextString(Decode(rep, DecodeOptions{Input: InputKind(in), Size: len(paste)}), TextOptions{})
	for _, want := range []string{"Input  " + ByteSize(len(paste)) + " · curl command, 1 credential(s)", "URL https://auth.example.com/api/auth/get-session?…"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "hunter2") || strings.Contains(text, "qTok3n") {
		t.Errorf("credentials of the URL printed:\n%s", text)
	}
}

// No secret, and no full token or signature, reaches any rendering of
// any capture: text, Markdown or the facts.
func TestDecodeNoSecretInOutput(t *testing.T) {
	fs := decFixtures(t)
	names := make([]string, 0, len(fs))
	for n := range fs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		f := fs[name]
		sources := []probe.Source{decSource("server.env", f.Env)}
		if f.IssuerEnv != nil {
			sources = append(sources, decSource("issuer.env", f.IssuerEnv))
		}
		var secrets, values []string
		for _, s := range sources {
			for _, k := range []string{"BETTER_AUTH_SECRET", "BETTER_AUTH_SECRETS"} {
				for _, part := range strings.Split(s.Vars[k], ",") {
					_, v, ok := strings.Cut(part, ":")
					if k == "BETTER_AUTH_SECRET" || !ok {
						v = part
					}
					if v = strings.TrimSpace(v); v != "" {
						secrets = append(secrets, v)
					}
				}
			}
		}
		secrets = append(secrets, "better-auth-secret-12345678901234567890") // BetterAuth's default
		inputs := []string{f.CookieHeader}
		for _, e := range f.Exchanges {
			if len(e.SetCookie) > 0 {
				inputs = append(inputs, "Set-Cookie: "+strings.Join(e.SetCookie, "\nSet-Cookie: "))
			}
			if e.SetAuthToken != nil {
				inputs = append(inputs, "Authorization: Bearer "+*e.SetAuthToken)
				values = append(values, *e.SetAuthToken)
			}
		}
		if f.SessionToken != "" {
			values = append(values, f.SessionToken)
		}
		for _, in := range inputs {
			if in == "" {
				continue
			}
			rep := decDecode(t, f, in, sources...)
			bs := Decode(rep, DecodeOptions{})
			var md strings.Builder
			Markdown(&md, bs, 2)
			out := TextString(bs, TextOptions{Color: true}) + md.String() + strings.Join(Facts(bs), "\n")
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Fatalf("%s: a secret (%.8s…) is shown:\n%s", name, s, out)
				}
			}
			for _, v := range values {
				if strings.Contains(out, v) {
					t.Fatalf("%s: a full token (%.8s…) is shown", name, v)
				}
			}
		}
	}
}

// A pasted name reaches the text only as inert characters.
func TestDecodeHostileName(t *testing.T) {
	rep := probe.Decode("better-auth.session_token\x1b]0;pwned\x07=abc.def; x\x9b31m=1", probe.DecodeOptions{Now: time.Now()})
	for _, out := range []string{TextString(Decode(rep, DecodeOptions{}), TextOptions{}), strings.Join(Facts(Decode(rep, DecodeOptions{})), "\n")} {
		if strings.ContainsAny(out, "\x1b\x07\u009b") {
			t.Fatalf("raw control characters: %q", out)
		}
	}
}
