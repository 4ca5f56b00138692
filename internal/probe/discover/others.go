package discover

// The other places projects keep BetterAuth's variables: Cloudflare
// Workers' .dev.vars and wrangler.toml, Docker Compose files and direnv's
// .envrc. Each is read as a labelled source, like an env file; only the
// BetterAuth variables are kept, and a value that depends on a reference
// (${VAR}, $VAR) is never taken for the value itself.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/authtui/authtui/internal/probe"
)

// Extra is a source that is not an env file.
type Extra struct {
	Dir        string            // slash path of the directory holding the file, relative to the root ("." for the root)
	Service    string            // "" = the service of Dir; for compose: the compose service's name
	Env        string            // EnvLocal, EnvProduction, EnvPreview, "compose", or a wrangler env name
	File       string            // slash path relative to the root (for compose: "docker-compose.yml#web")
	Kind       string            // "dev.vars", "wrangler.toml", "compose", "envrc"
	Vars       map[string]string // BetterAuth variables only
	Unresolved []string          // variables whose value is only a ${...} reference
	Ignored    int               // lines or entries not understood (envrc)
}

// Kinds of Extra, and the environment of compose services.
const (
	KindDevVars  = "dev.vars"
	KindWrangler = "wrangler.toml"
	KindCompose  = "compose"
	KindEnvrc    = "envrc"
	EnvCompose   = "compose"
)

// composeNames are the names Docker Compose looks for, the one it
// prefers first; only the first present is read.
var composeNames = []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}

// kept is every variable an Extra may carry.
var kept = func() map[string]bool {
	m := map[string]bool{"BETTER_AUTH_TRUSTED_ORIGINS": true, "NODE_ENV": true, "DATABASE_URL": true}
	for _, g := range [][]string{probe.SecretVars, probe.BaseURLVars} {
		for _, n := range g {
			m[n] = true
		}
	}
	return m
}()

// ReadExtras reads the other sources present in dir (root-relative slash
// path) among names (the file names found there), under root.
//
// Sources come in a fixed order: .dev.vars (env local), wrangler.toml
// (top-level [vars] as local, then each [env.<name>.vars] as <name>, by
// name), the compose file's services (by name; only those that set or
// reference a BetterAuth variable), .envrc (env local). Note that
// `wrangler dev` lets .dev.vars override [vars].
//
// Values that depend on an interpolation (${VAR}, $VAR; a compose
// variable listed without a value, which the shell passes in) are not
// values: the variable is left out of Vars and named in Unresolved.
//
// A file that cannot be read or parsed gives an error "file: line N:
// what", never quoting the file's text; the sources of the other files
// are still returned, along with the errors joined.
func ReadExtras(root, dir string, names []string) ([]Extra, error) {
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	if dir == "" {
		dir = "."
	}
	var (
		out  []Extra
		errs []error
	)
	full := func(name string) string { return filepath.Join(root, filepath.FromSlash(dir), name) }
	rel := func(name string) string { return path.Join(dir, name) }
	read := func(name string) ([]byte, bool) {
		data, err := probe.ReadEnvFile(full(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rel(name), err))
			return nil, false
		}
		return data, true
	}

	if have[".dev.vars"] {
		if data, ok := read(".dev.vars"); ok {
			vars, unres, err := parseDotenv(data)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", rel(".dev.vars"), err))
			} else {
				out = append(out, Extra{Dir: dir, Env: EnvLocal, File: rel(".dev.vars"), Kind: KindDevVars, Vars: vars, Unresolved: unres})
			}
		}
	}

	if have["wrangler.toml"] {
		if data, ok := read("wrangler.toml"); ok {
			envs, err := parseWrangler(data)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", rel("wrangler.toml"), err))
			}
			for _, e := range envs {
				out = append(out, Extra{Dir: dir, Env: e.env, File: rel("wrangler.toml"), Kind: KindWrangler,
					Vars: e.vars, Unresolved: e.unresolved, Ignored: e.ignored})
			}
		}
	}

	for _, name := range composeNames {
		if !have[name] {
			continue
		}
		if data, ok := read(name); ok {
			svcs, err := parseCompose(data)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", rel(name), err))
			}
			for _, s := range svcs {
				x, err := composeExtra(root, dir, name, s)
				if err != nil {
					errs = append(errs, err)
				}
				if len(x.Vars) > 0 || len(x.Unresolved) > 0 {
					out = append(out, x)
				}
			}
		}
		break
	}

	if have[".envrc"] {
		if data, ok := read(".envrc"); ok {
			r, err := parseEnvrc(data)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", rel(".envrc"), err))
			} else {
				out = append(out, Extra{Dir: dir, Env: EnvLocal, File: rel(".envrc"), Kind: KindEnvrc,
					Vars: r.vars(), Unresolved: r.unresolvedNames(), Ignored: r.ignored})
			}
		}
	}
	for i := range out {
		onlyRefs(&out[i])
	}
	return out, errors.Join(errs...)
}

