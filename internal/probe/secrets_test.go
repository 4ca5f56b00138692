package probe

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/probe/finding"
)

func writeEnv(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSources(t *testing.T) {
	dir := t.TempDir()
	good := writeEnv(t, dir, "good.env", "# auth\nexport BETTER_AUTH_SECRET="+secretA+"\nUNRELATED=1\n")
	bad := writeEnv(t, dir, "bad.env", "BETTER_AUTH_URL=http://localhost:3000\nBETTER_AUTH_SECRET=\""+secretB+"\nOTHER=1\n")
	badName := writeEnv(t, dir, "badname.env", "OK=1\n\nBAD-NAME="+secretC+"\n")
	missing := filepath.Join(dir, "missing.env")

	sources, fs := LoadSources(SourceOptions{
		EnvFiles: []string{good, bad, badName, missing},
		Environ:  []string{"PATH=/bin", "BETTER_AUTH_URL=http://localhost:3000"},
	})
	if len(sources) != 5 {
		t.Fatalf("want 4 files + env, got %d", len(sources))
	}
	if sources[0].Label != good || sources[0].Vars["BETTER_AUTH_SECRET"] != secretA {
		t.Errorf("good file: %+v", sources[0].Label)
	}
	if _, ok := sources[0].Vars["UNRELATED"]; ok {
		t.Error("unrelated variables must not be kept")
	}
	if sources[4].Label != ProcessEnvLabel {
		t.Errorf("last source %q, want env", sources[4].Label)
	}
	n := 0
	for _, f := range fs {
		if f.ID != finding.EnvFileUnreadable {
			continue
		}
		n++
		for _, s := range []string{secretA, secretB, secretC} {
			if strings.Contains(f.Message, s) {
				t.Errorf("finding leaks a secret: %s", f.Message)
			}
		}
	}
	if n != 3 {
		t.Errorf("want 3 env-file-unreadable, got %d: %v", n, fs)
	}
	msgs := ids(fs) + fmt.Sprint(fs)
	for _, want := range []string{"line 2: quoted value is never closed", "line 3: invalid character", "no such file"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("findings should say %q: %v", want, fs)
		}
	}
}

func TestLoadSourcesDefaults(t *testing.T) {
	dir := t.TempDir()
	writeEnv(t, dir, ".env", "BETTER_AUTH_SECRET="+secretA+"\n")
	writeEnv(t, dir, ".env.local", "BETTER_AUTH_SECRET="+secretC+"\n")
	sources, fs := LoadSources(SourceOptions{Dir: dir, Environ: []string{"NODE_ENV=development", "DATABASE_URL=postgres://x"}})
	if len(fs) != 0 || len(sources) != 2 {
		t.Fatalf("sources %d findings %v", len(sources), fs)
	}
	// NODE_ENV and DATABASE_URL alone do not make the environment a source.
	for _, s := range sources {
		if s.Label == ProcessEnvLabel {
			t.Error("process env without BetterAuth variables became a source")
		}
	}
}

func statusOf(t *testing.T, rep SecretsReport, label string) SecretStatus {
	t.Helper()
	for _, s := range rep.Sources {
		if s.Label == label {
			return s
		}
	}
	t.Fatalf("no source %s", label)
	return SecretStatus{}
}

