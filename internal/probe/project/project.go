// Package project reads and writes authtui.toml, the project file that
// declares what discovery cannot know or got wrong (services, their roles
// and env files, base and API URLs, the database, the front end's
// origins), and merges it with what package discover found: flags
// override the file, the file overrides discovery.
package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// FileName is the project file's name at the project's root.
const FileName = "authtui.toml"

// File is authtui.toml.
type File struct {
	Project  Settings  `toml:"project"`
	Services []Service `toml:"services"`
}

// Settings apply to the whole project.
type Settings struct {
	// Environment is the one check, login and the console test against
	// (local, development, preview, production); default: the first of
	// local, development that a service has.
	Environment string `toml:"environment,omitempty"`
	// DatabaseURLEnv names the variable holding the database URL in the
	// auth service's env files (default DATABASE_URL). Prefer it to
	// DatabaseURL, which puts a password into a file people commit.
	DatabaseURLEnv string `toml:"database_url_env,omitempty"`
	// RedisURLEnv names the variable holding the session store's URL
	// (BetterAuth's secondaryStorage), when it is not REDIS_URL, KV_URL…
	RedisURLEnv  string   `toml:"redis_url_env,omitempty"`
	DatabaseURL  string   `toml:"database_url,omitempty"`
	Origins      []string `toml:"origins,omitempty"`
	CookiePrefix string   `toml:"cookie_prefix,omitempty"`
}

// Service is one declared service.
type Service struct {
	Name string `toml:"name"`
	Role string `toml:"role"` // "auth" or "api"
	Dir  string `toml:"dir"`  // relative to the project root
	// EnvFiles, relative to Dir, the winning one first; when set they
	// replace the discovered files for Project.Environment.
	EnvFiles []string `toml:"env_files,omitempty"`
	BaseURL  string   `toml:"base_url,omitempty"`
	APIURL   string   `toml:"api_url,omitempty"` // an endpoint that needs a session, to test
	// JWTAudience is the aud this API expects in the jwt() plugin's
	// tokens, when it checks one (default: the base URL, as the plugin sets).
	JWTAudience string `toml:"jwt_audience,omitempty"`
}

// Roles a service may declare.
const (
	RoleAuth = "auth"
	RoleAPI  = "api"
)

// Find looks for authtui.toml in dir and each parent up to the
// filesystem root, as git looks for .git.
func Find(dir string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(abs, FileName)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", false
		}
		abs = parent
	}
}

// maxFile caps what Load reads: a real file is a few hundred bytes.
const maxFile = 1 << 20

// Load reads and checks a project file. Errors name the file, line and
// column, and never quote a value (a database URL may hold a password).
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readCapped(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out File
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, describe(path, err)
	}
	if err := out.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &out, nil
}

func readCapped(f *os.File) ([]byte, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(&limited{f, maxFile + 1})
	if err != nil {
		return nil, err
	}
	if n > maxFile {
		return nil, fmt.Errorf("larger than %d KiB: not a project file", maxFile>>10)
	}
	return b.Bytes(), nil
}

type limited struct {
	f *os.File
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// describe turns a go-toml error into "file:line:col: what" without the
// offending text.
func describe(path string, err error) error {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) && len(sm.Errors) > 0 {
		var parts []string
		for _, e := range sm.Errors {
			row, col := e.Position()
			parts = append(parts, fmt.Sprintf("%s:%d:%d: unknown key %s", path, row, col, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(parts, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Errorf("%s:%d:%d: %s", path, row, col, de.Error())
	}
	return fmt.Errorf("%s: %v", path, err)
}

func (f *File) validate() error {
	names := map[string]bool{}
	for i, s := range f.Services {
		where := fmt.Sprintf("services[%d]", i)
		if s.Name == "" {
			return fmt.Errorf("%s: name is required", where)
		}
		if names[s.Name] {
			return fmt.Errorf("%s: the name %q is used twice", where, s.Name)
		}
		names[s.Name] = true
		switch s.Role {
		case RoleAuth, RoleAPI:
		default:
			return fmt.Errorf("%s (%s): role must be %q or %q", where, s.Name, RoleAuth, RoleAPI)
		}
		if s.Dir == "" {
			return fmt.Errorf("%s (%s): dir is required (\".\" for the root)", where, s.Name)
		}
		if filepath.IsAbs(s.Dir) || strings.HasPrefix(filepath.Clean(s.Dir), "..") {
			return fmt.Errorf("%s (%s): dir must be inside the project", where, s.Name)
		}
	}
	switch f.Project.Environment {
	case "local":
		f.Project.Environment = "development" // what runs on a developer's machine
	case "", "development", "preview", "production", "compose":
	default:
		return fmt.Errorf("project.environment must be development (or local), preview, production or compose")
	}
	return nil
}
