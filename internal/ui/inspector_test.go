package ui

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
)

// insFixtureSecretC is fake fixture secret C of testdata/betterauth/cases.mjs.
const insFixtureSecretC = "authtui-fixture-secret-C-00112233445566778899"

// insEnvFile writes an env file named name in a fresh temp directory.
func insEnvFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// insSecrets builds the broadcast the secrets pane sends, from real env
// files read by the real probes.
func insSecrets(t testing.TB, files ...string) SecretsLoadedMsg {
	t.Helper()
	sources, fs := probe.LoadSources(probe.SourceOptions{EnvFiles: files})
	if len(fs) > 0 {
		t.Fatalf("loading %v: %v", files, fs)
	}
	msg := SecretsLoadedMsg{Sources: sources, Report: probe.CheckSecrets(sources)}
	for _, s := range sources {
		if _, u, ok := s.FirstSet(probe.BaseURLVars); ok && msg.BaseURL == "" {
			msg.BaseURL = u
		}
	}
	return msg
}

// insFixtureCookie is the Cookie header a browser sent to the real
// better-auth server in the captured plain case.
func insFixtureCookie(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("../../testdata/fixtures/plain.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		CookieHeader string `json:"cookie_header"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.CookieHeader == "" {
		t.Fatalf("plain.json: %v", err)
	}
	return f.CookieHeader
}

func insKeep(msg tea.Msg) bool {
	switch msg.(type) {
	case inspDecodedMsg, inspLookedUpMsg:
		return true
	}
	return false
}

func newTestInspector(t testing.TB, cfg *Config) *inspectorPane {
	t.Helper()
	p := newInspectorPane(cfg, newStyles())
	p.SetFocused(true)
	files := []string{
		insEnvFile(t, "auth.env", "BETTER_AUTH_SECRET="+pgtest.SeedDefaultSecret+"\nBETTER_AUTH_URL=http://localhost:3000\n"),
		insEnvFile(t, "api.env", "BETTER_AUTH_SECRET="+insFixtureSecretC+"\nBETTER_AUTH_URL=http://localhost:3000\n"),
	}
	if cmd := p.Update(insSecrets(t, files...)); cmd != nil {
		t.Fatal("secrets without a paste started a decode")
	}
	return p
}

func insPaste(t testing.TB, p *inspectorPane, s string) {
	t.Helper()
	cmd := p.Update(tea.PasteMsg{Content: s})
	pump(t, p.Update, cmd, 10*time.Second, insKeep, func() bool { return !p.decoding && !p.lookup })
}

func insFlat(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), " ") }

func TestInspectorVerifiesRealCookie(t *testing.T) {
	p := newTestInspector(t, &Config{})
	if s := insFlat(p.Summary(40, 3)); !strings.Contains(s, "paste a cookie (i)") || !strings.Contains(s, "a cookie, Set-Cookie, curl or Bearer") {
		t.Errorf("empty summary: %s", s)
	}
	cookie := insFixtureCookie(t)
	insPaste(t, p, cookie)

	v := insFlat(p.View(200, 60))
	for _, want := range []string{
		"better-auth.session_token", "session_token · Cookie header",
		"token Vm0oxI…", "encoding url-encoded",
		"✓ valid, verified by", "auth.env (current)",
		"not connected: token not looked up",
		"cookie-signer-differs", // api.env holds secret C: it would reject this cookie
		"pasted ", "Cookie header, 1 value(s)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "api.env (current)") {
		t.Errorf("api.env's secret does not sign this cookie:\n%s", v)
	}
	// The value itself, and its signature, never reach the screen.
	token, sig, _ := strings.Cut(strings.TrimPrefix(cookie, "better-auth.session_token="), ".")
	if strings.Contains(v, token) || strings.Contains(v, sig) {
		t.Fatalf("the cookie value is on screen:\n%s", v)
	}
	// The box's three lines: the verdict, the cookie, the problems (the
	// database line, not connected, is the first to give way).
	if s := insFlat(p.Summary(60, 3)); !strings.Contains(s, "✓ valid, signed by auth.env") || !strings.Contains(s, "better-auth.session_token") ||
		!strings.Contains(s, "✗ 1 error: cookie-signer-differs") || strings.Contains(s, "db:") {
		t.Errorf("summary: %s", s)
	}
	if s := insFlat(p.Summary(60, 4)); !strings.Contains(s, "db: not connected") {
		t.Errorf("summary with room for the database: %s", s)
	}
	if sel := p.Selection(); sel != "better-auth.session_token" {
		t.Errorf("selection %q", sel)
	}
	if !p.Findings().Has("cookie-signer-differs") {
		t.Errorf("findings %v", p.Findings())
	}

	// New secrets re-check the same paste: with api.env alone nothing verifies it.
	only := insSecrets(t, insEnvFile(t, "api.env", "BETTER_AUTH_SECRET="+insFixtureSecretC+"\n"))
	pump(t, p.Update, p.Update(only), 10*time.Second, insKeep, func() bool { return !p.decoding })
	if !p.Findings().Has(finding.CookieSignatureBad) {
		t.Errorf("after the secrets changed: %v", p.Findings())
	}
	if s := insFlat(p.Summary(60, 3)); !strings.Contains(s, "✗ not verified") {
		t.Errorf("summary: %s", s)
	}
	// The same secrets again change nothing and start nothing.
	if cmd := p.Update(only); cmd != nil {
		t.Error("identical secrets started a decode")
	}

	p.Update(press("c"))
	if p.result != nil || p.raw != "" || p.Selection() != "" {
		t.Error("c did not clear")
	}
}

