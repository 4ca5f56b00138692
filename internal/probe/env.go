package probe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/joho/godotenv"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Variables BetterAuth reads, in its own priority order within each group.
var (
	SecretVars  = []string{"BETTER_AUTH_SECRETS", "BETTER_AUTH_SECRET", "AUTH_SECRET"}
	BaseURLVars = []string{"BETTER_AUTH_URL", "NEXT_PUBLIC_BETTER_AUTH_URL", "PUBLIC_BETTER_AUTH_URL",
		"NUXT_PUBLIC_BETTER_AUTH_URL", "NUXT_PUBLIC_AUTH_URL", "BASE_URL"}
	otherVars = append([]string{"BETTER_AUTH_TRUSTED_ORIGINS", "NODE_ENV", "DATABASE_URL"}, append(StoreVars, StoreRESTVars...)...)
	// StoreVars hold the URL of a Redis-protocol session store
	// (secondaryStorage), in the order they are tried.
	StoreVars = []string{"REDIS_URL", "KV_URL", "REDIS_TLS_URL", "UPSTASH_REDIS_URL", "VALKEY_URL"}
	// StoreRESTVars are Upstash's REST-only configuration, which no Redis
	// client speaks.
	StoreRESTVars = []string{"UPSTASH_REDIS_REST_URL", "KV_REST_API_URL"}
)

// ProcessEnvLabel labels the process environment as a source.
const ProcessEnvLabel = "env"

// maxEnvFile caps what we read of one env file: real ones are a few KB, and
// a mistaken path (a log, a dump) must not eat memory.
const maxEnvFile = 1 << 20

// Source is one place configuration comes from: an env file or the process
// environment. Only the variables authtui cares about are kept, so a source
// never carries unrelated secrets around.
type Source struct {
	Label string            // the path exactly as given, or "env"
	Vars  map[string]string // raw values, as BetterAuth would see them
	Err   string            // why the file could not be read; never holds a value
}

// Get returns a variable and whether it is set.
func (s Source) Get(name string) (string, bool) {
	v, ok := s.Vars[name]
	return v, ok
}

// Loaded reports whether the source was read successfully.
func (s Source) Loaded() bool { return s.Err == "" }

// SourceOptions says where to look for configuration.
type SourceOptions struct {
	EnvFiles []string // --env-file, in order; empty means .env and .env.local in Dir
	Dir      string   // working directory for the defaults; "" means "."
	Environ  []string // the process environment (os.Environ()); nil means none
}

// LoadSources reads every source. A file that cannot be read becomes a
// source with Err set plus an env-file-unreadable finding; the others still
// load.
func LoadSources(opts SourceOptions) ([]Source, finding.List) {
	var (
		sources  []Source
		findings finding.List
	)
	files := opts.EnvFiles
	explicit := len(files) > 0
	if !explicit {
		dir := opts.Dir
		if dir == "" {
			dir = "."
		}
		for _, name := range []string{".env", ".env.local"} {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				files = append(files, p)
			}
		}
	}
	for _, path := range files {
		// Relative paths are read from Dir (the command's working
		// directory), while the label stays the path as the user gave it.
		open := path
		if explicit && opts.Dir != "" && !filepath.IsAbs(path) {
			open = filepath.Join(opts.Dir, path)
		}
		src, err := loadEnvFile(open)
		src.Label = path
		if err != nil {
			src = Source{Label: path, Err: err.Error()}
			findings.Add(finding.EnvFileUnreadable, path, "cannot use %s: %s", path, err)
		}
		sources = append(sources, src)
	}
	if env := fromEnviron(opts.Environ); env != nil {
		sources = append(sources, *env)
	}
	return sources, findings
}

func loadEnvFile(path string) (Source, error) {
	data, err := ReadEnvFile(path)
	if err != nil {
		return Source{}, err
	}
	vars, err := ParseEnv(data)
	if err != nil {
		return Source{}, err
	}
	return Source{Label: path, Vars: vars}, nil
}

// CheckEnvFile reports whether path (relative paths from dir, as
// LoadSources reads them) can be read as an env file, with the error
// LoadSources would give. Commands call it for the files named on their
// command line: one that cannot be read is the caller's mistake (exit 2),
// where a default file that cannot be read is a finding.
func CheckEnvFile(path, dir string) error {
	if dir != "" && !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	_, err := ReadEnvFile(path)
	return err
}

// ReadEnvFile reads an env file: a regular file of at most maxEnvFile
// bytes. Anything else fails at once, never blocks: opening a FIFO waits
// for a writer that may never come, and a device may never end. Errors
// name the kind of problem, never the file's contents.
func ReadEnvFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, openError(err)
	}
	if err := regularEnvFile(st); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should the path have been replaced by a FIFO since the
	// Stat, the open still returns at once, and the Stat below refuses it.
	// On a regular file it changes nothing.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, openError(err)
	}
	defer f.Close()
	st, err = f.Stat()
	if err != nil {
		return nil, errors.New("cannot open the file")
	}
	if err := regularEnvFile(st); err != nil {
		return nil, err
	}
	return readCapped(f, maxEnvFile)
}

