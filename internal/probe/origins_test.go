package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/testenv"
)

// betterAuthMatches asks the pinned better-auth's own matchesOriginPattern
// (dist/auth/trusted-origins.mjs) about each [origin, pattern] pair.
func betterAuthMatches(t *testing.T, pairs [][2]string) []bool {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, batest.MissingNodeMessage)
	}
	dir, err := testenv.BetterAuthDir()
	if err != nil {
		testenv.Unavailable(t, "better-auth's node_modules: "+err.Error())
	}
	module := filepath.Join(dir, "node_modules", "better-auth", "dist", "auth", "trusted-origins.mjs")
	script := `
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const { matchesOriginPattern } = await import(pathToFileURL(process.argv[1]).href);
const pairs = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(pairs.map(([url, pattern]) => matchesOriginPattern(url, pattern))));
`
	in, _ := json.Marshal(pairs)
	cmd := exec.Command(node, "--input-type=module", "-e", script, module)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, testenv.MinimalEnv(), bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []bool
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(pairs) {
		t.Fatalf("node answered %s (%v)", out, err)
	}
	return got
}

// The Go mirror agrees with better-auth on every pair, wildcards and the
// odd cases included; the node side is the reference, not a hand-written
// expectation.
func TestMatchesOriginPatternMirrorsBetterAuth(t *testing.T) {
	origins := []string{
		"https://app.example.com", "http://app.example.com", "https://APP.Example.com",
		"https://app.example.com:443", "https://app.example.com:0443", "https://app.example.com:8443", "http://app.example.com:80",
		"https://a.b.example.com", "https://example.com", "https://app.example.com/some/path?q=1",
		" https://app.example.com", "https://app.example.com\n", "http://localhost:5173", "http://127.0.0.1:5173",
		"http://192.168.1.20:3000", "http://192.168.attacker.com", "http://[::1]:3000", "https://ab.example.com",
	}
	patterns := []string{
		"https://app.example.com", "http://app.example.com", " https://app.example.com", "https://app.example.com ",
		"https://app.example.com/", "https://APP.example.com", "https://app.example.com:8443",
		"*.example.com", "https://*.example.com", "http://*.example.com", "*.example.com:8443", "https://*.example.com:*",
		"https://??.example.com", "https://*", "*", "**", "https://**", "https://\\*.example.com",
		"http://localhost:*", "localhost:5173", "http://192.168.*.*:*", "192.168.*.*:3000", "http://192.168.*",
		"myapp://", "http://[::1]:3000", "https://app.example.com/some", "*.example.com/", "",
	}
	var pairs [][2]string
	for _, o := range origins {
		for _, p := range patterns {
			pairs = append(pairs, [2]string{o, p})
		}
	}
	want := betterAuthMatches(t, pairs)
	trues := 0
	for i, pr := range pairs {
		if want[i] {
			trues++
		}
		o, ok := parseJSOrigin(pr[0])
		got := ok && matchesOriginPattern(o, pr[1])
		if got != want[i] {
			t.Errorf("origin %q, pattern %q: authtui says %v, better-auth %v", pr[0], pr[1], got, want[i])
		}
	}
	// Both answers must occur, or the comparison proves nothing.
	if trues < 20 || trues > len(pairs)-20 {
		t.Fatalf("only %d of %d pairs match in better-auth; the table no longer discriminates", trues, len(pairs))
	}
}

