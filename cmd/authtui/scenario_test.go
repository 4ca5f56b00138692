package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/testenv"
)

const scenariosDir = "../../testdata/scenarios"

// scenarioOutEnv names a directory where each scenario's command output is
// written (redacted), as <name>.out.
const scenarioOutEnv = "AUTHTUI_SCENARIO_OUT"

// ---- the scenario format -------------------------------------------------------

type scenarioFile struct {
	Description string                     `json:"description"`
	Services    map[string]scenarioService `json:"services"`
	User        *scenarioUser              `json:"user"`
	Before      []scenarioStep             `json:"before"`
	Command     []string                   `json:"command"`
	CommandEnv  map[string]string          `json:"command_env"`
	Stdin       string                     `json:"stdin"`
	Expect      scenarioExpect             `json:"expect"`
	// Notes: how the scenario is reproduced, when that is not obvious
	// (e.g. what BetterAuth does differently from what one would expect).
	Notes string `json:"notes"`

	name string // the directory's name
	dir  string // the directory
}

// scenarioService is a BetterAuth server (env_file and the options that live
// in code) or a reverse proxy in front of one.
type scenarioService struct {
	EnvFile                  string         `json:"env_file"`
	Bearer                   bool           `json:"bearer"`
	Cache                    string         `json:"cache"`
	CookiePrefix             string         `json:"cookie_prefix"`
	API                      string         `json:"api"`
	RequireEmailVerification bool           `json:"require_email_verification"`
	RateLimit                bool           `json:"rate_limit"`
	SameSite                 string         `json:"samesite"`
	Partitioned              bool           `json:"partitioned"`
	Secure                   *bool          `json:"secure"`
	CacheMaxAge              int            `json:"cache_max_age"`
	CORSOrigin               string         `json:"cors_origin"`
	ExposeAuthToken          bool           `json:"expose_auth_token"`
	Proxy                    *scenarioProxy `json:"proxy"`
}

type scenarioProxy struct {
	To             string `json:"to"`
	StripSecure    bool   `json:"strip_secure"`
	StripSetCookie bool   `json:"strip_set_cookie"`
}

type scenarioUser struct {
	Service  string `json:"service"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Verified bool   `json:"verified"`
}

// scenarioStep is one thing done before the command; exactly one of the
// action fields is set.
type scenarioStep struct {
	SignIn       bool   `json:"sign_in"`
	SignInTimes  int    `json:"sign_in_times"`
	UntilStatus  int    `json:"until_status"`
	SQL          string `json:"sql"`
	Database     string `json:"database"`
	StopDatabase string `json:"stop_database"`
	Service      string `json:"service"`
}

type scenarioExpect struct {
	Verdict             string            `json:"verdict"`
	AlternativesInclude []string          `json:"alternatives_include"`
	TellApartMentions   []string          `json:"tell_apart_mentions"`
	Exit                *int              `json:"exit"`
	Steps               map[string]string `json:"steps"`
	Findings            []string          `json:"findings"`
	NoFindings          []string          `json:"no_findings"`
}

const healthyVerdict = "healthy"

var (
	scenarioNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	placeholderRE  = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\}\}`)
	dbVarRE        = regexp.MustCompile(`^DATABASE_URL(_[A-Z0-9_]+)?$`)
	apiModes       = map[string]bool{"": true, "session": true, "null": true, "cookie-only": true, "bearer-only": true}
	cacheModes     = map[string]bool{"": true, "off": true, "compact": true, "jwt": true, "jwe": true}
	sameSites      = map[string]bool{"": true, "none": true, "lax": true, "strict": true}
	// Variables known only once the scenario runs: command, stdin, SQL.
	runVars = map[string]bool{"EMAIL": true, "PASSWORD": true, "USER_ID": true, "COOKIE": true, "TOKEN": true, "BEARER": true, "SESSION_COOKIE": true}
)