func openError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied")
	}
	return errors.New("cannot open the file")
}

// regularEnvFile refuses what is not a regular file, by kind, and a file
// over the size cap before reading any of it.
func regularEnvFile(st fs.FileInfo) error {
	m := st.Mode()
	switch {
	case m.IsRegular():
		if st.Size() > maxEnvFile {
			return fmt.Errorf("larger than %d bytes; is this really an env file?", maxEnvFile)
		}
		return nil
	case m.IsDir():
		return errors.New("is a directory, not an env file")
	case m&fs.ModeNamedPipe != 0:
		return errors.New("is a named pipe (FIFO), not a regular file: reading one can block forever; write its contents to a file")
	case m&fs.ModeSocket != 0:
		return errors.New("is a socket, not a regular file")
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return errors.New("is a device, not a regular file")
	}
	return errors.New("is not a regular file")
}

func readCapped(f *os.File, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, errors.New("read failed")
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes; is this really an env file?", limit)
	}
	return data, nil
}

// ParseEnv parses an env file with godotenv, the library most Go and many
// deploy tools share. godotenv's own errors quote the text around the fault,
// which may be a secret, so they are replaced by a line number and a kind.
func ParseEnv(data []byte) (map[string]string, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errors.New("contains NUL bytes; this is not a text env file")
	}
	// Editors on Windows save UTF-8 with a byte order mark. dotenv reads
	// such a file as if it were not there (its leading \s* matches U+FEFF),
	// while godotenv would take it for part of the first name.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	all, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		return nil, describeEnvError(data, err)
	}
	keep := map[string]string{}
	for _, group := range [][]string{SecretVars, BaseURLVars, otherVars} {
		for _, name := range group {
			if v, ok := all[name]; ok {
				keep[name] = v
			}
		}
	}
	return keep, nil
}

// describeEnvError turns a godotenv error into "line N: what" without any of
// the file's text.
func describeEnvError(data []byte, err error) error {
	norm := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unexpected character"):
		// "unexpected character %q in variable name near %q": the quoted
		// "near" text is the rest of the file from the faulty statement.
		if i := strings.LastIndex(msg, " near "); i >= 0 {
			if near, uerr := strconv.Unquote(msg[i+len(" near "):]); uerr == nil && len(near) <= len(norm) {
				return fmt.Errorf("line %d: invalid character in a variable name", lineAt(norm, len(norm)-len(near)))
			}
		}
		return errors.New("invalid character in a variable name")
	case strings.HasPrefix(msg, "unterminated quoted value"):
		frag := strings.TrimPrefix(msg, "unterminated quoted value ")
		if i := bytes.Index(norm, []byte(frag)); frag != "" && i >= 0 {
			return fmt.Errorf("line %d: quoted value is never closed", lineAt(norm, i))
		}
		return errors.New("a quoted value is never closed")
	case strings.HasPrefix(msg, "zero length string"):
		return errors.New("a line has no variable name")
	}
	return errors.New("not a valid env file")
}

func lineAt(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	// The faulty statement starts after leading blanks; count the line of
	// its first visible character.
	for off < len(data) && (data[off] == ' ' || data[off] == '\t' || data[off] == '\n') {
		off++
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func fromEnviron(environ []string) *Source {
	if len(environ) == 0 {
		return nil
	}
	vars := map[string]string{}
	relevant := false
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		for _, group := range [][]string{SecretVars, BaseURLVars, otherVars} {
			for _, want := range group {
				if name == want {
					vars[name] = val
				}
			}
		}
	}
	// NODE_ENV and DATABASE_URL alone are common in any shell; only a
	// variable that configures BetterAuth makes the environment a source.
	for _, group := range [][]string{SecretVars, BaseURLVars, {"BETTER_AUTH_TRUSTED_ORIGINS"}} {
		for _, name := range group {
			if _, ok := vars[name]; ok {
				relevant = true
			}
		}
	}
	if !relevant {
		return nil
	}
	return &Source{Label: ProcessEnvLabel, Vars: vars}
}

// FirstSet returns the first variable of names that src sets to a non-empty
// value.
func (s Source) FirstSet(names []string) (name, value string, ok bool) {
	for _, n := range names {
		if v, ok := s.Vars[n]; ok && v != "" {
			return n, v, true
		}
	}
	return "", "", false
}

// EnvironSource is the process environment as a source, when it sets a
// BetterAuth variable (as LoadSources adds it).
func EnvironSource(environ []string) (Source, bool) {
	if s := fromEnviron(environ); s != nil {
		return *s, true
	}
	return Source{}, false
}
