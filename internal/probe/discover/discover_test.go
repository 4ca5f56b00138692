package discover

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/testenv"

	"github.com/authtui/authtui/internal/probe/finding"
)

func copyProject(t testing.TB, name string) string { return testenv.CopyProject(t, name) }

func write(t testing.TB, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func service(t *testing.T, p *Project, dir string) Service {
	t.Helper()
	for _, s := range p.Services {
		if s.Dir == dir {
			return s
		}
	}
	t.Fatalf("no service at %s; found %+v", dir, p.Services)
	return Service{}
}

func TestTwoServiceLayout(t *testing.T) {
	root := copyProject(t, "two-service")
	write(t, root, "backend/auth-service/node_modules/better-auth/package.json", `{"name":"better-auth","version":"1.3.7"}`)
	p, err := Walk(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Services) != 2 {
		t.Fatalf("services: %+v", p.Services)
	}
	auth := service(t, p, "backend/auth-service")
	if auth.Role != RoleAuth || auth.Stack != StackNode || auth.BetterAuth != "1.3.7" || auth.Name != "auth-service" {
		t.Errorf("auth service: %+v", auth)
	}
	if len(auth.Envs) != 1 || auth.Envs[0].Name != EnvLocal ||
		strings.Join(auth.Envs[0].Files, " ") != "backend/auth-service/.env.local backend/auth-service/.env" {
		t.Errorf("auth load order: %+v", auth.Envs)
	}
	api := service(t, p, "api")
	if api.Role != RoleConsumer || api.Stack != StackPython {
		t.Errorf("api: %+v", api)
	}
	// .env.local wins over .env for the secret; the base URL comes from
	// .env, the only file that sets it.
	vals, fs := p.Effective(auth.Envs[0])
	if len(fs) != 0 || vals["BETTER_AUTH_SECRET"].File != "backend/auth-service/.env.local" ||
		vals["BETTER_AUTH_URL"].File != "backend/auth-service/.env" {
		t.Errorf("effective: %+v %v", vals, fs)
	}
	skipped := fmt.Sprint(p.Skipped)
	if !strings.Contains(skipped, "node_modules/") || !strings.Contains(skipped, ".env.example") {
		t.Errorf("skipped: %s", skipped)
	}
	srcs, _ := p.Sources()
	_, findings := Compare(srcs)
	if !findings.Has(finding.SecretMismatch) {
		t.Fatalf("no mismatch: %+v", findings)
	}
	for _, f := range findings {
		if f.ID == finding.SecretMismatch && !strings.Contains(f.Message, "In development") {
			t.Errorf("mismatch not placed in its environment: %s", f.Message)
		}
	}
	for _, s := range srcs {
		if s.Service == "auth-service" && s.Source.Label != "auth-service (backend/auth-service/.env.local)" {
			t.Errorf("label %q", s.Source.Label)
		}
	}
}

func TestNextMonorepoEnvironments(t *testing.T) {
	root := copyProject(t, "next-monorepo")
	// Hoisted to the workspace root, as npm workspaces install it.
	write(t, root, "node_modules/better-auth/package.json", `{"name":"better-auth","version":"1.3.9"}`)
	p, err := Walk(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	web := service(t, p, "apps/web")
	if web.Stack != StackNext || web.Role != RoleAuth || web.BetterAuth != "1.3.9" {
		t.Errorf("web: %+v", web)
	}
	envs := map[string][]string{}
	for _, e := range web.Envs {
		envs[e.Name] = e.Files
	}
	want := map[string]string{
		EnvProduction:  "apps/web/.vercel/.env.production.local apps/web/.env.local apps/web/.env",
		EnvPreview:     "apps/web/.vercel/.env.preview.local apps/web/.env",
		EnvDevelopment: "apps/web/.env.local apps/web/.env",
	}
	for env, files := range want {
		if got := strings.Join(envs[env], " "); got != files {
			t.Errorf("web %s: %q, want %q", env, got, files)
		}
	}
	for _, s := range p.Services {
		if s.Dir == "." {
			t.Error("the workspace root is not a service")
		}
	}
	srcs, _ := p.Sources()
	reports, fs := Compare(srcs)
	// Production agrees; development agrees; Preview: the API holds
	// Production's secret.
	if !fs.Has(finding.EnvironmentCrossed) {
		t.Fatalf("no environment-crossed: %+v", fs)
	}
	for _, f := range fs {
		if f.ID == finding.SecretMismatch && !strings.HasPrefix(f.Message, "In preview") {
			t.Errorf("mismatch outside preview: %s", f.Message)
		}
		if f.ID == finding.EnvironmentCrossed && !strings.Contains(f.Message, "api's preview secret") {
			t.Errorf("crossed: %s", f.Message)
		}
	}
	if len(reports[EnvProduction].Sources) != 2 {
		t.Errorf("production compares both services: %+v", reports[EnvProduction].Sources)
	}
	// The secret's value never appears in a message.
	for _, f := range fs {
		if strings.Contains(f.Message, "4444444444444444") {
			t.Errorf("secret in finding: %s", f.Message)
		}
	}
}

func TestPreviewMissing(t *testing.T) {
	root := copyProject(t, "next-monorepo")
	os.Remove(filepath.Join(root, "apps/api/.vercel/.env.preview.local"))
	p, err := Walk(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := p.Sources()
	_, fs := Compare(srcs)
	if !fs.Has(finding.EnvironmentMissing) || fs.Has(finding.EnvironmentCrossed) {
		t.Fatalf("findings: %+v", fs)
	}
}

func TestSkipsHugeNodeModules(t *testing.T) {
	root := copyProject(t, "two-service")
	nm := filepath.Join(root, "backend", "auth-service", "node_modules")
	for i := range 100 {
		dir := filepath.Join(nm, fmt.Sprintf("pkg%03d", i))
		os.MkdirAll(dir, 0o755)
		for j := range 100 {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.js", j)), nil, 0o644)
		}
	}
	p, err := Walk(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 10,000 files under node_modules, none of them examined.
	if p.Entries > 50 {
		t.Errorf("examined %d entries", p.Entries)
	}
}

func TestBoundsAndHostileTrees(t *testing.T) {
	root := t.TempDir()
	deep := root
	for i := range 12 {
		deep = filepath.Join(deep, fmt.Sprintf("d%d", i))
	}
	write(t, deep, "package.json", `{"name":"deep"}`)
	write(t, root, "bad/package.json", `{not json`)
	write(t, root, "loop/package.json", `{"name":"loop"}`)
	os.Symlink(root, filepath.Join(root, "loop", "up"))
	write(t, root, "svc/go.mod", "module x\n")
	write(t, root, "svc/wrangler.jsonc", "{}")
	write(t, root, "svc/.env", "BETTER_AUTH_SECRET=\"unterminated\n")
	p, err := Walk(root, Options{MaxDepth: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Services {
		if s.Name == "deep" || s.Dir == "bad" {
			t.Errorf("found %+v", s)
		}
	}
	if !strings.Contains(fmt.Sprint(p.Skipped), "svc/wrangler.jsonc not read: wrangler's JSON") {
		t.Errorf("an unsupported source is not listed as skipped: %+v", p.Skipped)
	}
	if !strings.Contains(fmt.Sprint(p.Skipped), "deeper than 4 levels") {
		t.Errorf("skipped: %+v", p.Skipped)
	}
	srcs, fs := p.Sources()
	if !fs.Has(finding.EnvFileUnreadable) || len(srcs) != 1 {
		t.Errorf("a malformed env file is a finding: %+v %+v", srcs, fs)
	}
	if _, err := Walk(filepath.Join(root, "nope"), Options{}); err == nil {
		t.Error("a missing root is an error")
	}
	p, _ = Walk(root, Options{MaxEntries: 3})
	if !strings.Contains(fmt.Sprint(p.Skipped), "more than 3 entries") {
		t.Errorf("entry cap: %+v", p.Skipped)
	}
}

// BenchmarkWalk50k is discovery on a 50,000-file tree: 5 services, each
// with a node_modules of 9,000 files, and 5,000 source files.
func BenchmarkWalk50k(b *testing.B) {
	root := b.TempDir()
	for s := range 5 {
		svc := filepath.Join(root, "services", fmt.Sprintf("svc%d", s))
		write(b, svc, "package.json", `{"name":"svc","dependencies":{"better-auth":"1.3.0"}}`)
		write(b, svc, ".env", "BETTER_AUTH_SECRET=authtui-bench-secret-0123456789abcdef\n")
		for d := range 90 {
			dir := filepath.Join(svc, "node_modules", fmt.Sprintf("p%d", d))
			os.MkdirAll(dir, 0o755)
			for f := range 100 {
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.js", f)), nil, 0o644)
			}
		}
		for d := range 10 {
			dir := filepath.Join(svc, "src", fmt.Sprintf("m%d", d))
			os.MkdirAll(dir, 0o755)
			for f := range 100 {
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.ts", f)), nil, 0o644)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Walk(root, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// Sources that are not env files join the comparison: a Worker's local
// secret from .dev.vars, compose services as services of their own. A
// deployed Worker's secrets are not in any file (wrangler secret put):
// that is never reported as a missing secret.
func TestOtherSourcesCompared(t *testing.T) {
	root := copyProject(t, "workers")
	p, err := Walk(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srcs, fs := p.Sources()
	_, cmp := Compare(srcs)
	fs = append(fs, cmp...)
	if fs.Has(finding.SecretMissing) {
		t.Errorf("a deployed Worker's secret reported missing: %+v", fs)
	}
	if len(srcs) != 1 || srcs[0].Env != EnvDevelopment || srcs[0].Source.Label != "auth-worker (.dev.vars)" {
		t.Errorf("worker sources: %+v", srcs)
	}
	if len(p.Unresolved) != 2 || !strings.Contains(p.Unresolved[0], "wrangler secret put") {
		t.Errorf("not compared: %v", p.Unresolved)
	}

	root = copyProject(t, "compose")
	p, err = Walk(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ = p.Sources()
	_, cmp = Compare(srcs)
	var mismatch string
	for _, f := range cmp {
		if f.ID == finding.SecretMismatch {
			mismatch = f.Message
		}
	}
	if !strings.HasPrefix(mismatch, "In compose:") || !strings.Contains(mismatch, "auth (docker-compose.yml#auth)") || !strings.Contains(mismatch, "api (docker-compose.yml#api)") {
		t.Errorf("compose services not compared: %q", mismatch)
	}
}
