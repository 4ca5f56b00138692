package discover

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// names lists the file names in root/dir, as the walk would pass them.
func names(t *testing.T, root, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// onlyKept fails when an Extra carries anything but BetterAuth
// variables, or a fixture's unrelated value.
func onlyKept(t *testing.T, xs []Extra) {
	t.Helper()
	for _, x := range xs {
		for k, v := range x.Vars {
			if !kept[k] || strings.Contains(v, "not-kept") {
				t.Errorf("%s: kept %s", x.File, k)
			}
			if strings.Contains(v, "${") {
				t.Errorf("%s: %s holds a reference", x.File, k)
			}
		}
		for _, k := range x.Unresolved {
			if !kept[k] {
				t.Errorf("%s: unresolved %s", x.File, k)
			}
		}
	}
}

func extra(t *testing.T, xs []Extra, file, env string) Extra {
	t.Helper()
	for _, x := range xs {
		if x.File == file && x.Env == env {
			return x
		}
	}
	t.Fatalf("no %s in %s; got %+v", file, env, xs)
	return Extra{}
}

func TestExtrasWorkers(t *testing.T) {
	root := copyProject(t, "workers")
	xs, err := ReadExtras(root, ".", names(t, root, "."))
	if err != nil {
		t.Fatal(err)
	}
	onlyKept(t, xs)
	var got []string
	for _, x := range xs {
		got = append(got, x.Kind+":"+x.Env)
	}
	if want := "dev.vars:development wrangler.toml:development wrangler.toml:production wrangler.toml:staging"; strings.Join(got, " ") != want {
		t.Errorf("order: %v, want %s", got, want)
	}
	dev := extra(t, xs, ".dev.vars", EnvLocal)
	if !reflect.DeepEqual(dev.Vars, map[string]string{"BETTER_AUTH_SECRET": "authtui-project-secret-WORKER-3333333333333333"}) ||
		dev.Kind != KindDevVars || dev.Dir != "." || dev.Service != "" {
		t.Errorf(".dev.vars: %+v", dev)
	}
	local := extra(t, xs, "wrangler.toml", EnvLocal)
	if !reflect.DeepEqual(local.Vars, map[string]string{"BETTER_AUTH_URL": "http://localhost:8787"}) {
		t.Errorf("[vars]: %+v", local)
	}
	prod := extra(t, xs, "wrangler.toml", EnvProduction)
	if !reflect.DeepEqual(prod.Vars, map[string]string{
		"BETTER_AUTH_URL": "https://auth.example.com", "BETTER_AUTH_TRUSTED_ORIGINS": "https://app.example.com", "NODE_ENV": "production",
	}) {
		t.Errorf("[env.production.vars]: %+v", prod)
	}
	// An inline table works as well; MAX_SESSIONS is not BetterAuth's.
	staging := extra(t, xs, "wrangler.toml", "staging")
	if !reflect.DeepEqual(staging.Vars, map[string]string{"BETTER_AUTH_URL": "https://auth.staging.example.com"}) {
		t.Errorf("staging: %+v", staging)
	}

	// The walk sees the Worker (the lead joins the two).
	p, err := Walk(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := service(t, p, "."); s.Stack != StackWorkers || s.Role != RoleAuth {
		t.Errorf("worker: %+v", s)
	}
}

func TestExtrasCompose(t *testing.T) {
	root := copyProject(t, "compose")
	xs, err := ReadExtras(root, ".", names(t, root, "."))
	if err != nil {
		t.Fatal(err)
	}
	onlyKept(t, xs)
	if len(xs) != 3 {
		t.Fatalf("want api, auth, .envrc (db sets no BetterAuth variable): %+v", xs)
	}
	api, auth, envrc := xs[0], xs[1], xs[2]
	if api.File != "docker-compose.yml#api" || api.Service != "api" || api.Env != EnvCompose || api.Kind != KindCompose || api.Dir != "." {
		t.Errorf("api: %+v", api)
	}
	if !reflect.DeepEqual(api.Vars, map[string]string{"BETTER_AUTH_SECRET": "authtui-project-secret-COMPOSE-API-5555555555"}) ||
		!reflect.DeepEqual(api.Unresolved, []string{"BETTER_AUTH_URL"}) {
		t.Errorf("api (list form): vars %v unresolved %v", api.Vars, api.Unresolved)
	}
	// env_file first, environment over it, the <<: merge included; the
	// optional env_file is absent and that is fine.
	if auth.File != "docker-compose.yml#auth" || auth.Service != "auth" || len(auth.Unresolved) != 0 ||
		!reflect.DeepEqual(auth.Vars, map[string]string{
			"BETTER_AUTH_SECRET":          "authtui-project-secret-COMPOSE-AUTH-4444444444",
			"BETTER_AUTH_URL":             "http://localhost:3001",
			"BETTER_AUTH_TRUSTED_ORIGINS": "http://localhost:3000",
			"NODE_ENV":                    "production",
			"DATABASE_URL":                "postgres://authtui:authtui@db:5432/authtui",
		}) {
		t.Errorf("auth (map form): %+v", auth)
	}
	if envrc.File != ".envrc" || envrc.Kind != KindEnvrc || envrc.Env != EnvLocal ||
		!reflect.DeepEqual(envrc.Vars, map[string]string{
			"BETTER_AUTH_SECRET": "authtui-project-secret-ENVRC-6666666666666666",
			"BETTER_AUTH_URL":    "http://localhost:3001",
			"DATABASE_URL":       "postgres://authtui:authtui@localhost:5432/authtui",
		}) {
		t.Errorf(".envrc: %+v", envrc)
	}
	// dotenv_if_exists, source_env_if_exists, PATH_add, the $(...) export,
	// and the function's three lines (its export included).
	if envrc.Ignored != 7 || !reflect.DeepEqual(envrc.Unresolved, []string{"NODE_ENV"}) {
		t.Errorf(".envrc: ignored %d unresolved %v", envrc.Ignored, envrc.Unresolved)
	}
}

func TestExtrasInSubdirectory(t *testing.T) {
	root := t.TempDir()
	write(t, root, "deploy/compose.yaml", "services:\n  web:\n    env_file: web.env\n    environment: [NODE_ENV=production]\n")
	write(t, root, "deploy/docker-compose.yml", "services:\n  old:\n    environment: [BETTER_AUTH_SECRET=authtui-project-secret-OLD-0000]\n")
	write(t, root, "deploy/web.env", "BETTER_AUTH_SECRET=authtui-project-secret-WEB-7777777777\n")
	write(t, root, "deploy/.dev.vars", "BETTER_AUTH_URL=http://localhost:8787\n")
	xs, err := ReadExtras(root, "deploy", names(t, root, "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	// compose.yaml wins over docker-compose.yml, as in Compose.
	if len(xs) != 2 || xs[0].File != "deploy/.dev.vars" || xs[0].Dir != "deploy" ||
		xs[1].File != "deploy/compose.yaml#web" || xs[1].Vars["BETTER_AUTH_SECRET"] != "authtui-project-secret-WEB-7777777777" {
		t.Errorf("got %+v", xs)
	}
	// Names not given are not read.
	if xs, err := ReadExtras(root, "deploy", []string{"web.env"}); err != nil || len(xs) != 0 {
		t.Errorf("got %+v %v", xs, err)
	}
}

func TestComposeEnvironmentForms(t *testing.T) {
	root := t.TempDir()
	write(t, root, "docker-compose.yml", `
x-base: &base
  environment: &env
    BETTER_AUTH_URL: http://base.invalid
services:
  merged:
    <<: *base
  aliased:
    environment: *env
  nulls:
    environment:
      BETTER_AUTH_SECRET:
      BETTER_AUTH_URL: ~
      NODE_ENV: 1
  list:
    environment:
      - BETTER_AUTH_SECRET
      - BETTER_AUTH_URL=http://a.invalid/$$path
      - DATABASE_URL=postgres://u:p@${DB_HOST}/db
      - NODE_ENV=production
      - NODE_ENV=$NODE_ENV
      - {not: a string}
  interp:
    environment:
      BETTER_AUTH_SECRET: "${BETTER_AUTH_SECRET:-authtui-project-secret-DEFAULT}"
      BETTER_AUTH_URL: "cost $ 5"
  "bad name!":
    environment: {BETTER_AUTH_SECRET: x}
  scalar: just-a-string
`)
	xs, err := ReadExtras(root, ".", []string{"docker-compose.yml"})
	if err != nil {
		t.Fatal(err)
	}
	onlyKept(t, xs)
	got := map[string]Extra{}
	for _, x := range xs {
		got[x.Service] = x
	}
	if len(got) != 5 {
		t.Fatalf("services: %+v", xs)
	}
	for _, s := range []string{"merged", "aliased"} {
		if got[s].Vars["BETTER_AUTH_URL"] != "http://base.invalid" {
			t.Errorf("%s: %+v", s, got[s])
		}
	}
	if n := got["nulls"]; !reflect.DeepEqual(n.Unresolved, []string{"BETTER_AUTH_SECRET", "BETTER_AUTH_URL"}) || n.Vars["NODE_ENV"] != "1" {
		t.Errorf("nulls: %+v", n)
	}
	l := got["list"]
	if !reflect.DeepEqual(l.Unresolved, []string{"BETTER_AUTH_SECRET", "DATABASE_URL", "NODE_ENV"}) ||
		!reflect.DeepEqual(l.Vars, map[string]string{"BETTER_AUTH_URL": "http://a.invalid/$path"}) || l.Ignored != 1 {
		t.Errorf("list: %+v", l)
	}
	if i := got["interp"]; !reflect.DeepEqual(i.Unresolved, []string{"BETTER_AUTH_SECRET"}) || i.Vars["BETTER_AUTH_URL"] != "cost $ 5" {
		t.Errorf("interp: %+v", i)
	}
}

func TestComposeEnvFiles(t *testing.T) {
	root := t.TempDir()
	write(t, root, "app/docker-compose.yml", `services:
  web:
    env_file: [../shared/a.env, b.env, {path: missing.env, required: false}]
    environment: {BETTER_AUTH_URL: http://web.invalid}
  leaky:
    env_file: ../../outside.env
    environment: {BETTER_AUTH_URL: http://leaky.invalid}
  gone:
    env_file: gone.env
    environment: {BETTER_AUTH_URL: http://gone.invalid}
`)
	write(t, root, "shared/a.env", "BETTER_AUTH_SECRET=authtui-project-secret-A-1111\nBETTER_AUTH_URL=http://a.invalid\n")
	write(t, root, "app/b.env", "BETTER_AUTH_SECRET=authtui-project-secret-B-2222\nNODE_ENV=${MODE}\nOTHER=authtui-unrelated-not-kept\n")
	xs, err := ReadExtras(root, "app", []string{"docker-compose.yml"})
	if err == nil || !strings.Contains(err.Error(), "app/docker-compose.yml#leaky: line 6: env_file is outside the project") ||
		!strings.Contains(err.Error(), "app/docker-compose.yml#gone: env_file app/gone.env: no such file") {
		t.Errorf("err: %v", err)
	}
	onlyKept(t, xs)
	if len(xs) != 3 {
		t.Fatalf("a service whose env_file fails is still read: %+v", xs)
	}
	web := xs[2]
	if web.Service != "web" || !reflect.DeepEqual(web.Vars, map[string]string{
		"BETTER_AUTH_SECRET": "authtui-project-secret-B-2222", "BETTER_AUTH_URL": "http://web.invalid",
	}) || !reflect.DeepEqual(web.Unresolved, []string{"NODE_ENV"}) {
		t.Errorf("web: %+v", web)
	}
}

func TestDevVarsReferences(t *testing.T) {
	vars, unres, err := parseDotenv([]byte("A=1\nBETTER_AUTH_URL=http://${HOST}:8787\nBETTER_AUTH_SECRET='lit$eral'\nNODE_ENV=\"\\$x\"\nDATABASE_URL=$OTHER\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(vars, map[string]string{"BETTER_AUTH_SECRET": "lit$eral", "NODE_ENV": "$x"}) ||
		!reflect.DeepEqual(unres, []string{"BETTER_AUTH_URL", "DATABASE_URL"}) {
		t.Errorf("vars %v unresolved %v", vars, unres)
	}
}

func TestOnlyReferencesNeverValues(t *testing.T) {
	root := t.TempDir()
	// Wrangler does not interpolate, but a value that is only a reference
	// is a placeholder for a templating step, never the secret.
	write(t, root, "wrangler.toml", "[vars]\nBETTER_AUTH_SECRET = \"${BETTER_AUTH_SECRET}\"\nBETTER_AUTH_URL = \"http://${HOST}\"\n"+
		"[env.preview.vars]\nBETTER_AUTH_SECRET = \" $SECRET \"\n")
	write(t, root, ".dev.vars", "BETTER_AUTH_SECRET='${X}'\n")
	xs, err := ReadExtras(root, ".", []string{"wrangler.toml", ".dev.vars"})
	if err != nil || len(xs) != 3 {
		t.Fatalf("%+v %v", xs, err)
	}
	for _, x := range xs {
		if _, ok := x.Vars["BETTER_AUTH_SECRET"]; ok || !reflect.DeepEqual(x.Unresolved, []string{"BETTER_AUTH_SECRET"}) {
			t.Errorf("%s %s: %+v", x.File, x.Env, x)
		}
	}
	if xs[1].Vars["BETTER_AUTH_URL"] != "http://${HOST}" || xs[2].Env != EnvPreview {
		t.Errorf("wrangler: %+v", xs[1:])
	}
}

func TestEnvrcShellWords(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    map[string]string
		unres   []string
		ignored int
	}{
		{`export BETTER_AUTH_SECRET='a$b "c"'`, map[string]string{"BETTER_AUTH_SECRET": `a$b "c"`}, nil, 0},
		{`export BETTER_AUTH_SECRET="a\"b\$c\\d\e"`, map[string]string{"BETTER_AUTH_SECRET": `a"b$c\d\e`}, nil, 0},
		{`export BETTER_AUTH_SECRET=a\ b'c'"d"e # note`, map[string]string{"BETTER_AUTH_SECRET": "a bcde"}, nil, 0},
		{"export BETTER_AUTH_URL=http://x.invalid NODE_ENV=test\texport", map[string]string{}, nil, 1},
		{"export BETTER_AUTH_URL=http://x.invalid NODE_ENV=test", map[string]string{"BETTER_AUTH_URL": "http://x.invalid", "NODE_ENV": "test"}, nil, 0},
		{"export BETTER_AUTH_SECRET=\"multi\nline\"\nexport NODE_ENV=dev", map[string]string{"BETTER_AUTH_SECRET": "multi\nline", "NODE_ENV": "dev"}, nil, 0},
		{"export BETTER_AUTH_SECRET=abc\\\ndef", map[string]string{"BETTER_AUTH_SECRET": "abcdef"}, nil, 0},
		{"export BETTER_AUTH_SECRET=\r\nexport NODE_ENV=x\r\n", map[string]string{"BETTER_AUTH_SECRET": "", "NODE_ENV": "x"}, nil, 0},
		{"export BETTER_AUTH_SECRET=$BETTER_AUTH_SECRET", map[string]string{}, []string{"BETTER_AUTH_SECRET"}, 0},
		{`export BETTER_AUTH_URL="http://${HOST}/x" BETTER_AUTH_SECRET=s3`, map[string]string{"BETTER_AUTH_SECRET": "s3"}, []string{"BETTER_AUTH_URL"}, 0},
		{"export BETTER_AUTH_SECRET=`pass show auth`", map[string]string{}, nil, 1},
		{`export BETTER_AUTH_SECRET=$'a\nb'`, map[string]string{}, nil, 1},
		{`export BETTER_AUTH_SECRET="cost $5 or $"`, map[string]string{}, []string{"BETTER_AUTH_SECRET"}, 0},
		{`export BETTER_AUTH_URL="http://x.invalid/$"`, map[string]string{"BETTER_AUTH_URL": "http://x.invalid/$"}, nil, 0},
		{"export BETTER_AUTH_SECRET=a; echo hi", map[string]string{}, nil, 1},
		{"export BETTER_AUTH_SECRET", map[string]string{}, nil, 1},
		{"export -n BETTER_AUTH_SECRET=x", map[string]string{}, nil, 1},
		{"BETTER_AUTH_SECRET=unexported", map[string]string{}, nil, 1},
		{"exported=1", map[string]string{}, nil, 1},
		{"if has op; then\n  export BETTER_AUTH_SECRET=x\nfi\nexport NODE_ENV=y", map[string]string{"NODE_ENV": "y"}, nil, 3},
		{"f() {\n  if true; then\n    export BETTER_AUTH_SECRET=x\n  fi\n}\nexport NODE_ENV=y", map[string]string{"NODE_ENV": "y"}, nil, 5},
		{"export BETTER_AUTH_SECRET=first\nexport BETTER_AUTH_SECRET=$X\n", map[string]string{}, []string{"BETTER_AUTH_SECRET"}, 0},
		{"export BETTER_AUTH_SECRET=$X\nexport BETTER_AUTH_SECRET=second\n", map[string]string{"BETTER_AUTH_SECRET": "second"}, nil, 0},
		{"\xef\xbb\xbf# comment\n\n   \nexport GITHUB_TOKEN=authtui-unrelated-not-kept\n", map[string]string{}, nil, 0},
	} {
		a, err := parseEnvrc([]byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(a.vars(), c.want) || !reflect.DeepEqual(a.unresolvedNames(), c.unres) || a.ignored != c.ignored {
			t.Errorf("%q: vars %q unresolved %v ignored %d; want %q %v %d", c.in, a.vars(), a.unresolvedNames(), a.ignored, c.want, c.unres, c.ignored)
		}
	}
}

const leak = "authtui-project-secret-LEAK-9999999999"

func TestExtrasMalformed(t *testing.T) {
	for _, c := range []struct {
		name, content, want string
	}{
		{"wrangler.toml", "name = \"w\"\n[vars]\nBETTER_AUTH_SECRET = \"" + leak + "\nBETTER_AUTH_URL = \"u\"\n", "wrangler.toml: line 3: not valid TOML"},
		{"wrangler.toml", "[vars]\nBETTER_AUTH_SECRET = '" + leak + "' trailing\n", "wrangler.toml: line 2: not valid TOML"},
		{"wrangler.toml", "[vars]\n[vars]\n", "wrangler.toml: line 2: not valid TOML"},
		// yaml.v3 places this one on the line where the enclosing mapping
		// starts.
		{"docker-compose.yml", "services:\n  auth:\n    environment:\n      BETTER_AUTH_SECRET: " + leak + "\n     BETTER_AUTH_URL: x\n", "docker-compose.yml: line 2: not valid YAML (did not find expected key)"},
		{"docker-compose.yml", "services:\n  auth:\n\tenvironment: {BETTER_AUTH_SECRET: " + leak + "}\n", "docker-compose.yml: line 3: not valid YAML"},
		{"docker-compose.yml", "services:\n  auth:\n    environment: *" + leak + "\n", "docker-compose.yml: line 3: not valid YAML"},
		{"docker-compose.yml", "- " + leak + "\n", "docker-compose.yml: line 1: not a compose file"},
		{"docker-compose.yml", "services: [" + leak + "]\n", "docker-compose.yml: line 1: services is not a mapping"},
		{"docker-compose.yml", "services:\n  a: \"" + leak + "\x01\"\n", "docker-compose.yml: line 2: not valid YAML"},
		{".envrc", "# x\nexport BETTER_AUTH_SECRET=\"" + leak + "\n", ".envrc: line 2: quoted value opened on line 2 is never closed"},
		{".envrc", "export A=1\n\x00" + leak, ".envrc: line 2: contains NUL bytes"},
		{".dev.vars", "A=1\nBETTER_AUTH_SECRET=\"" + leak + "\n", ".dev.vars: line 2: quoted value is never closed"},
	} {
		root := t.TempDir()
		write(t, root, c.name, c.content)
		other := ".envrc"
		if c.name == ".envrc" {
			other = ".dev.vars"
		}
		write(t, root, other, "export BETTER_AUTH_URL=http://ok.invalid\n")
		xs, err := ReadExtras(root, ".", []string{c.name, other})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s %q: error %v, want %s", c.name, c.content, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "LEAK") || strings.Contains(err.Error(), "999") {
			t.Errorf("%s: the error quotes the file: %v", c.name, err)
		}
		// The other file is still read.
		if len(xs) != 1 || xs[0].Vars["BETTER_AUTH_URL"] != "http://ok.invalid" {
			t.Errorf("%s: others: %+v", c.name, xs)
		}
	}
}

func TestExtrasFileLimits(t *testing.T) {
	root := t.TempDir()
	write(t, root, "wrangler.toml", "[vars]\nX = \""+strings.Repeat("a", 1<<20)+"\"\n")
	if err := os.Mkdir(filepath.Join(root, ".envrc"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := ReadExtras(root, ".", []string{"wrangler.toml", ".envrc", ".dev.vars"})
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	for _, want := range []string{"wrangler.toml: larger than", ".envrc: is a directory", ".dev.vars: no such file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestComposeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &a0 {BETTER_AUTH_URL: http://x.invalid}\n")
	for i := 1; i < 40; i++ {
		b.WriteString("x" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " {<<: [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]}\n")
	}
	b.WriteString("services:\n  web:\n    environment: *a39\n")
	for i := 0; i < 50; i++ {
		b.WriteString("  s" + strconv.Itoa(i) + ":\n    <<: {environment: *a39}\n")
	}
	svcs, err := parseCompose([]byte(b.String()))
	if len(svcs) == 0 && err == nil {
		t.Errorf("neither services nor an error")
	}
	if err != nil && !strings.Contains(err.Error(), "line ") {
		t.Errorf("err: %v", err)
	}
}