// serviceVar is the prefix of a service's template variables: auth-service
// gives AUTH_SERVICE_URL, AUTH_SERVICE_HOST, AUTH_SERVICE_PORT.
func serviceVar(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func loadScenarios(t *testing.T) []*scenarioFile {
	t.Helper()
	entries, err := os.ReadDir(scenariosDir)
	if err != nil {
		t.Fatalf("scenarios: %v", err)
	}
	var out []*scenarioFile
	emails := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(scenariosDir, e.Name())
		raw, err := os.ReadFile(filepath.Join(dir, "scenario.json"))
		if err != nil {
			t.Fatalf("scenario %s: %v", e.Name(), err)
		}
		sc := &scenarioFile{name: e.Name(), dir: dir}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(sc); err != nil {
			t.Fatalf("scenario %s: scenario.json: %v", e.Name(), err)
		}
		if err := sc.validate(); err != nil {
			t.Fatalf("scenario %s: %v", e.Name(), err)
		}
		if sc.User != nil {
			// Scenarios share servers and the database: one user each.
			if other, dup := emails[sc.User.Email]; dup {
				t.Fatalf("scenarios %s and %s use the same email %s: each needs its own user", other, sc.name, sc.User.Email)
			}
			emails[sc.User.Email] = sc.name
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		t.Fatalf("no scenarios under %s", scenariosDir)
	}
	return out
}

func (sc *scenarioFile) validate() error {
	if !scenarioNameRE.MatchString(sc.name) {
		return fmt.Errorf("directory name must be lower-case words joined by -")
	}
	if strings.TrimSpace(sc.Description) == "" {
		return errors.New("no description")
	}
	if len(sc.Services) == 0 {
		return errors.New("no services")
	}
	for name, s := range sc.Services {
		if !scenarioNameRE.MatchString(name) {
			return fmt.Errorf("service name %q: lower-case words joined by -", name)
		}
		if s.Proxy != nil {
			if s.EnvFile != "" || s.Bearer || s.Cache != "" || s.CookiePrefix != "" || s.API != "" || s.RequireEmailVerification ||
				s.RateLimit || s.SameSite != "" || s.Partitioned || s.Secure != nil || s.CacheMaxAge != 0 || s.CORSOrigin != "" || s.ExposeAuthToken {
				return fmt.Errorf("service %s: a proxy has only proxy settings", name)
			}
			to, ok := sc.Services[s.Proxy.To]
			if !ok || to.Proxy != nil {
				return fmt.Errorf("service %s: proxy.to %q is not a BetterAuth service of this scenario", name, s.Proxy.To)
			}
			continue
		}
		if s.EnvFile == "" {
			return fmt.Errorf("service %s: no env_file (nor proxy)", name)
		}
		if _, err := os.Stat(filepath.Join(sc.dir, s.EnvFile)); err != nil {
			return fmt.Errorf("service %s: env_file: %v", name, err)
		}
		if !apiModes[s.API] || !cacheModes[s.Cache] || !sameSites[s.SameSite] {
			return fmt.Errorf("service %s: api %q, cache %q or samesite %q is not one server.mjs knows", name, s.API, s.Cache, s.SameSite)
		}
	}
	isServer := func(name string) bool { s, ok := sc.Services[name]; return ok && s.Proxy == nil }
	if sc.User != nil {
		if sc.User.Service == "" {
			sc.User.Service = "auth"
		}
		if !isServer(sc.User.Service) {
			return fmt.Errorf("user.service %q is not a BetterAuth service", sc.User.Service)
		}
		if sc.User.Email == "" || sc.User.Password == "" {
			return errors.New("user needs email and password")
		}
	}
	for i := range sc.Before {
		st := &sc.Before[i]
		n := 0
		for _, set := range []bool{st.SignIn, st.SignInTimes > 0, st.SQL != "", st.StopDatabase != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("before[%d]: exactly one of sign_in, sign_in_times, sql, stop_database", i)
		}
		if (st.SignIn || st.SignInTimes > 0) && sc.User == nil {
			return fmt.Errorf("before[%d]: signing in needs a user", i)
		}
		if st.Service == "" && sc.User != nil {
			st.Service = sc.User.Service
		}
		if (st.SignIn || st.SignInTimes > 0) && !isServer(st.Service) {
			return fmt.Errorf("before[%d]: service %q is not a BetterAuth service", i, st.Service)
		}
		if st.SQL != "" && st.Database == "" {
			st.Database = "DATABASE_URL"
		}
		for _, db := range []string{st.Database, st.StopDatabase} {
			if db != "" && !dbVarRE.MatchString(db) {
				return fmt.Errorf("before[%d]: database %q: a DATABASE_URL… variable name, without braces", i, db)
			}
		}
		if st.StopDatabase == "DATABASE_URL" {
			return fmt.Errorf("before[%d]: the shared DATABASE_URL cannot be stopped: give the service its own (DATABASE_URL_…)", i)
		}
	}
	if len(sc.Command) == 0 {
		return errors.New("no command")
	}
	switch sc.Command[0] {
	case "check", "login", "decode":
	default:
		return fmt.Errorf("command %q: the suite runs check, login or decode", sc.Command[0])
	}
	hasJSON := false
	for _, a := range sc.Command {
		hasJSON = hasJSON || a == "--json"
	}
	if !hasJSON {
		return errors.New("the command needs --json: the verdict is read from it")
	}
	if sc.Command[0] == "decode" {
		if len(sc.Expect.Findings) == 0 && len(sc.Expect.NoFindings) == 0 {
			return errors.New("a decode scenario expects findings (or no_findings)")
		}
	} else if sc.Expect.Verdict == "" {
		return errors.New("expect.verdict is missing (healthy for none)")
	}
	if sc.CommandEnv == nil && sc.User != nil {
		sc.CommandEnv = map[string]string{"SCENARIO_PASSWORD": "{{PASSWORD}}"}
	}
	return nil
}

// ---- selection: which scenarios -run selects -----------------------------------

// selectedScenarios is what `go test -run`/`-skip` will run, so only their
// servers are started. A scenario this misjudges still runs: its subtest
// then starts its own servers.
func selectedScenarios(all []*scenarioFile) []*scenarioFile {
	var out []*scenarioFile
	for _, sc := range all {
		if subtestSelected(sc.name) {
			out = append(out, sc)
		}
	}
	return out
}

func subtestSelected(name string) bool {
	get := func(n string) string {
		if f := flag.Lookup(n); f != nil {
			return f.Value.String()
		}
		return ""
	}
	// Level 0 matched already (TestScenarios runs); level 1 is the scenario.
	if run := splitTestPattern(get("test.run")); len(run) > 1 {
		if re, err := regexp.Compile(run[1]); err == nil && !re.MatchString(name) {
			return false
		}
	}
	if skip := splitTestPattern(get("test.skip")); len(skip) > 1 {
		re0, err0 := regexp.Compile(skip[0])
		re1, err1 := regexp.Compile(skip[1])
		if err0 == nil && err1 == nil && re0.MatchString("TestScenarios") && re1.MatchString(name) && len(skip) == 2 {
			return false
		}
	}
	return true
}

// splitTestPattern splits a -run pattern at slashes outside brackets and
// parentheses, as the testing package does.
func splitTestPattern(p string) []string {
	if p == "" {
		return nil
	}
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[', '(':
			depth++
		case ']', ')':
			if depth > 0 {
				depth--
			}
		case '/':
			if depth == 0 {
				out = append(out, p[start:i])
				start = i + 1
			}
		}
	}
	return append(out, p[start:])
}

// ---- servers -------------------------------------------------------------------

// scenarioServer is one running server (BetterAuth or proxy), shared by every
// scenario whose definition of it is identical.
type scenarioServer struct {
	key      string
	name     string // the service name, which its templates use
	svc      scenarioService
	template string // the env file's text (BetterAuth)
	envFile  string // its path inside the scenario directory
	port     int
	listener net.Listener // proxies: held from the port pick on
	users    []string     // scenarios using it
	ba       *batest.Server
	target   *scenarioServer // proxies
}

func (s *scenarioServer) url() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

// scenarioStack is what prepareScenarios set up for a set of scenarios.
type scenarioStack struct {
	servers   []*scenarioServer
	services  map[string]map[string]*scenarioServer // scenario → service name → server
	databases map[string]string                     // DATABASE_URL… → URL
	dbNames   map[string]string                     // DATABASE_URL… → database name
	startup   time.Duration                         // from the first server start to the last one up
}

// serverKey identifies a service's definition: its name (its templates name
// it), options, env file text and, recursively, the services it refers to,
// whose URLs end up in its env file. A service that must not be shared
// (rate limiter state, a database that its scenario stops) has its
// scenario's name in the key too.
func serverKey(sc *scenarioFile, name string, visiting map[string]bool) (string, error) {
	if visiting[name] {
		return "", errServiceCycle
	}
	visiting[name] = true
	defer delete(visiting, name)
	svc := sc.Services[name]
	h := sha256.New()
	opts, _ := json.Marshal(svc)
	fmt.Fprintf(h, "name=%s\nopts=%s\n", name, opts)
	var refs []string
	if svc.Proxy != nil {
		refs = append(refs, svc.Proxy.To)
	} else {
		text, err := os.ReadFile(filepath.Join(sc.dir, svc.EnvFile))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "env=%s\n", text)
		for _, m := range placeholderRE.FindAllStringSubmatch(string(text), -1) {
			v := m[1]
			if dbVarRE.MatchString(v) {
				for _, st := range sc.Before {
					if st.StopDatabase == v {
						fmt.Fprintf(h, "exclusive=%s\n", sc.name)
					}
				}
				continue
			}
			ref, ok := serviceOfVar(sc, v)
			if !ok {
				return "", fmt.Errorf("service %s: %s: unknown placeholder {{%s}} (env files know DATABASE_URL…, and <SERVICE>_URL, _HOST, _PORT)", name, svc.EnvFile, v)
			}
			if ref != name {
				refs = append(refs, ref)
			}
		}
		if svc.RateLimit {
			fmt.Fprintf(h, "exclusive=%s\n", sc.name)
		}
	}
	sort.Strings(refs)
	for _, r := range refs {
		k, err := serverKey(sc, r, visiting)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "ref %s=%s\n", r, k)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// errServiceCycle: services refer to each other's URLs (an auth service
// whose BETTER_AUTH_URL is the proxy in front of it); such services are
// not shared.
var errServiceCycle = errors.New("services refer to each other")

// serverKeyOrOwn is serverKey, or a key of the scenario's own for services
// in a cycle of references.
func serverKeyOrOwn(sc *scenarioFile, name string) (string, error) {
	k, err := serverKey(sc, name, map[string]bool{})
	if errors.Is(err, errServiceCycle) {
		h := sha256.Sum256([]byte("scenario=" + sc.name + "\nservice=" + name))
		return hex.EncodeToString(h[:])[:16], nil
	}
	return k, err
}

// serviceOfVar maps AUTH_URL, AUTH_HOST, AUTH_PORT to the service "auth".
func serviceOfVar(sc *scenarioFile, v string) (string, bool) {
	for name := range sc.Services {
		p := serviceVar(name)
		if v == p+"_URL" || v == p+"_HOST" || v == p+"_PORT" {
			return name, true
		}
	}
	return "", false
}

// prepareScenarios plans the servers of the scenarios, creates their
// databases, picks ports, renders the servers' env files and starts every
// server at once. The servers live as long as t.
func prepareScenarios(t *testing.T, list []*scenarioFile) *scenarioStack {
	t.Helper()
	st := &scenarioStack{services: map[string]map[string]*scenarioServer{}, databases: map[string]string{}, dbNames: map[string]string{}}
	byKey := map[string]*scenarioServer{}
	for _, sc := range list {
		st.services[sc.name] = map[string]*scenarioServer{}
		names := make([]string, 0, len(sc.Services))
		for n := range sc.Services {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			key, err := serverKeyOrOwn(sc, n)
			if err != nil {
				t.Fatalf("scenario %s: %v", sc.name, err)
			}
			srv := byKey[key]
			if srv == nil {
				svc := sc.Services[n]
				srv = &scenarioServer{key: key, name: n, svc: svc, envFile: svc.EnvFile}
				if svc.EnvFile != "" {
					text, _ := os.ReadFile(filepath.Join(sc.dir, svc.EnvFile))
					srv.template = string(text)
				}
				byKey[key] = srv
				st.servers = append(st.servers, srv)
			}
			srv.users = append(srv.users, sc.name)
			st.services[sc.name][n] = srv
		}
		for n, svc := range sc.Services {
			if svc.Proxy != nil {
				st.services[sc.name][n].target = st.services[sc.name][svc.Proxy.To]
			}
		}
	}

	// Databases: every DATABASE_URL… a selected scenario mentions anywhere.
	for _, sc := range list {
		for _, v := range scenarioDBVars(t, sc) {
			if _, ok := st.databases[v]; !ok {
				st.databases[v] = pgtest.DSN(t)
				u, _ := url.Parse(st.databases[v])
				st.dbNames[v] = strings.TrimPrefix(u.Path, "/")
			}
		}
	}
	// A database a scenario stops is that scenario's alone.
	for _, sc := range list {
		for _, step := range sc.Before {
			if step.StopDatabase == "" {
				continue
			}
			for _, other := range list {
				if other != sc && slicesContain(scenarioDBVars(t, other), step.StopDatabase) {
					t.Fatalf("scenarios %s and %s both use %s, which %s stops: give it another name", sc.name, other.name, step.StopDatabase, sc.name)
				}
			}
		}
	}

	// Ports: listeners stay open until every port is picked, so no two
	// servers get the same one; proxies keep theirs and serve on it.
	var held []net.Listener
	for _, srv := range st.servers {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("picking a port: %v", err)
		}
		srv.port = l.Addr().(*net.TCPAddr).Port
		if srv.svc.Proxy != nil {
			srv.listener = l
			t.Cleanup(func() { l.Close() })
		} else {
			held = append(held, l)
		}
	}
	for _, l := range held {
		l.Close()
	}

	vars := st.templateVars()
	root := t.TempDir()
	var opts []batest.Options
	var bas []*scenarioServer
	for i, srv := range st.servers {
		if srv.svc.Proxy != nil {
			continue
		}
		text, err := renderTemplate(srv.template, vars(srv.users[0]))
		if err != nil {
			t.Fatalf("service %s of %s: %s: %v", srv.name, srv.users[0], srv.envFile, err)
		}
		path := filepath.Join(root, strconv.Itoa(i), srv.envFile)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s := srv.svc
		o := batest.Options{
			EnvFile: path, Port: srv.port, Bearer: s.Bearer, Cache: s.Cache, CookiePrefix: s.CookiePrefix,
			API: s.API, RequireEmailVerification: s.RequireEmailVerification, RateLimit: s.RateLimit,
			SameSite: s.SameSite, CacheMaxAge: s.CacheMaxAge, CORSOrigin: s.CORSOrigin, ExposeAuthToken: s.ExposeAuthToken,
			Partitioned: s.Partitioned,
		}
		if s.Secure != nil {
			o.Secure = map[bool]string{false: "0", true: "1"}[*s.Secure]
		}
		opts = append(opts, o)
		bas = append(bas, srv)
	}
	// Migrations run once per database, by the first server on it (a
	// deployment runs them once too, not at every start); the others start
	// after it without them, so they do not queue on the migration lock.
	begin := time.Now()
	var first, rest []int
	migrated := map[string]bool{}
	for i, srv := range bas {
		dbs := templateDBVars(srv.template)
		fresh := false
		for _, v := range dbs {
			fresh = fresh || !migrated[v]
			migrated[v] = true
		}
		if fresh {
			first = append(first, i)
		} else {
			if len(dbs) > 0 {
				opts[i].ExtraEnv = append(opts[i].ExtraEnv, "MIGRATE=0")
			}
			rest = append(rest, i)
		}
	}
	for _, phase := range [][]int{first, rest} {
		var po []batest.Options
		for _, i := range phase {
			po = append(po, opts[i])
		}
		for j, ba := range batest.StartAll(t, po...) {
			bas[phase[j]].ba = ba
		}
	}
	for _, srv := range st.servers {
		if srv.svc.Proxy != nil {
			startScenarioProxy(t, srv)
		}
	}
	st.startup = time.Since(begin)
	t.Logf("scenarios: %d server(s) for %d scenario(s) up in %s", len(st.servers), len(list), st.startup.Round(time.Millisecond))
	return st
}