func TestCheckSecretsFindings(t *testing.T) {
	url := map[string]string{"BETTER_AUTH_URL": "http://localhost:3000"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range url {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		sources []Source
		want    []finding.ID
		not     []finding.ID
	}{
		{"agreeing", []Source{source("a", with("BETTER_AUTH_SECRET", secretA)), source("b", with("AUTH_SECRET", secretA))},
			nil, []finding.ID{finding.SecretMismatch, finding.SecretShort, finding.SecretLowEntropy, finding.BaseURLMismatch}},
		{"missing", []Source{source("a", with())}, []finding.ID{finding.SecretMissing}, nil},
		{"default", []Source{source("a", with("BETTER_AUTH_SECRET", DefaultSecret))}, []finding.ID{finding.SecretDefault}, nil},
		{"short", []Source{source("a", with("BETTER_AUTH_SECRET", "Xk9#mP2$vL7qR4wZ"))}, []finding.ID{finding.SecretShort}, nil},
		{"low entropy", []Source{source("a", with("BETTER_AUTH_SECRET", strings.Repeat("ab", 20)))}, []finding.ID{finding.SecretLowEntropy}, []finding.ID{finding.SecretShort}},
		{"whitespace", []Source{source("a", with("BETTER_AUTH_SECRET", secretA)), source("b", with("BETTER_AUTH_SECRET", secretA+" \n"))},
			[]finding.ID{finding.SecretWhitespace, finding.SecretMismatch}, nil},
		{"quotes", []Source{source("a", with("BETTER_AUTH_SECRET", "'"+secretA+"'"))}, []finding.ID{finding.SecretWhitespace}, nil},
		{"mismatch", []Source{source("a", with("BETTER_AUTH_SECRET", secretA)), source("b", with("BETTER_AUTH_SECRET", secretC))},
			[]finding.ID{finding.SecretMismatch}, nil},
		{"shadowed", []Source{source("a", with("BETTER_AUTH_SECRET", secretA, "AUTH_SECRET", secretC))}, []finding.ID{finding.SecretShadowed}, nil},
		{"rotation agrees with plain", []Source{source("a", with("BETTER_AUTH_SECRETS", "2:"+secretB+", 1:"+secretA)), source("b", with("BETTER_AUTH_SECRET", secretB))},
			nil, []finding.ID{finding.SecretMismatch, finding.SecretsMalformed}},
		{"malformed: no colon", []Source{source("a", with("BETTER_AUTH_SECRETS", secretA))}, []finding.ID{finding.SecretsMalformed}, nil},
		{"malformed: duplicate", []Source{source("a", with("BETTER_AUTH_SECRETS", "1:"+secretA+",1:"+secretB))}, []finding.ID{finding.SecretsMalformed}, nil},
		{"malformed: bad version", []Source{source("a", with("BETTER_AUTH_SECRETS", "v1:"+secretA))}, []finding.ID{finding.SecretsMalformed}, nil},
		{"base url missing", []Source{source("a", map[string]string{"BETTER_AUTH_SECRET": secretA})}, []finding.ID{finding.BaseURLMissing}, nil},
		{"base url mismatch", []Source{source("a", with("BETTER_AUTH_SECRET", secretA)),
			source("b", map[string]string{"BETTER_AUTH_SECRET": secretA, "BETTER_AUTH_URL": "https://auth.example.com"})},
			[]finding.ID{finding.BaseURLMismatch}, nil},
		{"trailing slash is the same url", []Source{source("a", with("BETTER_AUTH_SECRET", secretA)),
			source("b", map[string]string{"BETTER_AUTH_SECRET": secretA, "BETTER_AUTH_URL": "http://LOCALHOST:3000/"})},
			nil, []finding.ID{finding.BaseURLMismatch}},
		{"production over http", []Source{source("a", map[string]string{"BETTER_AUTH_SECRET": secretA, "NODE_ENV": "production", "BETTER_AUTH_URL": "http://auth.example.com"})},
			[]finding.ID{finding.SecureCookieOverHTTP}, nil},
		{"production over http on loopback", []Source{source("a", map[string]string{"BETTER_AUTH_SECRET": secretA, "NODE_ENV": "production", "BETTER_AUTH_URL": "http://127.0.0.1:3000"})},
			nil, []finding.ID{finding.SecureCookieOverHTTP}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := CheckSecrets(tc.sources)
			wantFindings(t, rep.Findings, tc.want...)
			noFindings(t, rep.Findings, tc.not...)
			for _, f := range rep.Findings {
				for _, s := range []string{secretA, secretB, secretC} {
					if strings.Contains(f.Message, s) {
						t.Errorf("finding %s leaks a secret", f.ID)
					}
				}
			}
		})
	}
}