// onlyRefs moves a value that is only a reference ("${NAME}", "$NAME")
// from Vars to Unresolved, whatever the file's own rules: a placeholder
// left for a templating step is never a secret or a URL.
func onlyRefs(x *Extra) {
	if x.Vars == nil {
		x.Vars = map[string]string{}
	}
	unres := map[string]bool{}
	for _, n := range x.Unresolved {
		unres[n] = true
	}
	for k, v := range x.Vars {
		if onlyRef.MatchString(strings.TrimSpace(v)) {
			delete(x.Vars, k)
			unres[k] = true
		}
	}
	x.Unresolved = x.Unresolved[:0]
	for n := range unres {
		x.Unresolved = append(x.Unresolved, n)
	}
	sort.Strings(x.Unresolved)
	if len(x.Unresolved) == 0 {
		x.Unresolved = nil
	}
}

var onlyRef = regexp.MustCompile(`^\$(?:\{[^{}]*\}|[A-Za-z_][A-Za-z0-9_]*)$`)

// assignments collects variable settings in order, the last one winning,
// keeping only the BetterAuth variables.
type assignments struct {
	val     map[string]string
	unres   map[string]bool
	ignored int
}

func newAssignments() *assignments {
	return &assignments{val: map[string]string{}, unres: map[string]bool{}}
}

func (a *assignments) set(name, value string) {
	if kept[name] {
		a.val[name] = value
		delete(a.unres, name)
	}
}

func (a *assignments) unresolved(name string) {
	if kept[name] {
		a.unres[name] = true
		delete(a.val, name)
	}
}

func (a *assignments) vars() map[string]string { return a.val }

func (a *assignments) unresolvedNames() []string {
	var out []string
	for n := range a.unres {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// checkText refuses what cannot be a text config file.
func checkText(data []byte) error {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Errorf("line %d: contains NUL bytes; this is not a text file", bytes.Count(data[:i], []byte("\n"))+1)
	}
	return nil
}

// --- dotenv (.dev.vars, compose env_file) ---

// dotenvLine finds a dotenv assignment's name and raw value.
var dotenvLine = regexp.MustCompile(`^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*[=:][ \t]*(.*)$`)

// parseDotenv reads dotenv text as probe.ParseEnv does (godotenv), then
// takes out the variables whose raw value references another variable:
// godotenv would expand it from the file alone (to "" when unset), where
// the tool that really loads the file may expand it from elsewhere.
func parseDotenv(data []byte) (map[string]string, []string, error) {
	vars, err := probe.ParseEnv(data)
	if err != nil {
		return nil, nil, err
	}
	refs := map[string]bool{}
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		m := dotenvLine.FindStringSubmatch(line)
		if m == nil || !kept[m[1]] {
			continue
		}
		if v := m[2]; !strings.HasPrefix(v, "'") && hasDotenvRef(v) {
			refs[m[1]] = true
		} else {
			delete(refs, m[1])
		}
	}
	var unres []string
	for n := range refs {
		if _, ok := vars[n]; ok {
			delete(vars, n)
			unres = append(unres, n)
		}
	}
	sort.Strings(unres)
	return vars, unres, nil
}