// templateDBVars lists the DATABASE_URL… placeholders of an env file.
func templateDBVars(text string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if dbVarRE.MatchString(m[1]) && !slicesContain(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scenarioDBVars lists the DATABASE_URL… variables a scenario mentions.
func scenarioDBVars(t *testing.T, sc *scenarioFile) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	texts := append([]string{sc.Stdin}, sc.Command...)
	for _, v := range sc.CommandEnv {
		texts = append(texts, v)
	}
	for _, step := range sc.Before {
		texts = append(texts, step.SQL)
		add(step.Database)
		add(step.StopDatabase)
	}
	_ = filepath.WalkDir(sc.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "scenario.json" {
			if b, err := os.ReadFile(p); err == nil {
				texts = append(texts, string(b))
			}
		}
		return nil
	})
	for _, text := range texts {
		for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
			if dbVarRE.MatchString(m[1]) {
				add(m[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

// templateVars returns, per scenario, the variables its env files may use:
// its services' URL, HOST, PORT and the databases.
func (st *scenarioStack) templateVars() func(scenario string) map[string]string {
	return func(scenario string) map[string]string {
		vars := map[string]string{}
		for k, v := range st.databases {
			vars[k] = v
		}
		for name, srv := range st.services[scenario] {
			p := serviceVar(name)
			vars[p+"_URL"] = srv.url()
			vars[p+"_HOST"] = fmt.Sprintf("127.0.0.1:%d", srv.port)
			vars[p+"_PORT"] = strconv.Itoa(srv.port)
		}
		return vars
	}
}

// renderTemplate replaces every {{NAME}}; an unknown one is an error, so a
// typo does not reach a server as literal text.
func renderTemplate(text string, vars map[string]string) (string, error) {
	var missing []string
	out := placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown placeholder(s) %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// startScenarioProxy serves a reverse proxy in front of a BetterAuth
// service, the way a dev proxy or a CDN sits in front of one, rewriting
// Set-Cookie as configured.
func startScenarioProxy(t *testing.T, srv *scenarioServer) {
	target, _ := url.Parse(srv.target.ba.URL)
	p := srv.svc.Proxy
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ModifyResponse: func(res *http.Response) error {
			switch {
			case p.StripSetCookie:
				res.Header.Del("Set-Cookie")
			case p.StripSecure:
				lines := res.Header.Values("Set-Cookie")
				res.Header.Del("Set-Cookie")
				for _, l := range lines {
					res.Header.Add("Set-Cookie", withoutSecure(l))
				}
			}
			return nil
		},
	}
	hs := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(srv.listener) }()
	t.Cleanup(func() { hs.Close() })
}

// withoutSecure drops the Secure attribute of a Set-Cookie line (what
// nginx's `proxy_cookie_flags ~ nosecure` does).
func withoutSecure(line string) string {
	parts := strings.Split(line, ";")
	out := parts[:1]
	for _, a := range parts[1:] {
		if !strings.EqualFold(strings.TrimSpace(a), "secure") {
			out = append(out, a)
		}
	}
	return strings.Join(out, ";")
}

// ---- running a scenario --------------------------------------------------------

type scenarioRow struct {
	name, expected, got string
	passed              bool
	took                time.Duration
}

type scenarioTable struct {
	mu          sync.Mutex
	rows        []scenarioRow
	first, last time.Time // the first scenario's start, the last one's end
}

func (tb *scenarioTable) add(r scenarioRow, start time.Time) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.rows = append(tb.rows, r)
	if tb.first.IsZero() || start.Before(tb.first) {
		tb.first = start
	}
	if end := start.Add(r.took); end.After(tb.last) {
		tb.last = end
	}
}

func (tb *scenarioTable) String() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	rows := append([]scenarioRow(nil), tb.rows...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	var b strings.Builder
	w := [3]int{len("SCENARIO"), len("EXPECTED"), len("GOT")}
	for _, r := range rows {
		w[0], w[1], w[2] = max(w[0], len(r.name)), max(w[1], len(r.expected)), max(w[2], len(r.got))
	}
	fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %-4s  %s\n", w[0], "SCENARIO", w[1], "EXPECTED", w[2], "GOT", "", "TIME")
	passed := 0
	for _, r := range rows {
		mark := "FAIL"
		if r.passed {
			mark, passed = "ok", passed+1
		}
		fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %-4s  %s\n", w[0], r.name, w[1], r.expected, w[2], r.got, mark, r.took.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "%d of %d scenario(s) as expected; the scenarios (in parallel) took %s", passed, len(rows), tb.last.Sub(tb.first).Round(time.Millisecond))
	return b.String()
}

// TestScenarios runs the scenario suite of testdata/scenarios (its README
// describes the format): for each scenario, the real BetterAuth servers its
// services describe (server.mjs reading the scenario's env files with Node's
// own loader), on the test PostgreSQL, then the command a user would run, in
// process, and the verdict it reaches.
//
// Scenarios whose server definitions are identical share the servers, and
// the servers the selected scenarios need all start (overlapping) before
// the first scenario runs, so the suite fits the 2-core budget. Each
// scenario is a subtest; several run at once:
//
//	go test ./cmd/authtui/ -run TestScenarios -count=1 -v
//	go test ./cmd/authtui/ -run TestScenarios/api-other-secret -count=1 -v
//
// AUTHTUI_SCENARIO_OUT=DIR writes what each command printed (redacted) to
// DIR/<scenario>.out. The last log line is a table: scenario, expected
// verdict, got, time.

func TestScenarios(t *testing.T) {
	begin := time.Now()
	all := loadScenarios(t)
	stack := prepareScenarios(t, selectedScenarios(all))
	table := &scenarioTable{}
	// The scenarios mostly wait on the servers, so more of them run at once
	// than -parallel (GOMAXPROCS) would allow: t.Run from several
	// goroutines, bounded here.
	slots := make(chan struct{}, 2*runtime.NumCPU())
	var wg sync.WaitGroup
	for _, sc := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			t.Run(sc.name, func(t *testing.T) {
				st := stack
				if _, ok := st.services[sc.name]; !ok {
					// -run selected it after all: it gets servers of its own.
					st = prepareScenarios(t, []*scenarioFile{sc})
				}
				runScenario(t, st, sc, table)
			})
		}()
	}
	wg.Wait()
	t.Logf("scenario table (servers up in %s, total %s):\n%s", stack.startup.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond), table)
}

// scenarioRun is the state of one scenario while it runs.
type scenarioRun struct {
	t       *testing.T
	sc      *scenarioFile
	st      *scenarioStack
	vars    map[string]string
	secrets []string // never in any output
	masks   []string // tokens and cookies: not secrets of the config, but never logged
}

func runScenario(t *testing.T, st *scenarioStack, sc *scenarioFile, table *scenarioTable) {
	start := time.Now()
	r := &scenarioRun{t: t, sc: sc, st: st, vars: st.templateVars()(sc.name), secrets: []string{batest.DefaultSecret}}
	expected := sc.Expect.Verdict
	if expected == "" {
		expected = "findings: " + strings.Join(sc.Expect.Findings, ",")
	}
	row := scenarioRow{name: sc.name, expected: expected, got: "(did not run)"}
	defer func() {
		row.took = time.Since(start)
		row.passed = !t.Failed()
		table.add(row, start)
	}()
	t.Logf("%s", sc.Description)
	for _, srv := range st.services[sc.name] {
		if srv.ba != nil {
			r.secrets = append(r.secrets, scenarioSecretValues(srv.ba.EnvFileVars)...)
		}
	}

	dir := r.renderDir()
	r.signUp()
	for i, step := range sc.Before {
		r.before(i, step)
	}

	args := make([]string, len(sc.Command))
	for i, a := range sc.Command {
		args[i] = r.render("command", a)
		if a == "browser" || a == "--browser" {
			if _, err := browser.Find(""); err != nil {
				testenv.Unavailable(t, err.Error()+" (make deps installs chromium)")
			}
		}
	}
	env := map[string]string{}
	for k, v := range sc.CommandEnv {
		env[k] = r.render("command_env", v)
		r.secrets = append(r.secrets, env[k])
	}
	stdin := r.render("stdin", sc.Stdin)
	var stdout, stderr bytes.Buffer
	a := &app{
		stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		environ: nil, dir: dir, getenv: func(k string) string { return env[k] },
	}
	cmdStart := time.Now()
	code := a.main(args)
	t.Logf("authtui %s: exit %d in %s", strings.Join(sc.Command, " "), code, time.Since(cmdStart).Round(time.Millisecond))

	out := stdout.String() + "\n" + stderr.String()
	for _, s := range r.secrets {
		if len(s) >= 6 && strings.Contains(out, s) {
			t.Errorf("the output contains a secret or password of the scenario (%d characters); redacted output:\n%s", len(s), r.redact(out))
		}
	}
	if d := os.Getenv(scenarioOutEnv); d != "" {
		// For whoever writes the verdict engine: what each command printed,
		// redacted like everything the test logs.
		if err := os.WriteFile(filepath.Join(d, sc.name+".out"), []byte(r.redact(out)), 0o644); err != nil {
			t.Logf("%s: %v", scenarioOutEnv, err)
		}
	}
	res, err := parseScenarioOutput(sc.Command[0], stdout.Bytes())
	if err != nil {
		row.got = "(no JSON)"
		t.Fatalf("output is not the JSON of %s: %v\nstdout:\n%s\nstderr:\n%s", sc.Command[0], err, r.redact(clip(stdout.String(), 3000)), r.redact(clip(stderr.String(), 2000)))
	}
	got, problems, notes := judgeScenario(sc, res, code, func(s string) string { return r.render("expect", s) })
	row.got = got
	for _, n := range notes {
		t.Log(n)
	}
	for _, p := range problems {
		t.Error(r.redact(p))
	}
	if t.Failed() {
		t.Logf("got: exit %d, verdict %s (from %s), findings %v\nmessage: %s\nsteps (%s): %v\nstderr: %s",
			code, orNone(res.verdict), res.verdictFrom, res.findings, r.redact(res.message), res.stepsFrom, res.steps, r.redact(clip(stderr.String(), 1000)))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// renderDir writes the scenario's files, rendered, into a directory of its
// own: the command runs there, so relative --env-file paths resolve while
// their labels stay as typed.
func (r *scenarioRun) renderDir() string {
	dir := r.t.TempDir()
	err := filepath.WalkDir(r.sc.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Dir(p) == r.sc.dir && d.Name() == "scenario.json") {
			return err
		}
		rel, _ := filepath.Rel(r.sc.dir, p)
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		text, err := renderTemplate(string(raw), r.vars)
		if err != nil {
			return fmt.Errorf("%s: %v", rel, err)
		}
		if looksLikeEnvFile(rel) {
			vars, _ := parseEnvLenient(text)
			r.secrets = append(r.secrets, scenarioSecretValues(vars)...)
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, []byte(text), 0o600)
	})
	if err != nil {
		r.t.Fatalf("rendering the scenario's files: %v", err)
	}
	return dir
}

func looksLikeEnvFile(rel string) bool {
	base := filepath.Base(rel)
	return strings.HasPrefix(base, ".env") || strings.HasSuffix(base, ".env")
}

// parseEnvLenient reads KEY=VALUE lines the simple way, both with and
// without surrounding quotes and \n escapes, for the list of secrets the
// output must not contain: over-collecting is harmless there.
func parseEnvLenient(text string) (map[string]string, error) {
	vars := map[string]string{}
	i := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "export "))
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		uq := strings.Trim(v, "\"'`")
		for _, val := range []string{v, uq, strings.ReplaceAll(uq, `\n`, "\n")} {
			vars[fmt.Sprintf("%s#%d", k, i)] = val
			i++
		}
	}
	return vars, nil
}