func TestInspectorGarbageAndHostilePaste(t *testing.T) {
	p := newTestInspector(t, &Config{})
	insPaste(t, p, "hello there")
	if !p.Findings().Has("cookie-none") || !strings.Contains(insFlat(p.View(120, 30)), "cookie-none") {
		t.Errorf("garbage: %v\n%s", p.Findings(), insFlat(p.View(120, 30)))
	}
	if sel := p.Selection(); sel != "cookie-none" {
		t.Errorf("selection %q", sel)
	}

	csi := regexp.MustCompile(`\x1b\[[0-9;:?]*[ -/]*[@-~]`)
	for _, hostile := range []string{
		"\x1b]0;pwned\x07",
		"better-auth.session_token=\x1b]0;pwned\x07",
		"Set-Cookie: better-auth.session_token=abc.def; Domain=\x1b]0;pwned\x07.example.com; Path=/\x1b[2J",
		"weird\x1b]0;pwned\x07name=1; other=\x9b31m",
	} {
		insPaste(t, p, hostile)
		for _, out := range []string{p.View(120, 40), p.Summary(60, 4), p.Selection()} {
			// Styles emit CSI colour codes; anything else is raw input.
			rest := csi.ReplaceAllString(out, "")
			if strings.ContainsAny(rest, "\x1b\x07\u009b") {
				t.Fatalf("raw control characters from %q reach the screen: %q", hostile, rest)
			}
		}
		for _, f := range p.Findings() {
			if strings.ContainsAny(f.Message+f.Source, "\x1b\x07") {
				t.Fatalf("raw control characters in finding %s: %q", f.ID, f.Message)
			}
		}
	}
}

func TestInspectorTypedInput(t *testing.T) {
	p := newTestInspector(t, &Config{})
	if p.Capturing() {
		t.Fatal("capturing before i")
	}
	p.Update(press("i"))
	if !p.Capturing() {
		t.Fatal("i did not focus the field")
	}
	cookie := insFixtureCookie(t)
	for _, r := range cookie {
		p.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	// c and j are text now, not clear and scroll.
	if p.raw != "" || !p.Capturing() {
		t.Fatal("typing left the field")
	}
	token := strings.TrimPrefix(cookie, "better-auth.session_token=")[:32]
	if v := p.View(200, 20); strings.Contains(v, token) || strings.Contains(v, "better-auth.session_token=") {
		t.Fatalf("the typed value is echoed:\n%s", ansi.Strip(v))
	}
	cmd := p.Update(tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})
	if p.Capturing() {
		t.Fatal("ctrl+s did not leave the field")
	}
	pump(t, p.Update, cmd, 10*time.Second, insKeep, func() bool { return !p.decoding })
	if v := insFlat(p.View(200, 40)); !strings.Contains(v, "✓ valid, verified by") {
		t.Errorf("typed cookie not decoded:\n%s", v)
	}

	// esc on an empty field leaves and keeps the result.
	p.Update(press("enter"))
	if !p.Capturing() {
		t.Fatal("enter did not focus the field")
	}
	if cmd := p.Update(press("esc")); cmd != nil || p.Capturing() || p.result == nil {
		t.Error("esc on an empty field")
	}

	// A bracketed paste while typing replaces the field and decodes.
	p.Update(press("i"))
	p.Update(press("x"))
	cmd = p.Update(tea.PasteMsg{Content: "garbage"})
	if p.Capturing() || p.raw != "garbage" {
		t.Fatal("paste while typing")
	}
	pump(t, p.Update, cmd, 10*time.Second, insKeep, func() bool { return !p.decoding })
	if !p.Findings().Has("cookie-none") {
		t.Errorf("findings %v", p.Findings())
	}
}

