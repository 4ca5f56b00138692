package project

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/authtui/authtui/internal/probe/discover"
)

// Render writes the project file `authtui init` proposes for a plan, with
// comments that say what each key does, and the values discovery could
// not know commented out with an example.
func Render(p *Plan) []byte {
	var b bytes.Buffer
	b.WriteString(`# authtui.toml: what authtui cannot discover, or got wrong.
# Written by ` + "`authtui init`" + ` from what it found; edit freely.
# Command-line flags override this file; this file overrides discovery.

[project]
# The environment check, login and the console test against:
# development (what runs locally), preview, production or compose.
environment = ` + q(p.Environment()) + `
# The variable that holds the database URL in the auth service's env files.
# (database_url = "postgres://…" works too, but puts a password in a file
# people commit.)
database_url_env = ` + q(orDefault(p.Settings.DatabaseURLEnv, "DATABASE_URL")) + `
# With secondaryStorage (Redis): the variable holding the store's URL, when
# it is not REDIS_URL, KV_URL, REDIS_TLS_URL, UPSTASH_REDIS_URL or VALKEY_URL.
# redis_url_env = "SESSION_REDIS_URL"
# The front end's origin(s), for the SameSite and trustedOrigins checks.
`)
	if len(p.Settings.Origins) > 0 {
		var os []string
		for _, o := range p.Settings.Origins {
			os = append(os, q(o))
		}
		b.WriteString("origins = [" + strings.Join(os, ", ") + "]\n")
	} else {
		b.WriteString("# origins = [\"http://localhost:5173\"]\n")
	}
	if p.Settings.CookiePrefix != "" {
		b.WriteString("cookie_prefix = " + q(p.Settings.CookiePrefix) + "\n")
	} else {
		b.WriteString("# cookie_prefix = \"better-auth\"   # advanced.cookiePrefix, when changed\n")
	}
	env := p.Environment()
	for _, s := range p.Services {
		if len(s.Envs) == 0 && !s.Declared {
			continue // a library of the monorepo: nothing to compare
		}
		role := RoleAPI
		if s.Role == discover.RoleAuth {
			role = RoleAuth
		}
		fmt.Fprintf(&b, "\n[[services]]\nname = %s\nrole = %s   # auth: runs BetterAuth; api: accepts its sessions\ndir = %s\n", q(s.Name), q(role), q(s.Dir))
		if s.Stack != "" {
			what := string(s.Stack)
			if s.BetterAuth != "" {
				what += ", better-auth " + s.BetterAuth
			}
			fmt.Fprintf(&b, "# found: %s\n", what)
		}
		var files []string
		for _, e := range s.Envs {
			if e.Name == env {
				for _, f := range e.Files {
					rel := strings.TrimPrefix(f, s.Dir+"/")
					if s.Dir == "." {
						rel = f
					}
					files = append(files, q(rel))
				}
			}
		}
		if len(files) > 0 {
			fmt.Fprintf(&b, "# env_files = [%s]   # the winner first; this is what was found for %s\n", strings.Join(files, ", "), env)
		}
		if role == RoleAuth {
			if s.BaseURL != "" {
				fmt.Fprintf(&b, "base_url = %s\n", q(s.BaseURL))
			} else {
				b.WriteString("# base_url = \"http://localhost:3000\"   # default: BETTER_AUTH_URL of its env files\n")
			}
		} else if s.APIURL != "" {
			fmt.Fprintf(&b, "api_url = %s\n", q(s.APIURL))
		} else {
			fmt.Fprintf(&b, "# api_url = \"http://localhost:8000/me\"   # an endpoint of %s that needs a session, to test\n", path.Base(s.Dir))
		}
	}
	return b.Bytes()
}

// q is a TOML basic string: JSON's escapes are TOML's.
func q(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
