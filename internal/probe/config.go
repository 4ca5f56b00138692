package probe

import (
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds each network step unless --timeout says otherwise.
const DefaultTimeout = 10 * time.Second

// Setting is one resolved value and where it came from, so every output
// can say "from --base-url" or "BETTER_AUTH_URL in auth/.env" truthfully.
type Setting struct {
	Value string `json:"value,omitempty"`
	From  string `json:"from,omitempty"` // "--base-url", "BETTER_AUTH_URL in auth/.env", "DATABASE_URL in the environment"
}

// Set reports whether the setting has a value.
func (s Setting) Set() bool { return s.Value != "" }

// FromFlag reports whether the user typed the value on the command line.
func (s Setting) FromFlag() bool { return strings.HasPrefix(s.From, "--") }

// Flags are the command-line values that override what the env sources say.
type Flags struct {
	BaseURL     string
	Origin      string
	APIURL      string
	DatabaseURL string
	StoreURL    string // --redis-url
	Timeout     time.Duration
	// Declared are the values a project file (authtui.toml) declares:
	// below the flags, above the env sources.
	Declared Declared
}

// Declared is what a project file says; File labels where ("authtui.toml").
type Declared struct {
	File        string
	BaseURL     string
	Origin      string
	APIURL      string
	DatabaseURL string
	// DatabaseURLVar names the variable that holds the database URL in
	// the env sources, when it is not DATABASE_URL.
	DatabaseURLVar string
	// StoreURLVar names the variable that holds the session store's URL,
	// when it is none of StoreVars.
	StoreURLVar string
}

func (d Declared) setting(v, key string) Setting {
	if v = strings.TrimSpace(v); v == "" {
		return Setting{}
	}
	return Setting{Value: v, From: key + " in " + d.File}
}

// Config is the one resolved configuration every command, the check
// pipeline and the console work from. It is resolved once, here, so that
// no two places can disagree about the base URL or the database.
type Config struct {
	Sources     []Source `json:"-"`
	BaseURL     Setting  `json:"base_url"`
	Origin      Setting  `json:"origin"`
	APIURL      Setting  `json:"api_url"`
	DatabaseURL Setting  `json:"-"` // may hold a password: shown through its label only
	// StoreURL is the session store (secondaryStorage: Redis, Valkey,
	// Upstash's Redis protocol), when one is configured; may hold a
	// password like DatabaseURL.
	StoreURL Setting `json:"-"`
	// StoreREST names a REST-only store configuration that was found
	// (Upstash's UPSTASH_REDIS_REST_URL), which cannot be read.
	StoreREST string `json:"store_rest,omitempty"`
	Timeout   time.Duration
}

// Resolve works out the configuration from the flags, the env sources (in
// the order given) and the process environment. getenv may be nil.
func Resolve(f Flags, sources []Source, getenv func(string) string) Config {
	c := Config{Sources: sources, Timeout: f.Timeout}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	d := f.Declared
	c.BaseURL = pick(f.BaseURL, "--base-url", sources, BaseURLVars)
	if b := d.setting(d.BaseURL, "base_url"); b.Set() && !c.BaseURL.FromFlag() {
		c.BaseURL = b
	}
	c.APIURL = Setting{Value: strings.TrimSpace(f.APIURL)}
	if c.APIURL.Set() {
		c.APIURL.From = "--api-url"
	} else {
		c.APIURL = d.setting(d.APIURL, "api_url")
	}
	dbVars := []string{"DATABASE_URL"}
	if v := strings.TrimSpace(d.DatabaseURLVar); v != "" {
		dbVars = []string{v}
	}
	c.DatabaseURL = pick(f.DatabaseURL, "--database-url", sources, dbVars)
	if !c.DatabaseURL.FromFlag() && d.DatabaseURL != "" {
		c.DatabaseURL = d.setting(d.DatabaseURL, "database_url")
	}
	if !c.DatabaseURL.Set() {
		if v := strings.TrimSpace(getenv("DATABASE_URL")); v != "" {
			c.DatabaseURL = Setting{Value: v, From: "DATABASE_URL in the environment"}
		}
	}
	storeVars := StoreVars
	if v := strings.TrimSpace(d.StoreURLVar); v != "" {
		storeVars = []string{v}
	}
	c.StoreURL = pick(f.StoreURL, "--redis-url", sources, storeVars)
	if !c.StoreURL.Set() {
		for _, name := range StoreVars {
			if v := strings.TrimSpace(getenv(name)); v != "" {
				c.StoreURL = Setting{Value: v, From: name + " in the environment"}
				break
			}
		}
	}
	if !c.StoreURL.Set() {
		if r := pick("", "", sources, StoreRESTVars); r.Set() {
			c.StoreREST = r.From
		}
	}
	switch {
	case strings.TrimSpace(f.Origin) != "":
		c.Origin = Setting{Value: strings.TrimRight(strings.TrimSpace(f.Origin), "/"), From: "--origin"}
	case d.Origin != "":
		c.Origin = d.setting(strings.TrimRight(d.Origin, "/"), "origins")
	case c.BaseURL.Set():
		if u, err := url.Parse(c.BaseURL.Value); err == nil && u.Host != "" {
			c.Origin = Setting{Value: u.Scheme + "://" + u.Host, From: "the base URL's origin"}
		}
	}
	return c
}

// pick returns the flag when set, else the first source that sets one of
// names (in that source's priority order).
func pick(flag, flagName string, sources []Source, names []string) Setting {
	if v := strings.TrimSpace(flag); v != "" {
		return Setting{Value: v, From: flagName}
	}
	for _, s := range sources {
		if !s.Loaded() {
			continue
		}
		if name, v, ok := s.FirstSet(names); ok && strings.TrimSpace(v) != "" {
			where := name + " in " + s.Label
			if s.Label == ProcessEnvLabel {
				where = name + " in the environment"
			}
			return Setting{Value: strings.TrimSpace(v), From: where}
		}
	}
	return Setting{}
}

// CrossSite reports whether the front-end origin is on another site than
// the base URL (another registrable domain or scheme): the case where
// SameSite=Lax cookies are not sent on the front end's fetches.
func (c Config) CrossSite() bool {
	if !c.Origin.Set() || !c.BaseURL.Set() {
		return false
	}
	o, err1 := url.Parse(c.Origin.Value)
	b, err2 := url.Parse(c.BaseURL.Value)
	if err1 != nil || err2 != nil || o.Host == "" || b.Host == "" {
		return false
	}
	cross, _ := crossSite(o, b)
	return cross
}
