package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/testenv"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/discover"
	"github.com/authtui/authtui/internal/probe/finding"
)

func copyProject(t testing.TB, name string) string { return testenv.CopyProject(t, name) }

func write(t testing.TB, p, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrorsNameLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	for _, c := range []struct{ body, want string }{
		{"[project]\nenvironment = \"local\"\ndatabase_url = postgres://u:hunter2@h/db\n", FileName + ":3:"},
		{"[project]\nenviroment = \"local\"\n", "2:1: unknown key project.enviroment"},
		{"[[services]]\nname = \"a\"\nrole = \"backend\"\ndir = \".\"\n", "role must be"},
		{"[[services]]\nname = \"a\"\nrole = \"api\"\ndir = \"../elsewhere\"\n", "inside the project"},
		{"[project]\nenvironment = \"staging\"\n", "project.environment"},
	} {
		write(t, p, c.body)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.body, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error quotes a password: %v", err)
		}
	}
}

func TestFindLooksUpward(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, FileName), "[project]\n")
	deep := filepath.Join(root, "a", "b")
	os.MkdirAll(deep, 0o755)
	if p, ok := Find(deep); !ok || p != filepath.Join(root, FileName) {
		t.Errorf("Find: %q %v", p, ok)
	}
}

// init's file, read back, gives the same plan; a declared file then
// overrides discovery and the flags override the file.
func TestRenderLoadAndPrecedence(t *testing.T) {
	root := copyProject(t, "two-service")
	plan, err := Build(Options{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	if plan.File != "" || plan.Empty() || plan.Environment() != discover.EnvLocal {
		t.Fatalf("plan: %+v", plan)
	}
	text := Render(plan)
	write(t, filepath.Join(root, FileName), string(text)+"\n[[services]]\nname = \"web\"\nrole = \"api\"\ndir = \"web\"\napi_url = \"http://127.0.0.1:9/me\"\n")
	sub := filepath.Join(root, "api")
	plan2, err := Build(Options{Dir: sub})
	if err != nil {
		t.Fatalf("the rendered file does not load: %v\n%s", err, text)
	}
	if plan2.File == "" || plan2.Root != root {
		t.Fatalf("file not found from a subdirectory: %+v", plan2)
	}
	names := map[string]PlanService{}
	for _, s := range plan2.Services {
		names[s.Name] = s
	}
	if names["auth-service"].Role != discover.RoleAuth || names["api"].Role != discover.RoleConsumer || !names["web"].Declared {
		t.Errorf("services: %+v", plan2.Services)
	}
	srcs, fs := plan2.Sources(plan2.Environment(), nil)
	if len(fs) != 0 || len(srcs) != 2 || srcs[0].Label != "auth-service (backend/auth-service/.env.local)" {
		t.Fatalf("sources: %+v %v", srcs, fs)
	}
	if rep := probe.CheckSecrets(srcs); !rep.Findings.Has(finding.SecretMismatch) {
		t.Errorf("no mismatch between the two services: %+v", rep.Findings)
	}
	d := plan2.Declared()
	cfg := probe.Resolve(probe.Flags{Declared: d}, srcs, nil)
	if cfg.APIURL.Value != "http://127.0.0.1:9/me" || cfg.APIURL.From != "api_url in authtui.toml" {
		t.Errorf("api url: %+v", cfg.APIURL)
	}
	if cfg.BaseURL.From != "BETTER_AUTH_URL in auth-service (backend/auth-service/.env.local)" && cfg.BaseURL.From != "BETTER_AUTH_URL in auth-service (backend/auth-service/.env)" {
		// .env.local sets only the secret: the label names the secret's file.
		t.Errorf("base url from %q", cfg.BaseURL.From)
	}
	cfg = probe.Resolve(probe.Flags{APIURL: "http://127.0.0.1:8/x", Declared: d}, srcs, nil)
	if cfg.APIURL.From != "--api-url" {
		t.Errorf("the flag does not override the file: %+v", cfg.APIURL)
	}
}

func TestDeclaredEnvFilesReplaceDiscovered(t *testing.T) {
	root := copyProject(t, "two-service")
	write(t, filepath.Join(root, FileName), `[project]
environment = "local"
[[services]]
name = "auth"
role = "auth"
dir = "backend/auth-service"
env_files = [".env"]
base_url = "http://127.0.0.1:7"
`)
	plan, err := Build(Options{Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := plan.Sources("development", nil)
	if srcs[0].Label != "auth (backend/auth-service/.env)" {
		t.Errorf("declared env files not used: %+v", srcs[0].Label)
	}
	cfg := probe.Resolve(probe.Flags{Declared: plan.Declared()}, srcs, nil)
	if cfg.BaseURL.Value != "http://127.0.0.1:7" || cfg.BaseURL.From != "base_url in authtui.toml" {
		t.Errorf("base url: %+v", cfg.BaseURL)
	}
}

func TestEmptyTree(t *testing.T) {
	plan, err := Build(Options{Dir: t.TempDir()})
	if err != nil || !plan.Empty() {
		t.Errorf("an empty directory: %+v %v", plan, err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte("[project]\nenvironment = \"local\"\n[[services]]\nname = \"a\"\nrole = \"auth\"\ndir = \".\"\n"))
	f.Add([]byte("[[services]]\nname = 1\n"))
	f.Add([]byte("x = [[[\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.toml")
		os.WriteFile(p, data, 0o644)
		Load(p) // must not panic
	})
}