func TestWhitespaceHintNamesTheMatchingSource(t *testing.T) {
	ws := loadFixture(t, "secret-whitespace")
	rep := CheckSecrets([]Source{
		source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA, "BETTER_AUTH_URL": "http://localhost:3000"}),
		source("vercel.env", ws.Env),
	})
	for _, f := range rep.Findings {
		if f.ID == finding.SecretWhitespace {
			if !strings.Contains(f.Message, "trailing") || !strings.Contains(f.Message, "equals the secret of auth.env") {
				t.Errorf("message: %s", f.Message)
			}
			return
		}
	}
	t.Fatalf("no secret-whitespace in %s", ids(rep.Findings))
}

func TestSecretStatusRotation(t *testing.T) {
	rep := CheckSecrets([]Source{source("r", map[string]string{"BETTER_AUTH_SECRETS": "2:" + secretB + ",1:" + secretA, "BETTER_AUTH_SECRET": secretA})})
	st := statusOf(t, rep, "r")
	if st.Variable != "BETTER_AUTH_SECRETS" || st.Fingerprint != Fingerprint(secretB) || len(st.Versions) != 2 || !st.Versions[0].Current {
		t.Fatalf("status: %+v", st)
	}
	// BETTER_AUTH_SECRET beside BETTER_AUTH_SECRETS is better-auth's legacy
	// secret: it decrypts, never signs.
	var roles []string
	for _, c := range rep.Candidates {
		roles = append(roles, c.String()+"="+string(c.Role))
	}
	got := strings.Join(roles, " ")
	for _, want := range []string{"r v2=current", "r v1 (BETTER_AUTH_SECRETS, previous)=previous", "builtin-default=default"} {
		if !strings.Contains(got, want) {
			t.Errorf("candidates %s lack %s", got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a, c := Fingerprint(secretA), Fingerprint(secretC)
	if a == c || len(a) != 12 || a != Fingerprint(secretA) {
		t.Fatalf("fingerprints %s %s", a, c)
	}
	if strings.Contains(secretA, a) {
		t.Fatal("fingerprint is part of the secret")
	}
}

func TestEntropyMatchesBetterAuth(t *testing.T) {
	// better-auth: Math.log2(Math.pow(new Set(str).size, str.length))
	for _, tc := range []struct {
		s    string
		want float64
	}{{"aaaa", 0}, {"abab", 4}, {"abcd", 8}, {DefaultSecret, 0}} {
		got := EntropyBits(tc.s)
		if tc.s == DefaultSecret {
			if got < 120 {
				t.Errorf("the default secret estimates %.1f bits; better-auth does not warn about it", got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("EntropyBits(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// Configuration findings from env files as users write them (dotenv
// quoting, export, comments), read through LoadSources like every command.
func TestConfigFindingsFromEnvFiles(t *testing.T) {
	const (
		pwA = "s3cr3t-db-password-A"
		pwB = "s3cr3t-db-password-B"
	)
	base := "BETTER_AUTH_URL=http://localhost:3000\nBETTER_AUTH_SECRET=" + secretA + "\n"
	for _, tc := range []struct {
		name  string
		files []string // contents of a.env, b.env, …
		want  []finding.ID
		not   []finding.ID
		say   []string // substrings of the findings' messages and evidence
		never []string // besides the secrets: must not appear anywhere
	}{
		{name: "origins: double-quoted list with a space after the comma",
			files: []string{base + `BETTER_AUTH_TRUSTED_ORIGINS="https://a.example, https://b.example"` + "\n"},
			want:  []finding.ID{finding.TrustedOriginsSpace},
			say:   []string{`entry 2 is " https://b.example"`, "BETTER_AUTH_TRUSTED_ORIGINS=https://a.example,https://b.example", "a.env"}},
		{name: "origins: unquoted list keeps the inner space",
			files: []string{base + "BETTER_AUTH_TRUSTED_ORIGINS=https://a.example, https://b.example ,https://c.example\n"},
			want:  []finding.ID{finding.TrustedOriginsSpace},
			say:   []string{`entry 2 is " https://b.example "`},
			never: []string{`entry 1 is`, `entry 3 is`}},
		{name: "origins: single quotes, line break inside",
			files: []string{base + "BETTER_AUTH_TRUSTED_ORIGINS='https://a.example,\nhttps://b.example'\n"},
			want:  []finding.ID{finding.TrustedOriginsSpace},
			say:   []string{`entry 2 is "\nhttps://b.example"`}},
		{name: "origins: clean list with export and a comment",
			files: []string{base + "export BETTER_AUTH_TRUSTED_ORIGINS=https://a.example,https://*.b.example # staging\n"},
			not:   []finding.ID{finding.TrustedOriginsSpace}},
		{name: "origins: a whitespace-only trailing entry trusts nothing and hides nothing",
			files: []string{base + `BETTER_AUTH_TRUSTED_ORIGINS="https://a.example, "` + "\n"},
			not:   []finding.ID{finding.TrustedOriginsSpace}},
		{name: "secrets: versions ascending, the old one signs",
			files: []string{"BETTER_AUTH_URL=http://localhost:3000\nBETTER_AUTH_SECRETS=\"1:" + secretA + ",2:" + secretB + "\"\n"},
			want:  []finding.ID{finding.SecretsOrder},
			say:   []string{"version 1 (fingerprint " + Fingerprint(secretA) + ") first", "version 2 (fingerprint " + Fingerprint(secretB) + ")", "versions in order: 1, 2"}},
		{name: "secrets: the highest later version is named",
			files: []string{"BETTER_AUTH_URL=http://localhost:3000\nBETTER_AUTH_SECRETS=1:" + secretA + ",3:" + secretC + ",2:" + secretB + "\n"},
			want:  []finding.ID{finding.SecretsOrder},
			say:   []string{"version 3 (fingerprint " + Fingerprint(secretC) + ") comes later"}},
		{name: "secrets: newest first is the documented order",
			files: []string{"BETTER_AUTH_URL=http://localhost:3000\nBETTER_AUTH_SECRETS=\"3:" + secretC + ", 1:" + secretA + ", 2:" + secretB + "\"\n"},
			not:   []finding.ID{finding.SecretsOrder, finding.SecretsMalformed}},
		{name: "secrets: a malformed list is not also out of order",
			files: []string{"BETTER_AUTH_URL=http://localhost:3000\nBETTER_AUTH_SECRETS=1:" + secretA + ",2:" + secretB + ",2:" + secretC + "\n"},
			want:  []finding.ID{finding.SecretsMalformed}, not: []finding.ID{finding.SecretsOrder}},
		{name: "database: same database written three ways",
			files: []string{
				base + "DATABASE_URL=postgres://app:" + pwA + "@db.example.com:5432/app\n",
				base + "DATABASE_URL=\"postgresql://app:" + pwB + "@DB.example.com/app?sslmode=require\"\n",
				base + "DATABASE_URL=\"host=db.example.com dbname=app user=app password='" + pwA + "'\"\n",
			},
			not: []finding.ID{finding.DBURLMismatch}},
		{name: "database: loopback names are one host",
			files: []string{
				base + "DATABASE_URL=postgres://app@localhost:5432/app\n",
				base + "DATABASE_URL=postgres://app@127.0.0.1/app\n",
			},
			not: []finding.ID{finding.DBURLMismatch}},
		{name: "database: another host",
			files: []string{
				base + "DATABASE_URL=postgres://app:" + pwA + "@db.example.com:5432/app\n",
				base, // no DATABASE_URL: not compared
				base + "export DATABASE_URL=\"postgres://app:" + pwB + "@replica.example.com:6543/app?pgbouncer=true\"\n",
			},
			want:  []finding.ID{finding.DBURLMismatch},
			say:   []string{"a.env → db.example.com:5432/app", "c.env → replica.example.com:6543/app", "authtui reads the first, a.env"},
			never: []string{pwA, pwB, "b.env", "app@"}},
		{name: "database: another database name",
			files: []string{
				base + "DATABASE_URL=postgres://app:" + pwA + "@db.example.com/app\n",
				base + "DATABASE_URL=postgres://app:" + pwA + "@db.example.com/app_test\n",
			},
			want: []finding.ID{finding.DBURLMismatch},
			say:  []string{"db.example.com:5432/app;", "db.example.com:5432/app_test"}, never: []string{pwA}},
		{name: "database: only the user differs, so it is shown",
			files: []string{
				base + "DATABASE_URL=postgres://app:" + pwA + "@db.example.com/app\n",
				base + "DATABASE_URL=postgres://readonly:" + pwB + "@db.example.com/app\n",
			},
			want: []finding.ID{finding.DBURLMismatch},
			say:  []string{"app@db.example.com:5432/app", "readonly@db.example.com:5432/app"}, never: []string{pwA, pwB}},
		{name: "database: an unparsable value is compared but not shown",
			files: []string{
				base + "DATABASE_URL=postgres://app:" + pwA + "@db.example.com/app\n",
				base + "DATABASE_URL=user=app password=" + pwB + " host\n",
			},
			want: []finding.ID{finding.DBURLMismatch},
			say:  []string{"b.env → a value authtui cannot parse"}, never: []string{pwA, pwB}},
		{name: "database: a single source is nothing to compare",
			files: []string{base + "DATABASE_URL=postgres://app@db.example.com/app\n"},
			not:   []finding.ID{finding.DBURLMismatch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i, content := range tc.files {
				name := string(rune('a'+i)) + ".env"
				writeEnv(t, dir, name, content)
				paths = append(paths, name)
			}
			sources, fs := LoadSources(SourceOptions{Dir: dir, EnvFiles: paths})
			if len(fs) != 0 {
				t.Fatalf("loading: %v", fs)
			}
			rep := CheckSecrets(sources)
			wantFindings(t, rep.Findings, tc.want...)
			noFindings(t, rep.Findings, tc.not...)
			b, err := json.Marshal(rep.Findings)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, f := range rep.Findings {
				text.WriteString(f.Message + "\n")
				for _, e := range f.Evidence {
					text.WriteString(e.Step + ": " + e.Seen + "\n")
				}
			}
			for _, s := range tc.say {
				if !strings.Contains(text.String(), s) {
					t.Errorf("findings should say %q:\n%s", s, text.String())
				}
			}
			for _, s := range append([]string{secretA, secretB, secretC}, tc.never...) {
				if strings.Contains(text.String(), s) || strings.Contains(string(b), s) {
					t.Errorf("findings contain %q:\n%s", s, text.String())
				}
			}
		})
	}
}

// The new configuration findings do not fire on the repository's own
// env fixtures, whose findings scripts already depend on.
func TestConfigFindingsQuietOnFixtures(t *testing.T) {
	var paths []string
	for _, name := range []string{"auth.env", "api.env", "rotation.env"} {
		paths = append(paths, filepath.Join(fixtureDir, "env", name))
	}
	sources, fs := LoadSources(SourceOptions{EnvFiles: paths})
	if len(fs) != 0 {
		t.Fatal(fs)
	}
	rep := CheckSecrets(sources)
	noFindings(t, rep.Findings, finding.TrustedOriginsSpace, finding.SecretsOrder, finding.DBURLMismatch)
	for _, f := range rep.Findings {
		if len(f.Evidence) != 0 {
			t.Errorf("%s gained evidence: %v", f.ID, f.Evidence)
		}
	}
}