func hasDotenvRef(v string) bool {
	for i := 0; i+1 < len(v); i++ {
		switch {
		case v[i] == '\\':
			i++
		case v[i] == '$' && (v[i+1] == '{' || isNameStart(v[i+1])):
			return true
		}
	}
	return false
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

// --- wrangler.toml ---

type wranglerEnv struct {
	env        string
	vars       map[string]string
	unresolved []string
	ignored    int
}

// wranglerEnvName is what a wrangler environment may be called.
var wranglerEnvName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// parseWrangler returns the top-level [vars] (as EnvLocal) and each
// [env.<name>.vars], in that order. Wrangler vars are not inherited: an
// environment sees only its own.
func parseWrangler(data []byte) (out []wranglerEnv, err error) {
	if err := checkText(data); err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := guard(func() error { return toml.Unmarshal(data, &doc) }); err != nil {
		return nil, tomlError(data, err)
	}
	if vars, ok := doc["vars"]; ok {
		out = append(out, wranglerVars(EnvLocal, vars))
	}
	envs, _ := doc["env"].(map[string]any)
	var names []string
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e, _ := envs[n].(map[string]any)
		vars, ok := e["vars"]
		if !ok || !wranglerEnvName.MatchString(n) {
			continue
		}
		out = append(out, wranglerVars(n, vars))
	}
	return out, nil
}

func wranglerVars(env string, v any) wranglerEnv {
	e := wranglerEnv{env: env, vars: map[string]string{}}
	m, ok := v.(map[string]any)
	if !ok {
		e.ignored++
		return e
	}
	for name, val := range m {
		if !kept[name] {
			continue
		}
		switch x := val.(type) {
		case string:
			e.vars[name] = x
		case int64:
			e.vars[name] = strconv.FormatInt(x, 10)
		case float64:
			e.vars[name] = strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			e.vars[name] = strconv.FormatBool(x)
		default: // a table, an array or a date: not a value BetterAuth reads
			e.ignored++
		}
	}
	return e
}

// tomlError places a go-toml error on its line. go-toml's messages may
// quote the text at fault, so only fixed wording is kept.
func tomlError(data []byte, err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if line > 0 {
			return fmt.Errorf("line %d: not valid TOML%s", line, safeProblem(msg, data))
		}
		if l := badTextLine(data); l > 0 {
			return fmt.Errorf("line %d: not valid TOML%s", l, safeProblem(msg, data))
		}
	}
	var pe *panicError
	if errors.As(err, &pe) {
		return errors.New("not valid TOML: the parser failed")
	}
	return errors.New("not valid TOML")
}

// --- docker-compose.yml / compose.yaml ---

type composeService struct {
	name     string
	env      *assignments // from environment:
	envFiles []envFile
	line     int
}

type envFile struct {
	path     string
	required bool
}

