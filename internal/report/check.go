package report

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Meta is what a check report cannot know from the run itself.
type Meta struct {
	Version string    // authtui's, as `authtui version` prints it
	Time    time.Time // when the run was made
	// BetterAuth is the version of better-auth the auth service runs, and
	// BetterAuthFrom where it was read; "" when not known. The server does
	// not say its version, so it is only ever read from a package.json
	// (FindBetterAuth), never guessed.
	BetterAuth, BetterAuthFrom string
}

// Check is a whole check run as blocks, in the order it ran: the
// configuration it found and where each value came from, the versions,
// the secrets, the database health, the login steps, what was skipped,
// the findings and the verdict. `authtui check --markdown` and the
// console's report file are this, as Markdown.
func Check(rep *check.Report, meta Meta) []Block {
	bs := []Block{Configuration(rep.Config), Versions(rep, meta)}
	bs = append(bs, Secrets(rep.Secrets)...)
	if rep.Database != nil {
		bs = append(bs, Health(rep.Database)...)
	}
	if rep.Login != nil {
		bs = append(bs, Login(rep.Login))
	}
	if rep.Browser != nil {
		bs = append(bs, Browser(rep.Browser))
	}
	if len(rep.Skipped) > 0 {
		bs = append(bs, Skipped(rep.Skipped))
	}
	return append(bs, Findings(rep.Findings), Verdict(rep.Verdict, rep.Healthy))
}

// CheckMarkdown writes the Markdown report of a run: a title, when it
// ran, then Check's blocks one heading level below.
func CheckMarkdown(w io.Writer, rep *check.Report, meta Meta) error {
	head := "# authtui report\n\n"
	if !meta.Time.IsZero() {
		head += "Run at " + Time(meta.Time) + " " + meta.Time.Local().Format("-0700") + ".\n\n"
	}
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	return Markdown(w, Check(rep, meta), 2)
}

// Configuration is the resolved configuration: each setting with where it
// came from. URLs are shown without userinfo and query, the database
// without its password.
func Configuration(c probe.Config) Block {
	setting := func(label string, s probe.Setting, show func(string) string) Line {
		if !s.Set() {
			return L(label, S("not set", Dim))
		}
		l := L(label, P(show(s.Value)))
		if s.From != "" {
			l.Spans = append(l.Spans, S("  from "+Safe(s.From, 200), Dim))
		}
		return l
	}
	url := func(v string) string { return Clip(textsafe.URL(v), 200) }
	b := Block{Title: "Configuration"}
	b.Lines = []Line{
		setting("base URL", c.BaseURL, url),
		setting("origin", c.Origin, url),
		setting("API URL", c.APIURL, url),
		setting("database", c.DatabaseURL, DatabaseLabel),
	}
	if c.Timeout > 0 {
		b.Lines = append(b.Lines, L("timeout", P(c.Timeout.String()), S("  per network step", Dim)))
	}
	return b
}

// DatabaseLabel shows a database URL as user@host:port/name: never its
// password, nor the query, which can carry one.
func DatabaseLabel(rawURL string) string {
	t, err := database.ParseTarget(rawURL)
	if err != nil {
		return "(unparsable database URL)"
	}
	return Clip(t.String(), 200)
}

// Versions are the versions of what took part in the run.
func Versions(rep *check.Report, meta Meta) Block {
	b := Block{Title: "Versions"}
	v := meta.Version
	if v == "" {
		v = "authtui (version not known)"
	}
	b.Lines = append(b.Lines, L("authtui", P(Clip(strings.TrimPrefix(v, "authtui "), 80))))
	if meta.BetterAuth != "" {
		l := L("BetterAuth", P(Clip(meta.BetterAuth, 40)))
		if meta.BetterAuthFrom != "" {
			l.Spans = append(l.Spans, S("  from "+Safe(meta.BetterAuthFrom, 200), Dim))
		}
		b.Lines = append(b.Lines, l)
	} else {
		b.Lines = append(b.Lines, L("BetterAuth", S("not known", Dim), S("  (the server does not say; no node_modules/better-auth next to its env file or here)", Dim)))
	}
	switch h := rep.Database; {
	case h == nil:
		b.Lines = append(b.Lines, L("PostgreSQL", S("not checked", Dim)))
	case h.ServerVersion == "":
		b.Lines = append(b.Lines, L("PostgreSQL", S("not known", Dim), S("  (not connected)", Dim)))
	default:
		b.Lines = append(b.Lines, L("PostgreSQL", P(Clip(h.ServerVersion, 80))))
	}
	return b
}

// Skipped are the probes the run did not make, and why.
func Skipped(why []string) Block {
	b := Block{Title: "Skipped"}
	for _, s := range why {
		b.Lines = append(b.Lines, Line{Bullet: true, Prose: true, Spans: []Span{S(Safe(s, 300), Dim)}})
	}
	return b
}

// semver is what a package.json version looks like; anything else is not
// taken for one.
var semver = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.+-]{1,64})?$`)

// FindBetterAuth reads the version of better-auth from
// node_modules/better-auth/package.json in the first of dirs that has
// one, and says which file it read. The server does not report its
// version; an installed package next to the auth service's env file is
// the version it runs (as far as files can tell), and nothing found means
// "not known", never a guess.
func FindBetterAuth(dirs ...string) (version, from string) {
	seen := map[string]bool{}
	for _, dir := range dirs {
		p := filepath.Join(dir, "node_modules", "better-auth", "package.json")
		if seen[p] {
			continue
		}
		seen[p] = true
		if v := readBetterAuthVersion(p); v != "" {
			return v, p
		}
	}
	return "", ""
}

func readBetterAuthVersion(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var pkg struct{ Name, Version string }
	// A package.json is small; a bound keeps a hostile one from costing
	// more.
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&pkg); err != nil {
		return ""
	}
	if pkg.Name != "better-auth" || !semver.MatchString(pkg.Version) {
		return ""
	}
	return pkg.Version
}

// BetterAuthDirs are where the auth service's better-auth may be
// installed, most telling first: next to the env files whose secret the
// server signs with (the run identified them as the auth service's), next
// to the env file the base URL came from, then the working directory dir.
func BetterAuthDirs(rep *check.Report, dir string) []string {
	var out []string
	add := func(label string) {
		if label == "" || label == probe.ProcessEnvLabel {
			return
		}
		d := filepath.Dir(label)
		if !filepath.IsAbs(d) && dir != "" {
			d = filepath.Join(dir, d)
		}
		out = append(out, d)
	}
	isSource := func(label string) bool {
		for _, s := range rep.Config.Sources {
			if s.Label == label && s.Loaded() {
				return true
			}
		}
		return false
	}
	if rep.Login != nil {
		for _, l := range rep.Login.ServerSecret {
			if isSource(l) {
				add(l)
			}
		}
	}
	for _, s := range rep.Config.Sources {
		if s.Loaded() && strings.HasSuffix(rep.Config.BaseURL.From, " in "+s.Label) {
			add(s.Label)
		}
	}
	if dir == "" {
		dir = "."
	}
	return append(out, dir)
}

// RunMeta is the Meta of a run made now by authtui version, with the
// BetterAuth version found for it from the working directory dir.
func RunMeta(rep *check.Report, version, dir string, now time.Time) Meta {
	m := Meta{Version: version, Time: now}
	m.BetterAuth, m.BetterAuthFrom = FindBetterAuth(BetterAuthDirs(rep, dir)...)
	return m
}