// scenarioSecretValues lists the values of an env file's *SECRET* variables
// (each BETTER_AUTH_SECRETS entry too) and database passwords.
func scenarioSecretValues(vars map[string]string) []string {
	var out []string
	for k, v := range vars {
		k = strings.ToUpper(k)
		switch {
		case strings.Contains(k, "SECRET"):
			out = append(out, v, strings.TrimSpace(v))
			for _, e := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(e))
				if _, s, ok := strings.Cut(e, ":"); ok {
					out = append(out, s, strings.TrimSpace(s))
				}
			}
		case strings.HasPrefix(k, "DATABASE_URL"):
			if u, err := url.Parse(strings.Trim(v, "\"'")); err == nil && u.User != nil {
				if p, ok := u.User.Password(); ok {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

var longToken = regexp.MustCompile(`[A-Za-z0-9]{32,}`)

// redact removes the scenario's secrets and passwords, its saved tokens and
// cookies, and anything shaped like a session token from text to be logged.
func (r *scenarioRun) redact(text string) string {
	all := append(append([]string{}, r.secrets...), r.masks...)
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	for _, s := range all {
		if len(s) >= 6 {
			text = strings.ReplaceAll(text, s, "[REDACTED]")
		}
	}
	return longToken.ReplaceAllString(text, "[TOKEN]")
}

func (r *scenarioRun) render(what, text string) string {
	r.t.Helper()
	out, err := renderTemplate(text, r.vars)
	if err != nil {
		r.t.Fatalf("%s: %v", what, err)
	}
	return out
}

func (r *scenarioRun) server(name string) *batest.Server {
	srv := r.st.services[r.sc.name][name]
	if srv == nil || srv.ba == nil {
		r.t.Fatalf("service %s is not a BetterAuth server", name)
	}
	return srv.ba
}

// signUp creates the scenario's user on its service (from that service's
// own origin, so a server behind a TLS proxy trusts it), verified if asked.
func (r *scenarioRun) signUp() {
	u := r.sc.User
	if u == nil {
		return
	}
	r.secrets = append(r.secrets, u.Password)
	srv := r.server(u.Service)
	user := batest.SignUpFrom(r.t, srv.URL, srv.Origin(), u.Email, u.Password)
	r.vars["EMAIL"], r.vars["PASSWORD"], r.vars["USER_ID"] = u.Email, u.Password, user.ID
	if u.Verified {
		dsn := srv.EnvFileVars["DATABASE_URL"]
		if dsn == "" {
			r.t.Fatalf("user.verified needs the service %s on a database", u.Service)
		}
		r.exec(dsn, `UPDATE "user" SET "emailVerified" = true WHERE email = '`+u.Email+`'`)
	}
}

func (r *scenarioRun) before(i int, step scenarioStep) {
	t := r.t
	t.Helper()
	switch {
	case step.SignIn:
		srv := r.server(step.Service)
		s := batest.SignInFrom(t, srv.URL, srv.Origin(), r.sc.User.Email, r.sc.User.Password)
		r.vars["COOKIE"], r.vars["TOKEN"], r.vars["BEARER"], r.vars["SESSION_COOKIE"] = s.CookieHeader, s.Token, s.SetAuthToken, s.SessionCookie
		r.masks = append(r.masks, s.CookieHeader, s.Token, s.SetAuthToken, s.SessionCookie)
		t.Logf("before[%d]: signed in on %s: %d cookie(s)", i, step.Service, len(s.Cookies))
	case step.SignInTimes > 0:
		srv := r.server(step.Service)
		var got []string
		reached := false
		for n := 0; n < step.SignInTimes && !reached; n++ {
			status, code, s := batest.TrySignIn(t, srv.URL, srv.Origin(), r.sc.User.Email, r.sc.User.Password)
			if status == http.StatusOK {
				r.masks = append(r.masks, s.CookieHeader, s.Token, s.SetAuthToken)
			}
			got = append(got, strings.TrimSpace(fmt.Sprint(status, " ", code)))
			reached = step.UntilStatus != 0 && status == step.UntilStatus
		}
		if step.UntilStatus != 0 && !reached {
			t.Fatalf("before[%d]: %d sign-ins never answered %d: %q", i, step.SignInTimes, step.UntilStatus, got)
		}
		t.Logf("before[%d]: sign-ins answered %q", i, got)
	case step.SQL != "":
		dsn := r.st.databases[step.Database]
		n := r.exec(dsn, r.render("sql", step.SQL))
		t.Logf("before[%d]: SQL on %s: %d row(s)", i, step.Database, n)
	case step.StopDatabase != "":
		r.stopDatabase(i, step.StopDatabase)
	}
}

// exec runs one statement; an UPDATE, DELETE or INSERT must change a row, or
// the scenario would not be what it says.
func (r *scenarioRun) exec(dsn, sql string) int64 {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		r.t.Fatalf("connecting for SQL: %v", err)
	}
	defer c.Close(context.Background())
	tag, err := c.Exec(ctx, sql)
	if err != nil {
		r.t.Fatalf("SQL %s: %v", r.redact(sql), err)
	}
	if (tag.Update() || tag.Delete() || tag.Insert()) && tag.RowsAffected() == 0 {
		r.t.Fatalf("SQL %s changed no row", r.redact(sql))
	}
	return tag.RowsAffected()
}

// stopDatabase makes a database unreachable the way an outage does for the
// services on it: new connections are refused (ALLOW_CONNECTIONS false) and
// the open ones are cut; then it checks a new connection really fails.
func (r *scenarioRun) stopDatabase(i int, v string) {
	t := r.t
	name := r.st.dbNames[v]
	admin := pgtest.Superuser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("before[%d]: %v", i, err)
	}
	defer c.Close(context.Background())
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := c.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatalf("before[%d]: %v", i, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS true")
			c.Close(context.Background())
		}
	})
	if _, err := c.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name); err != nil {
		t.Fatalf("before[%d]: %v", i, err)
	}
	probe, err := pgx.Connect(ctx, r.st.databases[v])
	if err == nil {
		probe.Close(context.Background())
		t.Fatalf("before[%d]: %s still accepts connections", i, v)
	}
	t.Logf("before[%d]: %s stopped (a new connection gets: %v)", i, v, err)
}