// composeServiceName is what Compose accepts as a service name.
var composeServiceName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,128}$`)

// parseCompose returns the compose file's services, by name.
func parseCompose(data []byte) ([]composeService, error) {
	if err := checkText(data); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := guard(func() error { return yaml.Unmarshal(data, &doc) }); err != nil {
		return nil, yamlError(data, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // empty
	}
	y := &yamlWalk{budget: 1_000_000}
	top := y.deref(doc.Content[0])
	if top == nil || top.Kind != yaml.MappingNode {
		if top != nil && top.Tag == "!!null" {
			return nil, nil
		}
		return nil, fmt.Errorf("line %d: not a compose file: the top level is not a mapping", nodeLine(top, doc.Content[0]))
	}
	svcNode := y.get(top, "services")
	if svcNode == nil || svcNode.Kind == yaml.ScalarNode && svcNode.Tag == "!!null" {
		return nil, y.err()
	}
	if svcNode.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: services is not a mapping", svcNode.Line)
	}
	var out []composeService
	for _, kv := range y.entries(svcNode) {
		if !composeServiceName.MatchString(kv.key) {
			continue
		}
		s := y.deref(kv.val)
		if s == nil || s.Kind != yaml.MappingNode {
			continue
		}
		cs := composeService{name: kv.key, env: newAssignments(), line: kv.val.Line}
		y.environment(cs.env, y.get(s, "environment"))
		cs.envFiles = y.envFiles(y.get(s, "env_file"))
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, y.err()
}

func nodeLine(ns ...*yaml.Node) int {
	for _, n := range ns {
		if n != nil && n.Line > 0 {
			return n.Line
		}
	}
	return 1
}

// yamlWalk reads a yaml.Node tree, following aliases and merge keys
// ("<<") within a budget: aliases are never expanded wholesale, so a
// billion-laughs document costs at most the budget.
type yamlWalk struct {
	budget   int
	overLine int // where the budget ran out
}

func (y *yamlWalk) spend(n *yaml.Node) bool {
	if y.budget <= 0 {
		if y.overLine == 0 {
			y.overLine = nodeLine(n)
		}
		return false
	}
	y.budget--
	return true
}

func (y *yamlWalk) err() error {
	if y.overLine > 0 {
		return fmt.Errorf("line %d: too many aliases or merge keys to follow", y.overLine)
	}
	return nil
}

// deref follows aliases (a bounded chain: an anchor may contain itself).
func (y *yamlWalk) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 16 || !y.spend(n) {
			return nil
		}
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return y.deref(n.Content[0])
	}
	return n
}

type yamlEntry struct {
	key string
	val *yaml.Node
}

// entries lists a mapping's scalar keys and their values, merged
// mappings included; an explicit key overrides a merged one, and an
// earlier merged mapping a later one, as YAML's merge key says.
func (y *yamlWalk) entries(m *yaml.Node) []yamlEntry {
	var out []yamlEntry
	seen := map[string]bool{}
	y.collect(m, 0, seen, &out)
	return out
}

func (y *yamlWalk) collect(m *yaml.Node, depth int, seen map[string]bool, out *[]yamlEntry) {
	m = y.deref(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > 8 {
		return
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !y.spend(m.Content[i]) {
			return
		}
		k := y.deref(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Tag == "!!merge" || k.Value == "<<" && k.Style == 0 {
			merges = append(merges, m.Content[i+1])
			continue
		}
		if !seen[k.Value] {
			seen[k.Value] = true
			*out = append(*out, yamlEntry{key: k.Value, val: m.Content[i+1]})
		}
	}
	for _, mg := range merges {
		mg = y.deref(mg)
		if mg == nil {
			continue
		}
		if mg.Kind == yaml.SequenceNode {
			for _, it := range mg.Content {
				y.collect(it, depth+1, seen, out)
			}
			continue
		}
		y.collect(mg, depth+1, seen, out)
	}
}

// get is a mapping's value for key, merged mappings included.
func (y *yamlWalk) get(m *yaml.Node, key string) *yaml.Node {
	for _, e := range y.entries(m) {
		if e.key == key {
			return y.deref(e.val)
		}
	}
	return nil
}

// environment reads a service's environment: a mapping NAME: value or a
// list of "NAME=value"; a NAME without a value passes the shell's in.
func (y *yamlWalk) environment(a *assignments, n *yaml.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for _, e := range y.entries(n) {
			v := y.deref(e.val)
			switch {
			case v == nil || v.Kind != yaml.ScalarNode:
				if kept[e.key] {
					a.ignored++
				}
			case v.Tag == "!!null":
				a.unresolved(e.key)
			default:
				composeSet(a, e.key, v.Value)
			}
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			it = y.deref(it)
			if it == nil || it.Kind != yaml.ScalarNode {
				a.ignored++
				continue
			}
			name, val, ok := strings.Cut(it.Value, "=")
			if !ok {
				a.unresolved(name)
				continue
			}
			composeSet(a, name, val)
		}
	case yaml.ScalarNode:
		if n.Tag != "!!null" {
			a.ignored++
		}
	default:
		a.ignored++
	}
}

// composeSet sets a variable unless its value interpolates: Compose
// replaces ${VAR} and $VAR from the shell or the project's .env, and
// reads $$ as a $.
func composeSet(a *assignments, name, val string) {
	if v, ok := composeLiteral(val); ok {
		a.set(name, v)
	} else {
		a.unresolved(name)
	}
}

func composeLiteral(s string) (string, bool) {
	if !strings.Contains(s, "$") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) {
			switch c := s[i+1]; {
			case c == '$':
				b.WriteByte('$')
				i++
				continue
			case c == '{' || isNameStart(c):
				return "", false
			}
		}
		b.WriteByte('$')
	}
	return b.String(), true
}

// envFiles reads env_file: a path, or a list of paths or of {path,
// required}.
func (y *yamlWalk) envFiles(n *yaml.Node) []envFile {
	if n == nil {
		return nil
	}
	var out []envFile
	add := func(it *yaml.Node) {
		it = y.deref(it)
		if it == nil {
			return
		}
		switch it.Kind {
		case yaml.ScalarNode:
			if it.Tag != "!!null" && it.Value != "" {
				out = append(out, envFile{path: it.Value, required: true})
			}
		case yaml.MappingNode:
			p := y.get(it, "path")
			if p == nil || p.Kind != yaml.ScalarNode || p.Value == "" {
				return
			}
			f := envFile{path: p.Value, required: true}
			if r := y.get(it, "required"); r != nil && r.Kind == yaml.ScalarNode {
				if b, err := strconv.ParseBool(r.Value); err == nil {
					f.required = b
				}
			}
			out = append(out, f)
		}
	}
	if n.Kind == yaml.SequenceNode {
		for _, it := range n.Content {
			add(it)
		}
	} else {
		add(n)
	}
	return out
}

// composeExtra turns a compose service into an Extra: its env_file files
// in order (a later one overrides an earlier one), then environment,
// which overrides them all. An env_file is resolved from the compose
// file's directory and must stay inside the root.
func composeExtra(root, dir, file string, s composeService) (Extra, error) {
	x := Extra{Dir: dir, Service: s.name, Env: EnvCompose, File: path.Join(dir, file) + "#" + s.name, Kind: KindCompose}
	merged := newAssignments()
	var errs []error
	for _, f := range s.envFiles {
		rel, ok := insideRoot(root, dir, f.path)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: line %d: env_file is outside the project or interpolated; not read", x.File, s.line))
			continue
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		if _, err := os.Lstat(full); !f.required && errors.Is(err, fs.ErrNotExist) {
			continue // required: false, and absent
		}
		data, err := probe.ReadEnvFile(full)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: env_file %s: %w", x.File, rel, err))
			continue
		}
		vars, unres, err := parseDotenv(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rel, err))
			continue
		}
		for k, v := range vars {
			merged.set(k, v)
		}
		for _, k := range unres {
			merged.unresolved(k)
		}
	}
	for k, v := range s.env.val {
		merged.set(k, v)
	}
	for k := range s.env.unres {
		merged.unresolved(k)
	}
	x.Vars, x.Unresolved, x.Ignored = merged.vars(), merged.unresolvedNames(), s.env.ignored
	return x, errors.Join(errs...)
}

// insideRoot resolves an env_file path from the compose file's directory
// to a root-relative slash path, refusing one that leaves the root or
// is interpolated.
func insideRoot(root, dir, p string) (string, bool) {
	if strings.Contains(p, "$") || strings.ContainsRune(p, 0) {
		return "", false
	}
	p = filepath.ToSlash(p)
	if path.IsAbs(p) || filepath.IsAbs(p) {
		absRoot, err := filepath.Abs(root)
		if err != nil {
			return "", false
		}
		r, err := filepath.Rel(absRoot, filepath.FromSlash(p))
		if err != nil {
			return "", false
		}
		p = filepath.ToSlash(r)
	} else {
		p = path.Join(dir, p)
	}
	p = path.Clean(p)
	if p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return "", false
	}
	return p, true
}

var (
	yamlLine   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlError places a yaml error on its line; yaml's messages may quote
// the document (anchor names, the text at fault), so only fixed wording
// is kept.
func yamlError(data []byte, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("line %s: not valid YAML%s", m[1], safeProblem(m[2], data))
	}
	var pe *panicError
	if errors.As(err, &pe) {
		return errors.New("not valid YAML: the parser failed")
	}
	if m := yamlAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			return fmt.Errorf("line %d: not valid YAML (an alias names an unknown anchor)", bytes.Count(data[:i], []byte("\n"))+1)
		}
		return errors.New("not valid YAML (an alias names an unknown anchor)")
	}
	if l := badTextLine(data); l > 0 {
		return fmt.Errorf("line %d: not valid YAML%s", l, safeProblem(strings.TrimPrefix(msg, "yaml: "), data))
	}
	return fmt.Errorf("not valid YAML%s", safeProblem(strings.TrimPrefix(msg, "yaml: "), data))
}

// safeProblem keeps a parser's wording when it is plain words (no
// quotes, digits or symbols) and none of it comes from the file: a
// parser's message may quote the text at fault, which may be a secret.
func safeProblem(msg string, data []byte) string {
	if msg == "" || len(msg) > 80 {
		return ""
	}
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if !(c >= 'a' && c <= 'z' || c == ' ' || c == ',') {
			return ""
		}
	}
	const run = 12
	for i := 0; i+run <= len(msg); i++ {
		if bytes.Contains(data, []byte(msg[i:i+run])) {
			return ""
		}
	}
	return " (" + msg + ")"
}

// badTextLine is the line of the first control character or invalid
// UTF-8, which parsers report without a line; 0 when there is none.
func badTextLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return line
		case r == '\n':
			line++
		case r < 0x20 && r != '\t' && r != '\r', r == 0x7f:
			return line
		}
		i += n
	}
	return 0
}

// --- .envrc ---

// parseEnvrc reads direnv's .envrc: only `export NAME=value` statements
// (words quoted as in the shell: '...', "...", none). Every other line
// (functions, dotenv, source_env, PATH_add, command substitutions) is
// counted in ignored; blank lines and comments are not.
func parseEnvrc(data []byte) (*assignments, error) {
	if err := checkText(data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	s := &shScanner{src: strings.ReplaceAll(string(data), "\r\n", "\n"), line: 1}
	a := newAssignments()
	depth := 0 // inside a function, if, for, while, case, { } or ( )
	for !s.eof() {
		s.skipBlanks()
		switch {
		case s.eof():
		case s.peek() == '\n':
			s.next()
		case s.peek() == '#':
			s.skipLine()
		case depth == 0 && s.hasWord("export"):
			start := s.line
			set, ok, err := s.exports()
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", start, err)
			}
			if !ok {
				a.ignored++
				s.skipLine()
				continue
			}
			for _, st := range set {
				if st.unresolved {
					a.unresolved(st.name)
				} else {
					a.set(st.name, st.value)
				}
			}
		default:
			a.ignored++
			depth = max(0, depth+blockDelta(s.restOfLine()))
		}
	}
	return a, nil
}

// blockDelta is how many compound commands a line opens (if, for,
// while, until, case, select, {, () less those it closes: what an export
// inside them does depends on running the script.
func blockDelta(line string) int {
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	d := 0
	for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ';' || r == '&' || r == '|' }) {
		switch {
		case f == "if" || f == "for" || f == "while" || f == "until" || f == "case" || f == "select" || f == "(":
			d++
		case f == "fi" || f == "done" || f == "esac" || f == ")":
			d--
		case f == "{" || strings.HasSuffix(f, "(){") || strings.HasSuffix(f, "){"):
			d++
		case f == "}" || f == "})":
			d--
		}
	}
	return d
}

type shScanner struct {
	src  string
	i    int
	line int
}

func (s *shScanner) eof() bool  { return s.i >= len(s.src) }
func (s *shScanner) peek() byte { return s.src[s.i] }
func (s *shScanner) at(k int) byte {
	if s.i+k < len(s.src) {
		return s.src[s.i+k]
	}
	return 0
}

func (s *shScanner) next() byte {
	c := s.src[s.i]
	s.i++
	if c == '\n' {
		s.line++
	}
	return c
}

func (s *shScanner) skipBlanks() {
	for !s.eof() && (s.peek() == ' ' || s.peek() == '\t') {
		s.i++
	}
}

// restOfLine consumes and returns the rest of the line.
func (s *shScanner) restOfLine() string {
	start := s.i
	s.skipLine()
	return strings.TrimSuffix(s.src[start:s.i], "\n")
}

func (s *shScanner) skipLine() {
	for !s.eof() && s.next() != '\n' {
	}
}

// hasWord consumes w when it is a whole word followed by a blank.
func (s *shScanner) hasWord(w string) bool {
	if !strings.HasPrefix(s.src[s.i:], w) {
		return false
	}
	if c := s.at(len(w)); c != ' ' && c != '\t' {
		return false
	}
	s.i += len(w)
	return true
}

type shAssign struct {
	name       string
	value      string
	unresolved bool
}

// exports reads `NAME=word [NAME=word...] [# comment]` after "export".
// ok is false for anything else on the line (a bare NAME, options,
// ;, |, $(...), backquotes); the scanner is then inside that line.
func (s *shScanner) exports() (set []shAssign, ok bool, err error) {
	for {
		s.skipBlanks()
		if s.eof() || s.peek() == '\n' {
			if !s.eof() {
				s.next()
			}
			return set, len(set) > 0, nil
		}
		if s.peek() == '#' && len(set) > 0 {
			s.skipLine()
			return set, true, nil
		}
		if !isNameStart(s.peek()) {
			return nil, false, nil
		}
		j := s.i
		for j < len(s.src) && isNameChar(s.src[j]) {
			j++
		}
		if j >= len(s.src) || s.src[j] != '=' {
			return nil, false, nil
		}
		name := s.src[s.i:j]
		s.i = j + 1
		val, ref, understood, err := s.word()
		if err != nil {
			return nil, false, err
		}
		if !understood {
			return nil, false, nil
		}
		set = append(set, shAssign{name: name, value: val, unresolved: ref})
		if !s.eof() && s.peek() != ' ' && s.peek() != '\t' && s.peek() != '\n' {
			return nil, false, nil // ; & | < > ( ) right after the word
		}
	}
}

// word reads one shell word: unquoted, '...' and "..." parts run
// together. ref says it expands a variable; understood is false for
// command substitution and $'...'/$"..." quoting.
func (s *shScanner) word() (val string, ref, understood bool, err error) {
	var b strings.Builder
	for !s.eof() {
		c := s.peek()
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			return b.String(), ref, true, nil
		case strings.IndexByte(";&|<>()", c) >= 0:
			return b.String(), ref, true, nil // the caller refuses what follows
		case c == '`':
			return "", false, false, nil
		case c == '\\':
			s.next()
			if s.eof() {
				return b.String(), ref, true, nil
			}
			if d := s.next(); d != '\n' {
				b.WriteByte(d)
			}
		case c == '\'':
			start := s.line
			s.next()
			k := strings.IndexByte(s.src[s.i:], '\'')
			if k < 0 {
				return "", false, false, fmt.Errorf("quoted value opened on line %d is never closed", start)
			}
			for _, r := range []byte(s.src[s.i : s.i+k]) {
				b.WriteByte(r)
				if r == '\n' {
					s.line++
				}
			}
			s.i += k + 1
		case c == '"':
			start := s.line
			s.next()
			closed := false
			for !s.eof() && !closed {
				d := s.next()
				switch d {
				case '"':
					closed = true
				case '\\':
					if s.eof() {
						continue
					}
					switch e := s.peek(); e {
					case '$', '`', '"', '\\':
						b.WriteByte(s.next())
					case '\n':
						s.next()
					default:
						b.WriteByte('\\')
					}
				case '`':
					return "", false, false, nil
				case '$':
					switch s.dollar(true) {
					case dollarRef:
						ref = true
					case dollarOther:
						return "", false, false, nil
					default:
						b.WriteByte('$')
					}
				default:
					b.WriteByte(d)
				}
			}
			if !closed {
				return "", false, false, fmt.Errorf("quoted value opened on line %d is never closed", start)
			}
		case c == '$':
			s.next()
			switch s.dollar(false) {
			case dollarRef:
				ref = true
			case dollarOther:
				return "", false, false, nil
			default:
				b.WriteByte('$')
			}
		default:
			b.WriteByte(s.next())
		}
	}
	return b.String(), ref, true, nil
}

