package probe

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/probe/finding"
)

// The fuzz targets below must never panic and must always terminate. Run
// one at a time, e.g.
//
//	go test ./internal/probe -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s -parallel 2
//
// Without -fuzz they run their seeds (f.Add and testdata/fuzz/<FuzzName>/)
// as ordinary regression tests.

// fuzzNow is a fixed clock, so that a crasher reproduces whatever the date.
var fuzzNow = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

// fuzzCandidates are the candidates of FuzzDecodeCache and FuzzDecode: the
// fixture secret most captures were signed with, another fixture secret,
// and the built-in default.
func fuzzCandidates() []Candidate {
	return []Candidate{
		NewCandidate("fixture-a", "BETTER_AUTH_SECRET", secretA),
		NewCandidate("fixture-c", "BETTER_AUTH_SECRET", secretC),
		NewCandidate(DefaultLabel, DefaultLabel, DefaultSecret),
	}
}

// cookiePairs splits a captured Cookie header into its name=value pairs.
func cookiePairs(header string) (names, values []string) {
	for _, part := range strings.Split(header, "; ") {
		name, value, ok := strings.Cut(part, "=")
		if ok {
			names = append(names, name)
			values = append(values, value)
		}
	}
	return names, values
}

// fixtureSeeds gathers every credential the captures hold, as a user would
// paste it: whole Cookie headers, each Set-Cookie line, set-auth-token
// values, and each cookie value alone.
type fixtureSeeds struct {
	cookieHeaders []string
	setCookies    []string
	authTokens    []string
	values        []string // every cookie value of every Cookie header, raw
	sessionData   []string // session_data values, URL-decoded and chunks joined
}

