package discover

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var fuzzKinds = []string{".dev.vars", "wrangler.toml", "docker-compose.yml", ".envrc"}

// FuzzReadExtras feeds any text to each parser, through ReadExtras: it
// must never panic, never return a variable that is not BetterAuth's or
// a value that is only a reference, and never quote a secret in an
// error.
func FuzzReadExtras(f *testing.F) {
	for _, tree := range []string{"workers", "compose"} {
		dir := filepath.Join("..", "..", "..", "testdata", "projects", tree)
		for k, name := range fuzzKinds {
			if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				f.Add(uint8(k), data)
			}
		}
	}
	for _, s := range []struct {
		k    uint8
		text string
	}{
		{0, "BETTER_AUTH_SECRET=\"authtui-project-secret-FUZZ\nX=${Y}\n"},
		{1, "[vars]\nBETTER_AUTH_SECRET = 'authtui-project-secret-FUZZ\n[env.x.vars]\nBETTER_AUTH_URL=1\n"},
		{1, "[env.production]\nvars = [1, {a = 2}]\n[env.\"bad name\".vars]\nNODE_ENV = \"x\"\n"},
		{2, "x: &a {BETTER_AUTH_URL: u}\nservices:\n  w:\n    <<: *a\n    environment: *a\n    env_file: [auth.env, {path: ../x}]\n"},
		{2, "services:\n  w:\n    environment:\n      - BETTER_AUTH_SECRET=authtui-project-secret-FUZZ\n      - A\n      - ${B}=c\n  v: *nope\n"},
		{3, "export BETTER_AUTH_SECRET=\"authtui-project-secret-FUZZ\nf() {\n export A=$(b)\n}\n"},
		{3, "export BETTER_AUTH_URL=a\\\n'b'\"c$D\" NODE_ENV=`x` #\n"},
	} {
		f.Add(s.k, []byte(s.text))
	}
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		root := t.TempDir()
		name := fuzzKinds[int(k)%len(fuzzKinds)]
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		// For compose's env_file.
		if err := os.WriteFile(filepath.Join(root, "auth.env"), []byte("BETTER_AUTH_URL=http://e.invalid\nOTHER=authtui-unrelated-not-kept\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		xs, err := ReadExtras(root, ".", []string{name})
		if err != nil && strings.Contains(string(data), "authtui-project-secret-") &&
			strings.Contains(err.Error(), "authtui-project-secret-") {
			t.Fatalf("the error quotes the file: %v", err)
		}
		for _, x := range xs {
			if x.Kind == "" || x.Env == "" || x.File == "" || x.Dir != "." {
				t.Fatalf("unlabelled: %+v", x)
			}
			for n, v := range x.Vars {
				if !kept[n] {
					t.Fatalf("returned %q", n)
				}
				if onlyRef.MatchString(strings.TrimSpace(v)) {
					t.Fatalf("%s is only a reference", n)
				}
			}
			for _, n := range x.Unresolved {
				if !kept[n] {
					t.Fatalf("unresolved %q", n)
				}
				if _, ok := x.Vars[n]; ok {
					t.Fatalf("%s both set and unresolved", n)
				}
			}
		}
	})
}