func TestInspectorHugePasteDoesNotBlock(t *testing.T) {
	p := newTestInspector(t, &Config{})
	huge := "better-auth.session_token=" + strings.Repeat("A", 5<<20)
	cmd := p.Update(tea.PasteMsg{Content: huge})
	// Update only starts the decode: it runs in the command.
	if cmd == nil || !p.decoding || p.result != nil {
		t.Fatal("the paste was decoded in Update, or not at all")
	}
	v := insFlat(p.View(100, 20))
	s := insFlat(p.Summary(40, 3))
	if !strings.Contains(v, "decoding…") || !strings.Contains(v, "5.0 MB") || !strings.Contains(s, "decoding") {
		t.Errorf("while decoding:\n%s\n%s", v, s)
	}
	pump(t, p.Update, cmd, 30*time.Second, insKeep, func() bool { return !p.decoding })
	v = insFlat(p.View(100, 30))
	if !p.Findings().Has("cookie-too-large") || !strings.Contains(v, "cookie-too-large") {
		t.Errorf("findings %v\n%s", p.Findings(), v)
	}
	if strings.Contains(v, strings.Repeat("A", 200)) {
		t.Error("the paste is echoed")
	}
	for _, f := range p.Findings() {
		if len(f.Message) > 2000 {
			t.Errorf("finding %s carries %d bytes of the paste", f.ID, len(f.Message))
		}
	}
}

// A 5 MB Cookie header of 48,100 real cookies: each frame restyled every
// one of them (about 2 s a frame, 5 million allocations), and every tick
// of the console rendered another frame. The result is now summarised and
// rendered once; frames and ticks reuse it. Allocations stand in for time
// here (the benchmarks in inspector_bench_test.go measure it).
func TestInspectorHugePasteStaysCheap(t *testing.T) {
	p := newTestInspector(t, &Config{})
	paste := benchManySmallPaste(t)
	insPaste(t, p, paste)
	n := strings.Count(paste, "; ") + 1
	if p.result == nil || len(p.result.cookies) != probe.MaxCookiesShown || p.result.found != n {
		t.Fatalf("result lists %d cookies of %d", len(p.result.cookies), p.result.found)
	}
	total := probe.Thousands(n)
	if v := insFlat(p.View(146, 58)); !strings.Contains(v, total+" cookies, showing 200") || !strings.Contains(v, "Cookie header, "+total+" value(s)") {
		t.Errorf("the view does not say it shows 200 of %s:\n%s", total, v)
	}
	if s := insFlat(p.Summary(50, 4)); !strings.Contains(s, "✓ valid, signed by auth.env") || !strings.Contains(s, total+" cookies (200 shown) · better-auth") {
		t.Errorf("summary: %s", s)
	}
	if fs := p.Findings(); len(fs) != 2 || !fs.Has(finding.CookieSignerDiffers) || !fs.Has(finding.CookieDuplicate) {
		t.Errorf("%d findings: %v", len(fs), fs)
	}

	// Rendered once per change: another frame, a re-read of unchanged env
	// files or a database heartbeat reuse the rendering.
	first := &p.body(146)[0]
	p.View(146, 58)
	if cmd := p.Update(DBReadyMsg{}); cmd != nil {
		t.Error("a heartbeat without a database started work")
	}
	p.View(146, 58)
	if &p.body(146)[0] != first {
		t.Error("the body was rendered again without a change")
	}
	if allocs := testing.AllocsPerRun(20, func() { p.View(146, 58) }); allocs > 400 {
		t.Errorf("a frame with the paste on screen allocates %.0f times", allocs)
	}
	if allocs := testing.AllocsPerRun(20, func() { p.Summary(50, 4) }); allocs > 100 {
		t.Errorf("a summary allocates %.0f times", allocs)
	}
	// Scrolling moves the selection without rendering again.
	for range 20 {
		p.Update(press("j"))
	}
	if p.View(146, 58); &p.body(146)[0] != first || p.Selection() != "better-auth.session_token" {
		t.Error("scrolling rendered the body again")
	}
	// A new width renders once more.
	if p.View(100, 58); &p.body(100)[0] == first {
		t.Error("a new width kept the old rendering")
	}
}