func loadSeeds(f *testing.F) fixtureSeeds {
	f.Helper()
	var s fixtureSeeds
	for _, name := range allFixtures(f) {
		fx := loadFixture(f, name)
		if fx.CookieHeader != "" {
			s.cookieHeaders = append(s.cookieHeaders, fx.CookieHeader)
		}
		for _, e := range fx.Exchanges {
			s.setCookies = append(s.setCookies, e.SetCookie...)
			if e.SetAuthToken != nil && *e.SetAuthToken != "" {
				s.authTokens = append(s.authTokens, *e.SetAuthToken)
			}
		}
		names, values := cookiePairs(fx.CookieHeader)
		var chunked strings.Builder
		for i, n := range names {
			s.values = append(s.values, values[i])
			switch {
			case strings.HasSuffix(n, "session_data"):
				v, _ := DecodeCookieValue(values[i])
				s.sessionData = append(s.sessionData, v)
			case strings.Contains(n, "session_data."):
				chunked.WriteString(values[i]) // captured in chunk order
			}
		}
		if chunked.Len() > 0 {
			v, _ := DecodeCookieValue(chunked.String())
			s.sessionData = append(s.sessionData, v)
		}
	}
	if len(s.cookieHeaders) == 0 || len(s.setCookies) == 0 || len(s.sessionData) == 0 {
		f.Fatal("fixtures yielded no seeds")
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// edgeCases are hand-picked inputs at the edges of every parser.
func edgeCases() []string {
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	deepArr := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	return []string{
		"",
		" ",
		" \t\r\n \n\r ",
		"\ufeff",
		"Cookie:",
		"Cookie: ",
		"cookie:;;;",
		"Set-Cookie:",
		"Set-Cookie: ;",
		"Authorization:",
		"Authorization: Bearer",
		"Authorization: Bearer ",
		"Bearer ",
		"bearer x",
		":authority: example.com",
		"::",
		"=",
		"==",
		"a=",
		"=b",
		";",
		"a=b; Path=/; Domain=.; Max-Age=0",
		"a=b; Domain=..; Secure",
		"a=b; Domain=[::1]; SameSite=None",
		"a=b; Domain=co.uk; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		"a=b; Max-Age=99999999999999999999999; SameSite=bogus",
		"a=b; Max-Age=-1; Partitioned",
		"__Host-better-auth.session_token=x; Domain=example.com; Path=/a",
		"__Secure-better-auth.session_token=x",
		"curl",
		"curl ",
		"curl x",
		"curl -H",
		"curl -H 'cookie: a=b",
		`curl -H "cookie: a=b`,
		`curl -H "cookie: a=b\`,
		"curl -H $'cookie: a=b",
		`curl -H $'cookie: better-auth.session_token=a\x2eb\'`,
		`curl -H $'\`,
		"curl -b",
		"curl -b 'a=b; c=d' --url",
		"curl -Hcookie:a=b -b cookies.txt -X",
		"curl 'https://x' \\\n  -H 'cookie: better-auth.session_token=abc' \\\n  --compressed",
		"curl ^\n -H ^\n",
		"curl '' '' ''",
		"%",
		"%zz",
		"%%",
		"%2",
		"better-auth.session_token=%",
		"better-auth.session_token=%zz",
		"better-auth.session_token=%252B%253D",
		"better-auth.session_token=.",
		"better-auth.session_token=abc.",
		"better-auth.session_token=.abc",
		"better-auth.session_token=abc." + strings.Repeat("A", 43) + "=",
		"better-auth.session_token=abc." + strings.Repeat("!", 43) + "=",
		"better-auth.session_data.999=eyJ",
		"better-auth.session_data.0=eyJ; better-auth.session_data.999=eyJ",
		"better-auth.session_data.1=x; better-auth.session_data.1=y",
		"better-auth.session_data.007=x",
		"better-auth.session_data.9999=x",
		"better-auth.session_data.-1=x",
		"better-auth-session_data=x",
		"better-auth.dont_remember=true.",
		"better-auth.account_data.3=x",
		"name\tvalue",
		"Name\tValue\n\tx\n\t\t\t",
		"....",
		".....",
		"a.b.c",
		"..",
		"eyJ",
		"eyJ.eyJ.eyJ",
		"eyJ.eyJ.eyJ.eyJ.eyJ",
		b64(`{"alg":"HS256"}`) + "." + b64(`{}`) + ".",
		b64(`{"alg":"none"}`) + "." + b64(`{"exp":1}`) + ".",
		b64(`{"alg":"dir","enc":"A256CBC-HS512","zip":"DEF"}`) + "....",
		b64(`{"alg":"dir","enc":"A256GCM","kid":"x"}`) + ".." + b64("iv") + "." + b64("ct") + "." + b64("tag"),
		b64("not json at all"),
		b64(`{"session":{},"expiresAt":1,"signature":"AAAA"}`),
		b64(`{"session":[],"expiresAt":1,"signature":"AAAA"}`),
		b64(`{"session":{"session":{"token":"abc"}},"expiresAt":"1","signature":"@@"}`),
		// Expiries that encoding/json cannot write (years beyond 9999).
		b64(`{"session":{"session":{"token":"abc"}},"expiresAt":99999999999999999,"signature":"AAAA"}`),
		b64(`{"session":{"session":{"token":"abc"}},"expiresAt":-99999999999999999,"signature":"AAAA"}`),
		b64(`{"session":{"session":{"expiresAt":"9999-12-31T23:59:59-23:59"},"updatedAt":9999999999999999999},"expiresAt":1e400,"signature":"AAAA"}`),
		b64(`{"alg":"HS256"}`) + "." + b64(`{"exp":9999999999999}`) + "." + b64("sig"),
		b64(`{"session":` + deep + `,"expiresAt":1,"signature":"AAAA"}`),
		b64(deepArr),
		deep,
		strings.Repeat("\n", 1000),
		strings.Repeat("a=b;", 1000),
		strings.Repeat("curl -H ", 200),
		// Credentials in a curl command's URL, and quotes never closed.
		"curl 'https://demo:hunter2@auth.example.com/api/auth/get-session?token=abc&x=1' -H 'cookie: a=b'",
		"curl -H 'cookie: a=b' 'demo:hunter2@auth.example.com/x?token=abc'",
		"curl --url 'http://demo:hun ter2@127.0.0.1:3000/?token=abc#frag'",
		"curl 'http://a@b@c/?x' 'https://d/?y'",
		"curl --oauth2-bearer abc.def https://x/",
		"curl -b lonetoken https://x/",
		`curl "https://x/api -H 'cookie: better-auth.session_token=abc.def'`,
		`curl 'https://x/api -H "cookie: better-auth.session_token=abc.def"`,
		`curl $'https://x/api -H "cookie: better-auth.session_token=abc.def"`,
		`curl 'https://x/' -H 'cookie: better-auth.session_token=abc.def`,
		`curl 'whole'word 'a'"b"$'c' "d"e" '' ""`,
		"\x00\x01\x1b[31m\x7f\xff\xfe",
	}
}

func addAll(f *testing.F, seeds ...[]string) {
	for _, list := range seeds {
		for _, s := range list {
			f.Add(s)
		}
	}
}

var itemKinds = map[ItemKind]bool{ItemCookie: true, ItemSetCookie: true, ItemBearer: true, ItemBare: true}

func FuzzParseInput(f *testing.F) {
	s := loadSeeds(f)
	var wrapped []string
	for _, h := range s.cookieHeaders {
		wrapped = append(wrapped,
			"Cookie: "+h,
			"curl 'http://localhost:3000/api/auth/get-session' -H 'cookie: "+h+"'",
			strings.ReplaceAll(h, "; ", "\n"),
			strings.ReplaceAll(strings.ReplaceAll(h, "=", "\t"), "; ", "\n"),
		)
	}
	for _, sc := range s.setCookies {
		wrapped = append(wrapped, "Set-Cookie: "+sc)
	}
	for _, t := range s.authTokens {
		wrapped = append(wrapped, "set-auth-token: "+t, "Authorization: Bearer "+t)
	}
	addAll(f, s.cookieHeaders, s.setCookies, s.authTokens, s.values, wrapped, edgeCases())
	f.Fuzz(func(t *testing.T, in string) {
		p := ParseInput(in)
		// Streaming (what Decode uses) hands over the same items.
		var streamed []InputItem
		ps := ParseInputFunc(in, func(it InputItem) { streamed = append(streamed, it) })
		if len(ps.Items) != 0 || len(streamed) != len(p.Items) || ps.URL != p.URL || ps.Problem != p.Problem || len(ps.Ignored) != len(p.Ignored) {
			t.Fatalf("ParseInputFunc: %d items (+%d left), URL %q, problem %q; ParseInput: %d items, URL %q, problem %q",
				len(streamed), len(ps.Items), ps.URL, ps.Problem, len(p.Items), p.URL, p.Problem)
		}
		for i := range streamed {
			a, b := streamed[i], p.Items[i]
			if a.Kind != b.Kind || a.From != b.From || a.Name != b.Name || a.Value != b.Value || a.Line != b.Line || (a.SetCookie == nil) != (b.SetCookie == nil) {
				t.Fatalf("item %d streamed as %+v, parsed as %+v", i, a, b)
			}
		}
		for i, it := range p.Items {
			if !itemKinds[it.Kind] {
				t.Fatalf("item %d has kind %q, not one of the four ItemKinds", i, it.Kind)
			}
			if it.SetCookie != nil && it.Kind != ItemSetCookie {
				t.Fatalf("item %d of kind %q carries a parsed Set-Cookie", i, it.Kind)
			}
		}
	})
}

func FuzzAnalyzeSetCookie(f *testing.F) {
	s := loadSeeds(f)
	addAll(f, s.setCookies, s.values, edgeCases())
	sites := []SiteContext{
		NewSiteContext("https://auth.example.com", "https://app.example.net"),
		NewSiteContext("http://auth.example.com", "https://auth.example.com"),
		{},
	}
	f.Fuzz(func(t *testing.T, line string) {
		p := ParseInput("Set-Cookie: " + line)
		for _, it := range p.Items {
			if it.Kind != ItemSetCookie {
				continue
			}
			kind, _ := classify(it)
			for _, site := range sites {
				rep, fs := AnalyzeSetCookie(it, kind, site, fuzzNow)
				if rep.Parsed != (it.SetCookie != nil) {
					t.Fatalf("Parsed=%v but net/http cookie is %v", rep.Parsed, it.SetCookie)
				}
				checkFindings(t, fs)
				AnalyzeSetCookie(it, KindSessionToken, site, fuzzNow)
			}
		}
	})
}

func FuzzDecodeCache(f *testing.F) {
	s := loadSeeds(f)
	addAll(f, s.sessionData, s.values, edgeCases())
	cands := fuzzCandidates()
	strategies := map[string]bool{StrategyCompact: true, StrategyJWT: true, StrategyJWE: true, "unknown": true}
	f.Fuzz(func(t *testing.T, value string) {
		rep := DecodeCache(value, cands, fuzzNow)
		if !strategies[rep.Strategy] {
			t.Fatalf("strategy %q", rep.Strategy)
		}
		// --json must always be able to write the report.
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("the report cannot be written as JSON: %v", err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	s := loadSeeds(f)
	var pasted []string
	for _, sc := range s.setCookies {
		pasted = append(pasted, "Set-Cookie: "+sc)
	}
	pasted = append(pasted, strings.Join(pasted, "\n"))
	for _, v := range s.sessionData {
		pasted = append(pasted, "better-auth.session_data="+v)
	}
	addAll(f, s.cookieHeaders, pasted, s.authTokens, s.values, edgeCases())
	cands := fuzzCandidates()
	f.Fuzz(func(t *testing.T, in string) {
		rep := Decode(in, DecodeOptions{
			Candidates: cands,
			BaseURL:    "http://localhost:3000",
			Origin:     "http://localhost:5173",
			Now:        fuzzNow,
		})
		checkFindings(t, rep.Findings)
		for _, c := range rep.Cookies {
			if c.VerifiedBy == nil || c.Matches == nil {
				t.Fatalf("cookie %q: nil VerifiedBy or Matches (JSON null)", c.Name)
			}
		}
		// Secrets never reach a message unless the paste itself holds them.
		if !strings.Contains(in, secretA) && !strings.Contains(in, secretC) && !strings.Contains(in, DefaultSecret) {
			for _, fd := range rep.Findings {
				if strings.Contains(fd.Message, secretA) || strings.Contains(fd.Message, secretC) || strings.Contains(fd.Message, DefaultSecret) {
					t.Fatalf("finding %s leaks a secret: %s", fd.ID, fd.Message)
				}
			}
		}
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("the report cannot be written as JSON: %v", err)
		}
		// The report is bounded whatever the paste.
		if len(rep.Cookies) > MaxCookiesShown || rep.CookiesFound != len(rep.Cookies)+rep.CookiesOmitted {
			t.Fatalf("%d cookies listed, %d found, %d omitted", len(rep.Cookies), rep.CookiesFound, rep.CookiesOmitted)
		}
		for id, n := range findingIDs(rep.Findings) {
			if n > maxSameFinding {
				t.Fatalf("%d findings %s listed", n, id)
			}
		}
		// A pasted URL is shown without user:password and query.
		checkShownURL(t, rep.URL)
	})
}

// checkShownURL fails when a URL as shown keeps a userinfo or a query.
func checkShownURL(t *testing.T, u string) {
	t.Helper()
	if i := strings.IndexByte(u, '?'); i >= 0 && u[i:] != "?…" {
		t.Fatalf("URL %q shows its query", u)
	}
	authority := u
	if i := strings.Index(authority, "://"); i >= 0 {
		authority = authority[i+3:]
	}
	if i := strings.IndexByte(authority, '/'); i >= 0 {
		authority = authority[:i]
	}
	if strings.Contains(authority, "@") {
		t.Fatalf("URL %q shows its userinfo", u)
	}
}

func checkFindings(t *testing.T, fs finding.List) {
	t.Helper()
	for _, fd := range fs {
		if !fd.ID.Known() {
			t.Fatalf("finding with unknown ID %q", fd.ID)
		}
		if fd.Message == "" {
			t.Fatalf("finding %s has no message", fd.ID)
		}
	}
}