// ---- reading and judging the output --------------------------------------------

// scenarioResult is what the harness reads from a command's JSON, wherever
// the contract of the day puts it.
type scenarioResult struct {
	verdict      string
	verdictFrom  string // "verdict.id", "diagnosis.cause" or ""
	healthy      *bool  // diagnosis.healthy when present
	message      string
	alternatives []string
	tellApart    string
	findings     []string
	steps        map[string]string // step → status
	stepsFrom    string
	outcomes     map[string]scenarioOutcome // step → outcome
}

type scenarioOutcome struct{ result, seen string }

// parseScenarioOutput reads check's or decode's JSON object, or login's
// stream (one event per line, then the summary).
func parseScenarioOutput(cmd string, stdout []byte) (*scenarioResult, error) {
	dec := json.NewDecoder(bytes.NewReader(stdout))
	var objs []map[string]any
	for {
		var o map[string]any
		if err := dec.Decode(&o); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		return nil, errors.New("empty output")
	}
	res := &scenarioResult{steps: map[string]string{}, outcomes: map[string]scenarioOutcome{}}
	top := objs[len(objs)-1]
	var events []map[string]any
	if cmd == "login" {
		for _, o := range objs[:len(objs)-1] {
			if _, ok := o["phase"]; ok {
				events = append(events, o)
			}
		}
		if _, ok := top["phase"]; ok {
			return nil, errors.New("the stream ends in an event, not a summary")
		}
	} else if len(objs) != 1 {
		return nil, fmt.Errorf("%d JSON values, want one object", len(objs))
	}

	if v, ok := top["verdict"].(map[string]any); ok {
		res.verdictFrom = "verdict.id"
		res.verdict, _ = v["id"].(string)
		res.message, _ = v["message"].(string)
		res.alternatives = idsOf(v["alternatives"])
		res.tellApart = flattenText(v["tell_apart"])
	} else if d, ok := top["diagnosis"].(map[string]any); ok {
		res.verdictFrom = "diagnosis.cause"
		res.verdict, _ = d["cause"].(string)
		res.message, _ = d["verdict"].(string)
	}
	// "healthy" at the top (check, login's summary), else in the verdict or
	// the old diagnosis.
	for _, m := range []any{top, top["verdict"], top["diagnosis"]} {
		if o, ok := m.(map[string]any); ok && res.healthy == nil {
			if h, ok := o["healthy"].(bool); ok {
				res.healthy = &h
			}
		}
	}
	collectFindings(top, &res.findings)
	sort.Strings(res.findings)

	// Steps: the new contract's "steps" (top level or under "login"), else
	// the login stream's end events.
	login, _ := top["login"].(map[string]any)
	for _, c := range []struct {
		from string
		v    any
	}{{"steps", top["steps"]}, {"login.steps", login["steps"]}} {
		if readSteps(c.v, res) {
			res.stepsFrom = c.from
			break
		}
	}
	if res.stepsFrom == "" && len(events) > 0 {
		for _, e := range events {
			if e["phase"] == "end" {
				step, _ := e["step"].(string)
				status, _ := e["status"].(string)
				res.steps[step] = status
			}
		}
		res.stepsFrom = "event stream"
	}
	for _, v := range []any{top["outcomes"], login["outcomes"]} {
		readOutcomes(v, res)
	}
	return res, nil
}

