package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/probe"
)

// The env files the fixtures were captured with: auth and api hold
// different secrets, rotation rotates from auth's to a new one.
var secFixtureEnv = []string{"../../testdata/fixtures/env/auth.env", "../../testdata/fixtures/env/api.env", "../../testdata/fixtures/env/rotation.env"}

// secCheck runs the secrets probe as `authtui secrets` does.
func secCheck(t *testing.T, files ...string) (probe.SecretsReport, []probe.Source) {
	t.Helper()
	sources, load := probe.LoadSources(probe.SourceOptions{EnvFiles: files})
	rep := probe.CheckSecrets(sources)
	rep.Findings = append(load, rep.Findings...)
	return rep, sources
}

func secWrite(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// secNoSecret fails if any secret value of the sources is in out.
func secNoSecret(t *testing.T, out string, sources []probe.Source) {
	t.Helper()
	for _, src := range sources {
		for _, name := range probe.SecretVars {
			for _, v := range strings.Split(src.Vars[name], ",") {
				_, v, _ = strings.Cut(v, ":") // a BETTER_AUTH_SECRETS entry is version:secret
				if v = strings.TrimSpace(v); len(v) >= 8 && strings.Contains(out, v) {
					t.Fatalf("the secret of %s (%s) is in the output:\n%s", src.Label, name, out)
				}
			}
			if v := src.Vars[name]; len(v) >= 8 && strings.Contains(out, strings.TrimSpace(v)) {
				t.Fatalf("%s of %s is in the output", name, src.Label)
			}
		}
	}
}

func TestSecretsFixtures(t *testing.T) {
	rep, sources := secCheck(t, secFixtureEnv...)
	bs := Secrets(rep)
	out := dbText(bs)
	auth, api, rot := rep.Sources[0], rep.Sources[1], rep.Sources[2]
	dbHasFacts(t, "text", out, bs,
		"Secrets  3 sources",
		"BETTER_AUTH_SECRETS",
		"└ version 2 (current)",
		"└ version 1",
		"✗ 3 different secrets:",
		auth.Fingerprint+" = ../../testdata/fixtures/env/auth.env",
		api.Fingerprint+" = ../../testdata/fixtures/env/api.env",
		rot.Fingerprint+" = ../../testdata/fixtures/env/rotation.env",
		"http://localhost:3000",
	)
	// The rotation's old version is auth's secret: the same fingerprint.
	if row := rowOf(out, "└ version 1"); !strings.Contains(row, auth.Fingerprint) {
		t.Errorf("version 1 of the rotation: %q, want auth's fingerprint %s", row, auth.Fingerprint)
	}
	if row := rowOf(out, "/auth.env "); !strings.Contains(row, "BETTER_AUTH_SECRET ") || !strings.Contains(row, "✓") {
		t.Errorf("auth.env's row: %q", row)
	}
	md := new(strings.Builder)
	if err := Markdown(md, bs, 2); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{out, md.String(), TextString(bs, TextOptions{Color: true})} {
		secNoSecret(t, o, sources)
		if strings.Contains(o, "Findings") || strings.Contains(o, "secret-mismatch") {
			t.Errorf("the secrets block lists findings:\n%s", o)
		}
	}
}

func TestSecretsAgree(t *testing.T) {
	dir := t.TempDir()
	a := secWrite(t, dir, "a.env", "BETTER_AUTH_SECRET=Zq3vN8pL2xT7wR5yK9mB4cF6hJ1dG0sA\nBETTER_AUTH_URL=https://admin:pw123@auth.example.com/base?token=x\n")
	b := secWrite(t, dir, "b.env", "BETTER_AUTH_SECRET=Zq3vN8pL2xT7wR5yK9mB4cF6hJ1dG0sA\n")
	rep, sources := secCheck(t, a, b)
	bs := Secrets(rep)
	out := dbText(bs)
	dbHasFacts(t, "text", out, bs, "✓ All 2 sources with a secret agree (fingerprint "+rep.Sources[0].Fingerprint+").", "https://auth.example.com/base")
	if strings.Contains(out, "pw123") || strings.Contains(out, "admin") || strings.Contains(out, "token=") {
		t.Errorf("the base URL keeps its userinfo or query:\n%s", out)
	}
	secNoSecret(t, out, sources)

	one, _ := secCheck(t, a)
	if got := dbWords(dbText(Secrets(one))); !strings.Contains(got, "One source with a secret (fingerprint "+one.Sources[0].Fingerprint+"): nothing to compare.") {
		t.Errorf("one source: %s", got)
	}
}

// Each way a source can be wrong, as the STATUS column and the variable
// say it.
func TestSecretsProblems(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		secWrite(t, dir, "short.env", "BETTER_AUTH_SECRET=tooshort\n"),
		secWrite(t, dir, "newline.env", "BETTER_AUTH_SECRET=\"Zq3vN8pL2xT7wR5yK9mB4cF6hJ1dG0sA\\n\"\n"),
		secWrite(t, dir, "none.env", "BETTER_AUTH_URL=http://localhost:3000\n"),
		secWrite(t, dir, "shadow.env", "BETTER_AUTH_SECRET=Zq3vN8pL2xT7wR5yK9mB4cF6hJ1dG0sA\nAUTH_SECRET=Pm5nB7vC9xZ1aS3dF5gH7jK9lQ2wE4rT\n"),
		secWrite(t, dir, "default.env", "BETTER_AUTH_SECRET="+probe.DefaultSecret+"\n"),
		secWrite(t, dir, "broken.env", "BETTER_AUTH_SECRETS=2:abc,oops\n"),
	}
	// A default .env that is a directory: found by looking, unreadable.
	if err := os.Mkdir(filepath.Join(dir, ".env"), 0o700); err != nil {
		t.Fatal(err)
	}
	unreadable, _ := probe.LoadSources(probe.SourceOptions{Dir: dir})
	rep, sources := secCheck(t, files...)
	rep.Sources = append(rep.Sources, probe.CheckSecrets(unreadable).Sources...)
	bs := Secrets(rep)
	out := dbText(bs)
	for _, tc := range []struct{ file, want string }{
		{"short.env", "! short, low entropy"},
		{"newline.env", "✗ trailing newline"},
		{"none.env", "✗ none → builtin-default"},
		{"none.env", "✗ no secret"},
		{"default.env", "✗ published default"},
		{"broken.env", "✗ malformed"},
		{"shadow.env", "✓"},
		{".env", "✗ unreadable: "},
	} {
		if row := rowOf(out, "/"+tc.file+" "); !strings.Contains(row, tc.want) {
			t.Errorf("%s: %q lacks %q", tc.file, row, tc.want)
		}
	}
	if row := rowOf(out, "└ also AUTH_SECRET (not used)"); row == "" || !strings.Contains(row, "32") || !strings.Contains(row, "bits") {
		t.Errorf("the shadowed AUTH_SECRET: %q\n%s", row, out)
	}
	secNoSecret(t, out, sources)
}

func TestSecretsNoSources(t *testing.T) {
	rep, _ := secCheck(t) // no files, no environment
	bs := Secrets(rep)
	if got := dbWords(dbText(bs)); got != "Secrets "+noSources {
		t.Errorf("no sources: %s", got)
	}
}