// A curl command's URL is shown without user:password and query, and a
// quote that is never closed is a parse problem that shows nothing of what
// follows it.
func TestInspectorCurlCredentials(t *testing.T) {
	p := newTestInspector(t, &Config{})
	cookie := insFixtureCookie(t)
	insPaste(t, p, "curl 'https://demo:hunter2-Tr0ub4dor@auth.example.com/api/auth/get-session?token=qTok3nQWxhZGRpbjpvcGVu' -H 'cookie: "+cookie+"'")
	v := insFlat(p.View(200, 60))
	if !strings.Contains(v, "URL https://auth.example.com/api/auth/get-session?…") || strings.Contains(v, "hunter2") || strings.Contains(v, "qTok3n") {
		t.Errorf("URL:\n%s", v)
	}
	if !strings.Contains(v, "✓ valid, verified by") {
		t.Errorf("the cookie was not verified:\n%s", v)
	}

	token, sig, _ := strings.Cut(strings.TrimPrefix(cookie, "better-auth.session_token="), ".")
	insPaste(t, p, `curl "https://auth.example.com/api/auth/get-session -H 'cookie: `+cookie+`'`)
	v = insFlat(p.View(200, 60))
	if !p.Findings().Has(finding.InputUnparsable) || !strings.Contains(v, "unterminated") {
		t.Errorf("no parse problem: %v\n%s", p.Findings(), v)
	}
	if strings.Contains(v, "the input is empty") || strings.Contains(v, token) || strings.Contains(v, sig) || strings.Contains(v, "URL https:") {
		t.Errorf("the paste after the quote is shown, or called empty:\n%s", v)
	}
}

func TestInspectorStaleDecodeDropped(t *testing.T) {
	p := newTestInspector(t, &Config{})
	old := p.Update(tea.PasteMsg{Content: insFixtureCookie(t)})
	newer := p.Update(tea.PasteMsg{Content: "garbage"})
	// The newer decode finishes first; the old one arrives late.
	p.Update(newer())
	p.Update(old())
	if !p.Findings().Has("cookie-none") || p.Findings().Has("cookie-signer-differs") {
		t.Errorf("a stale decode won: %v", p.Findings())
	}
}

func TestInspectorLooksUpTokens(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	db, schema := openDB(t, dsn)

	p := newTestInspector(t, &Config{Timeout: 10 * time.Second})
	insPaste(t, p, seed.CookieName+"="+seed.Sessions[0].Cookie)
	if v := insFlat(p.View(200, 40)); !strings.Contains(v, "not connected") {
		t.Errorf("before the database:\n%s", v)
	}
	// The database arriving re-checks the paste and looks the token up.
	pump(t, p.Update, p.Update(DBReadyMsg{DB: db, Schema: schema}), 20*time.Second, insKeep, func() bool { return !p.decoding && !p.lookup })
	v := insFlat(p.View(200, 40))
	if !strings.Contains(v, "✓ session-valid: session "+seed.Sessions[0].ID+" of "+seed.Users[0].Email) {
		t.Errorf("after the lookup:\n%s", v)
	}
	if s := insFlat(p.Summary(80, 4)); !strings.Contains(s, "db: session-valid") {
		t.Errorf("summary: %s", s)
	}
	if !p.Findings().Has("session-valid") {
		t.Errorf("findings %v", p.Findings())
	}
	if strings.Contains(v, seed.Sessions[0].Token) {
		t.Fatal("the token is on screen")
	}
	// A heartbeat with the same database starts nothing.
	if cmd := p.Update(DBReadyMsg{DB: db, Schema: schema}); cmd != nil {
		t.Error("a repeated DBReadyMsg re-decoded")
	}
	// The database going away drops the rows.
	pump(t, p.Update, p.Update(DBReadyMsg{}), 10*time.Second, insKeep, func() bool { return !p.decoding })
	if v := insFlat(p.View(200, 40)); !strings.Contains(v, "not connected") || p.Findings().Has("session-valid") {
		t.Errorf("after the database went away:\n%s", v)
	}
}