// readSteps takes [{"step"|"id"|"name", "status", "outcome"?}] or
// {"step": "status"|{"status"}}.
func readSteps(v any, res *scenarioResult) bool {
	switch s := v.(type) {
	case []any:
		for _, e := range s {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			name := firstString(m, "step", "id", "name")
			status, _ := m["status"].(string)
			if name != "" {
				res.steps[name] = status
				if o, ok := m["outcome"].(map[string]any); ok {
					res.outcomes[name] = outcomeOf(o)
				}
			}
		}
		return len(s) > 0
	case map[string]any:
		for name, e := range s {
			switch x := e.(type) {
			case string:
				res.steps[name] = x
			case map[string]any:
				res.steps[name], _ = x["status"].(string)
				if o, ok := x["outcome"].(map[string]any); ok {
					res.outcomes[name] = outcomeOf(o)
				}
			}
		}
		return len(s) > 0
	}
	return false
}

// readOutcomes takes {"step": {"result"}} or [{"step", "result"}].
func readOutcomes(v any, res *scenarioResult) {
	switch s := v.(type) {
	case []any:
		for _, e := range s {
			if m, ok := e.(map[string]any); ok {
				if name := firstString(m, "step"); name != "" {
					res.outcomes[name] = outcomeOf(m)
				}
			}
		}
	case map[string]any:
		for name, e := range s {
			if m, ok := e.(map[string]any); ok {
				res.outcomes[name] = outcomeOf(m)
			}
		}
	}
}