func TestCheckOrigin(t *testing.T) {
	const origins = "BETTER_AUTH_TRUSTED_ORIGINS"
	for _, tc := range []struct {
		name    string
		sources []Source
		origin  string
		baseURL string
		want    map[string]finding.ID // source label → the one finding
		say     []string
	}{
		{name: "trusted as is", origin: "https://app.example.com",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com", origins: "https://app.example.com"})}},
		{name: "same origin as the base URL", origin: "https://auth.example.com/login",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com/api/auth"})}},
		{name: "listed under http only", origin: "https://app.example.com",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com", origins: "http://app.example.com,https://other.example.com"})},
			want:    map[string]finding.ID{"auth.env": finding.OriginSchemeMismatch},
			say:     []string{"only as http://app.example.com", `entry 1 "http://app.example.com"`}},
		{name: "wildcard under the other scheme", origin: "http://preview-42.example.com",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com", origins: "https://*.example.com"})},
			want:    map[string]finding.ID{"auth.env": finding.OriginSchemeMismatch},
			say:     []string{"only as https://preview-42.example.com"}},
		{name: "host wildcard trusts both schemes", origin: "http://preview-42.example.com",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com", origins: "*.example.com"})}},
		{name: "base URL says http behind a TLS proxy", origin: "https://app.example.com",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "http://app.example.com"})},
			want:    map[string]finding.ID{"auth.env": finding.OriginSchemeMismatch},
			say:     []string{"its base URL (BETTER_AUTH_URL=http://app.example.com)"}},
		{name: "--base-url stands in for a source without one", origin: "https://app.example.com", baseURL: "http://app.example.com",
			sources: []Source{source("auth.env", map[string]string{})},
			want:    map[string]finding.ID{"auth.env": finding.OriginSchemeMismatch},
			say:     []string{"--base-url=http://app.example.com"}},
		{name: "listed only with a leading space", origin: "https://b.example",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example", origins: "https://a.example, https://b.example"})},
			want:    map[string]finding.ID{"auth.env": finding.TrustedOriginsSpace},
			say:     []string{`entry 2 " https://b.example"`, "sign-in from https://b.example answers 403"}},
		{name: "a space and the wrong scheme: the space is named first", origin: "https://b.example",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example", origins: "https://a.example, http://b.example"})},
			want:    map[string]finding.ID{"auth.env": finding.OriginSchemeMismatch},
			say:     []string{`entry 2 " http://b.example"`}},
		{name: "the origin listed nowhere raises nothing (trustedOrigins may be in code)", origin: "https://elsewhere.example",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example", origins: "https://a.example"})}},
		{name: "each source judged on its own", origin: "https://app.example.com",
			sources: []Source{
				source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com", origins: "https://app.example.com"}),
				source("old.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com", origins: "http://app.example.com"}),
				{Label: "broken.env", Err: "no such file"},
			},
			want: map[string]finding.ID{"old.env": finding.OriginSchemeMismatch}},
		{name: "an origin that is not http(s) is not judged", origin: "myapp://callback",
			sources: []Source{source("auth.env", map[string]string{"BETTER_AUTH_URL": "https://auth.example.com", origins: "http://myapp"})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := CheckOrigin(tc.sources, tc.origin, tc.baseURL)
			got := map[string]finding.ID{}
			for _, f := range fs {
				if _, dup := got[f.Source]; dup {
					t.Errorf("two findings for %s: %s", f.Source, ids(fs))
				}
				got[f.Source] = f.ID
				if len(f.Evidence) == 0 {
					t.Errorf("%s carries no evidence", f.ID)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("findings %v, want %v", fs, tc.want)
			}
			for label, id := range tc.want {
				if got[label] != id {
					t.Errorf("%s: got %q, want %s (%v)", label, got[label], id, fs)
				}
			}
			all := ""
			for _, f := range fs {
				all += f.Message + "\n"
			}
			for _, s := range tc.say {
				if !strings.Contains(all, s) {
					t.Errorf("findings should say %q:\n%s", s, all)
				}
			}
		})
	}
}

// Against a real better-auth server: every origin CheckOrigin raises a
// finding for is one the server rejects with 403 INVALID_ORIGIN, and the
// Go mirror of its trust decision agrees with the server for every origin
// tried (the split without trimming, the scheme, the wildcard).
func TestCheckOriginAgainstBetterAuth(t *testing.T) {
	list := []string{"http://a.example", " http://b.example", "https://c.example", "https://*.wild.example"}
	srv := batest.Start(t, batest.Options{TrustedOrigins: list})
	src := source("auth.env", map[string]string{"BETTER_AUTH_URL": srv.BaseURL, "BETTER_AUTH_TRUSTED_ORIGINS": strings.Join(list, ",")})

	for _, tc := range []struct {
		origin string
		want   finding.ID // "" for no finding
	}{
		{"http://a.example", ""},
		{"https://a.example", finding.OriginSchemeMismatch},
		{"http://b.example", finding.TrustedOriginsSpace},
		{"http://c.example", finding.OriginSchemeMismatch},
		{"https://c.example", ""},
		{"https://x.wild.example", ""},
		{"http://x.wild.example", finding.OriginSchemeMismatch},
		{"https://elsewhere.example", ""},
		{srv.URL, ""},
	} {
		status, body := signInFrom(t, srv.URL, tc.origin)
		o, _ := parseJSOrigin(tc.origin)
		trusted := false
		for _, e := range trustedOriginsOf(src, srv.URL) {
			trusted = trusted || matchesOriginPattern(o, e.pattern)
		}
		rejected := status == http.StatusForbidden && strings.Contains(body, "INVALID_ORIGIN")
		if rejected == trusted {
			t.Errorf("origin %s: server answered %d %s; authtui thinks it is trusted: %v", tc.origin, status, body, trusted)
		}
		fs := CheckOrigin([]Source{src}, tc.origin, srv.URL)
		switch {
		case tc.want == "" && len(fs) != 0:
			t.Errorf("origin %s: unexpected %v", tc.origin, fs)
		case tc.want != "" && (len(fs) != 1 || fs[0].ID != tc.want):
			t.Errorf("origin %s: findings %s, want %s", tc.origin, ids(fs), tc.want)
		case tc.want != "" && !rejected:
			t.Errorf("origin %s: %s raised, yet the server answered %d %s", tc.origin, tc.want, status, body)
		}
	}
	// The same list through CheckSecrets names the padded entry.
	rep := CheckSecrets([]Source{src})
	wantFindings(t, rep.Findings, finding.TrustedOriginsSpace)
}

// signInFrom posts a sign-in for a user that does not exist, with the
// given Origin: the origin check runs first, so the answer is 403
// INVALID_ORIGIN for an untrusted origin and 401 for a trusted one.
func signInFrom(t *testing.T, serverURL, origin string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL+"/api/auth/sign-in/email",
		strings.NewReader(`{"email":"nobody@example.com","password":"not-a-real-password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("sign-in from %s: %v", origin, err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, strings.TrimSpace(b.String())
}