func TestInspectorWidthSweep(t *testing.T) {
	p := newTestInspector(t, &Config{})
	states := map[string]func(){
		"empty":   func() {},
		"decoded": func() { insPaste(t, p, insFixtureCookie(t)+"; other=1") },
		"setcookie": func() {
			insPaste(t, p, "Set-Cookie: better-auth.session_token=abc.def; Path=/; SameSite=None\nSet-Cookie: better-auth.session_data=eyJzZXNzaW9uIjp7fX0; Max-Age=300")
		},
		"editing": func() { p.Update(press("i")); p.Update(press("x")) },
	}
	for _, name := range []string{"empty", "decoded", "setcookie", "editing"} {
		states[name]()
		for w := 40; w <= 200; w += 7 {
			for _, h := range []int{3, 8, 20, 50} {
				checkFits(t, name+" view", p.View(w, h), w, h)
			}
			checkFits(t, name+" summary", p.Summary(w, 4), w, 4)
		}
		// Scrolled all the way down, the view still fits.
		for range 200 {
			p.Update(press("j"))
		}
		checkFits(t, name+" scrolled", p.View(60, 10), 60, 10)
		p.scroll = 0
	}
}

// The console's small box leads with the verdict on the signatures, then
// keeps what matters most as it shrinks: the problems, then the cookie.
func TestInspectorSummaryVerdicts(t *testing.T) {
	f := parityFixture(t, "../../testdata/fixtures/rotation-old-cookie.json")
	dir := t.TempDir()
	// The rotated server keeps the old server's secret only as v1: it
	// still decrypts the cache, but no longer verifies the token.
	server := parityEnvFile(t, dir, "server.env", f.Env)
	p := newInspectorPane(&Config{}, newStyles())
	p.Update(insSecrets(t, server))
	insPaste(t, p, f.CookieHeader)
	if s := insFlat(p.Summary(60, 4)); !strings.Contains(s, "! signed by server.env · ✗ 1 not verified") ||
		!strings.Contains(s, "2 cookies · better-auth.session_token") || !strings.Contains(s, "! 2 warnings: cookie-signed-by-retired") {
		t.Errorf("summary: %s", s)
	}
	if s := insFlat(p.Summary(60, 1)); s != "! signed by server.env · ✗ 1 not verified" {
		t.Errorf("one line: %q", s)
	}
	if s := insFlat(p.Summary(60, 2)); !strings.Contains(s, "! 2 warnings") || strings.Contains(s, "cookies ·") {
		t.Errorf("two lines: %s", s)
	}
	token, _, _ := strings.Cut(f.CookieHeader, "; ")
	insPaste(t, p, token)
	if s := insFlat(p.Summary(60, 3)); !strings.HasPrefix(s, "✗ not verified: only an older secret matches") || !strings.Contains(s, "better-auth.session_token") {
		t.Errorf("the token alone: %s", s)
	}
	// With the issuer's env as well, both verify.
	p.Update(insSecrets(t, server, parityEnvFile(t, dir, "issuer.env", f.IssuerEnv)))
	insPaste(t, p, f.CookieHeader)
	if s := insFlat(p.Summary(60, 1)); s != "✓ valid, signed by server.env, issuer.env" {
		t.Errorf("verified: %q", s)
	}
}

// A jwt() plugin token pasted into the inspector is verified against the
// auth service's real JWKS, as `authtui decode` does.
func TestInspectorVerifiesJWT(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_JWT=1"}})
	batest.SignUp(t, srv.URL, "jwt@example.com", lfPassword)
	sess := batest.SignIn(t, srv.URL, "jwt@example.com", lfPassword)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/auth/get-session", nil)
	req.Header.Set("Cookie", sess.CookieHeader)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	jwt := res.Header.Get("set-auth-jwt")
	p := newTestInspector(t, &Config{Timeout: 5 * time.Second, Login: login.Options{BaseURL: srv.URL}})
	insPaste(t, p, jwt)
	v := insFlat(p.View(160, 40))
	for _, want := range []string{"JWT EdDSA", "✓ valid", srv.URL + "/api/auth/jwks", "jwt@example.com", "No findings."} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if s := insFlat(p.Summary(40, 4)); !strings.Contains(s, "✓ JWT valid") {
		t.Errorf("summary: %s", s)
	}
	if strings.Contains(p.View(160, 40), jwt) {
		t.Fatal("the full token on screen")
	}
}