const (
	dollarLiteral = iota
	dollarRef     // $NAME, ${...}, $1, $?: the value depends on the shell
	dollarOther   // $(...), $'...', $"...": not understood
)

// dollar classifies what follows a '$' (already consumed) and consumes
// the reference's name when it is one. Within double quotes, $' and $"
// are a plain $.
func (s *shScanner) dollar(inDQ bool) int {
	if s.eof() {
		return dollarLiteral
	}
	c := s.peek()
	switch {
	case c == '(', !inDQ && (c == '\'' || c == '"'):
		return dollarOther
	case c == '{':
		k := strings.IndexByte(s.src[s.i:], '}')
		if k < 0 {
			return dollarOther
		}
		for _, r := range []byte(s.src[s.i : s.i+k+1]) {
			if r == '\n' {
				s.line++
			}
		}
		s.i += k + 1
		return dollarRef
	case isNameStart(c):
		for !s.eof() && isNameChar(s.peek()) {
			s.i++
		}
		return dollarRef
	case c >= '0' && c <= '9' || strings.IndexByte("@*#?$!-", c) >= 0:
		s.i++
		return dollarRef
	}
	return dollarLiteral
}

// panicError is a parser's panic, turned into an error.
type panicError struct{}

func (*panicError) Error() string { return "the parser failed" }

// guard runs a third-party parser, turning a panic into an error: a
// malformed file must give an error, never crash the command.
func guard(f func() error) (err error) {
	defer func() {
		if recover() != nil {
			err = &panicError{}
		}
	}()
	return f()
}