func outcomeOf(m map[string]any) scenarioOutcome {
	r, _ := m["result"].(string)
	s, _ := m["seen"].(string)
	return scenarioOutcome{r, s}
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// idsOf reads ["id", …] or [{"id"}, …].
func idsOf(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		switch x := e.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			if id := firstString(x, "id", "cause"); id != "" {
				out = append(out, id)
			}
		}
	}
	return out
}

// flattenText joins every string inside v.
func flattenText(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// collectFindings gathers the id of every object in any "findings" array.
func collectFindings(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if list, ok := e.([]any); ok && k == "findings" {
				for _, f := range list {
					if m, ok := f.(map[string]any); ok {
						if id, ok := m["id"].(string); ok && !slicesContain(*out, id) {
							*out = append(*out, id)
						}
					}
				}
			}
			collectFindings(e, out)
		}
	case []any:
		for _, e := range x {
			collectFindings(e, out)
		}
	}
}

// judgeScenario checks a command's result against expect. It returns what
// to show as "got" in the table and every way the result falls short; the
// steps that could not be checked (the output carries none) are noted.
// render fills placeholders in expected texts.
func judgeScenario(sc *scenarioFile, res *scenarioResult, code int, render func(string) string) (got string, problems, notes []string) {
	exp := sc.Expect
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	got = orNone(res.verdict)
	healthy := res.verdict == "" && code == exitOK && (res.healthy == nil || *res.healthy)
	if healthy && res.verdictFrom != "" {
		got = healthyVerdict
	}
	if res.verdictFrom == "diagnosis.cause" && exp.Verdict != "" {
		got += " (old diagnosis)"
	}
	switch {
	case exp.Verdict == healthyVerdict:
		if !healthy {
			fail("verdict: want healthy (no verdict, exit 0), got %s with exit %d", orNone(res.verdict), code)
		}
	case exp.Verdict != "":
		if res.verdictFrom == "" {
			fail("verdict: want %s, the output has neither verdict nor diagnosis", exp.Verdict)
		} else if res.verdict != exp.Verdict {
			fail("verdict: want %s, got %s (%s)", exp.Verdict, orNone(res.verdict), res.verdictFrom)
		}
	}
	if exp.Exit != nil && code != *exp.Exit {
		fail("exit %d, want %d", code, *exp.Exit)
	}
	for _, id := range exp.AlternativesInclude {
		if !slicesContain(res.alternatives, id) {
			fail("verdict.alternatives %v lack %s", res.alternatives, id)
		}
	}
	for _, s := range exp.TellApartMentions {
		if !strings.Contains(res.tellApart, render(s)) {
			fail("verdict.tell_apart does not mention %q: %q", s, res.tellApart)
		}
	}
	for _, id := range exp.Findings {
		if !slicesContain(res.findings, id) {
			fail("finding %s missing; got %v", id, res.findings)
		}
	}
	for _, id := range exp.NoFindings {
		if slicesContain(res.findings, id) {
			fail("finding %s present, want it absent", id)
		}
	}
	if len(exp.Steps) > 0 && res.stepsFrom == "" {
		notes = append(notes, fmt.Sprintf("steps: the output carries none; %d expected step status(es) unchecked", len(exp.Steps)))
	} else {
		for _, step := range sortedKeys(exp.Steps) {
			if g, ok := res.steps[step]; !ok || g != exp.Steps[step] {
				fail("step %s: status %q, want %q (from %s)", step, g, exp.Steps[step], res.stepsFrom)
			}
		}
	}
	// No step claims something false: a step reported ok whose request
	// was not accepted (200 null, a redirect to a sign-in page) lies,
	// whatever the scenario expects.
	for _, step := range sortedKeys(res.steps) {
		o, ok := res.outcomes[step]
		if ok && res.steps[step] == "ok" && o.result != "" && o.result != "accepted" {
			fail("step %s says ok, but its outcome is %q (%s)", step, o.result, o.seen)
		}
	}
	if sc.Command[0] == "decode" && exp.Verdict == "" {
		got = "findings: " + strings.Join(res.findings, ",")
	}
	return got, problems, notes
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestScenarioHarness checks the harness itself, without servers: every
// scenario file is valid, identical definitions share a server, and the
// judge catches what it is there to catch (a wrong verdict, a step that
// claims ok for a rejected request) in each output shape it reads.
func TestScenarioHarness(t *testing.T) {
	all := loadScenarios(t)
	byName := map[string]*scenarioFile{}
	for _, sc := range all {
		byName[sc.name] = sc
	}
	key := func(sc, svc string) string {
		t.Helper()
		k, err := serverKeyOrOwn(byName[sc], svc)
		if err != nil {
			t.Fatalf("%s/%s: %v", sc, svc, err)
		}
		return k
	}
	for _, c := range []struct {
		a, b, svc string
		same      bool
	}{
		{"api-other-secret", "api-other-secret-no-env", "api", true},
		{"api-other-secret", "all-agree-healthy", "auth", true},
		{"api-other-secret", "all-agree-healthy", "api", false},    // another secret
		{"all-agree-healthy", "auth-default-secret", "api", false}, // same text, another auth service's URL in it
		{"cache-compact-revoked", "cache-compact-expired-row", "auth", true},
		{"cache-compact-revoked", "cache-jwt-revoked", "auth", false},
		{"api-other-secret", "wrong-password", "auth", true},
	} {
		if got := key(c.a, c.svc) == key(c.b, c.svc); got != c.same {
			t.Errorf("%s and %s share %s: %v, want %v", c.a, c.b, c.svc, got, c.same)
		}
	}
	if sc := byName["rate-limited"]; sc != nil {
		clone := *sc
		clone.name = "another"
		if k, _ := serverKeyOrOwn(&clone, "auth"); k == key("rate-limited", "auth") {
			t.Error("a rate-limited server is shared between scenarios")
		}
	}

	if got := splitTestPattern(`TestScenarios/api-(null|other)/x`); strings.Join(got, "|") != `TestScenarios|api-(null|other)|x` {
		t.Errorf("splitTestPattern: %q", got)
	}
	if got := splitTestPattern(`A/[/]b`); strings.Join(got, "|") != `A|[/]b` {
		t.Errorf("splitTestPattern: %q", got)
	}
	if got := withoutSecure("a=b; Max-Age=5; Path=/; HttpOnly; Secure; SameSite=None"); got != "a=b; Max-Age=5; Path=/; HttpOnly; SameSite=None" {
		t.Errorf("withoutSecure: %q", got)
	}
	vars, _ := parseEnvLenient("# x\nBETTER_AUTH_SECRET=\"s3cret-value\\n\"\nBETTER_AUTH_SECRETS=\" 2:new-secret , 1:old-secret\"\nDATABASE_URL=postgres://u:dbpass99@h/db\n")
	secrets := scenarioSecretValues(vars)
	for _, want := range []string{"s3cret-value\n", "s3cret-value", "new-secret", "old-secret", "dbpass99"} {
		if !slicesContain(secrets, want) {
			t.Errorf("secret values lack %q: %q", want, secrets)
		}
	}

	sc := &scenarioFile{name: "x", Command: []string{"check", "--json"}, Expect: scenarioExpect{
		Verdict: "secret-mismatch", Steps: map[string]string{"api-cookie": "fail"},
		AlternativesInclude: []string{"db-url-mismatch"}, TellApartMentions: []string{"{{WHERE}}"},
	}}
	render := func(s string) string { return strings.ReplaceAll(s, "{{WHERE}}", "api/.env") }
	judge := func(cmd, out string, code int) (string, []string, []string) {
		t.Helper()
		res, err := parseScenarioOutput(cmd, []byte(out))
		if err != nil {
			t.Fatalf("parse %s: %v", out, err)
		}
		return judgeScenario(sc, res, code, render)
	}
	// The new contract, as expected.
	good := `{"verdict":{"id":"secret-mismatch","alternatives":[{"id":"db-url-mismatch"}],"tell_apart":"pass api/.env"},
		"steps":[{"step":"api-cookie","status":"fail"}],"login":{"outcomes":{"api-cookie":{"result":"rejected"}}},
		"findings":[{"id":"secret-mismatch"}],"healthy":false}`
	if got, problems, _ := judge("check", good, 1); got != "secret-mismatch" || len(problems) > 0 {
		t.Errorf("good output: got %s, problems %q", got, problems)
	}
	// A step that claims ok for a rejected request, a wrong verdict, a
	// missing alternative: each is a problem.
	bad := `{"verdict":{"id":"api-rejects-session","alternatives":[],"tell_apart":""},
		"steps":[{"step":"api-cookie","status":"ok"}],"login":{"outcomes":{"api-cookie":{"result":"rejected","seen":"200 null"}}}}`
	_, problems, _ := judge("check", bad, 1)
	for _, want := range []string{"verdict: want secret-mismatch, got api-rejects-session", "lack db-url-mismatch", "does not mention", `step api-cookie: status "ok"`, `step api-cookie says ok, but its outcome is "rejected" (200 null)`} {
		if !strings.Contains(strings.Join(problems, "\n"), want) {
			t.Errorf("bad output: no problem %q in %q", want, problems)
		}
	}
	// The old contract: the verdict from diagnosis.cause, no steps (noted,
	// not failed).
	got, problems, notes := judge("check", `{"diagnosis":{"cause":"secret-mismatch","healthy":false}}`, 1)
	if got != "secret-mismatch (old diagnosis)" || len(notes) != 1 || strings.Contains(strings.Join(problems, "\n"), "verdict:") {
		t.Errorf("old output: got %s, problems %q, notes %q", got, problems, notes)
	}
	// login: steps from the event stream, the verdict from the summary.
	stream := `{"step":"api-cookie","phase":"start","status":"running"}
{"step":"api-cookie","phase":"end","status":"ok"}
{"summary":true,"outcomes":{"api-cookie":{"step":"api-cookie","result":"accepted"}},"verdict":{"id":""},"healthy":true}`
	sc.Expect = scenarioExpect{Verdict: healthyVerdict, Steps: map[string]string{"api-cookie": "ok"}}
	if got, problems, _ := judge("login", stream, 0); got != healthyVerdict || len(problems) > 0 {
		t.Errorf("login stream: got %s, problems %q", got, problems)
	}
	if _, problems, _ := judge("login", stream, 1); len(problems) == 0 {
		t.Error("exit 1 passed as healthy")
	}
}
