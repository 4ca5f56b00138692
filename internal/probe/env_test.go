package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/probe/finding"
)

// A file saved with a UTF-8 byte order mark (Notepad, some Windows
// editors) reads as dotenv reads it: as if the mark were not there.
func TestEnvFileWithBOM(t *testing.T) {
	dir := t.TempDir()
	body := "BETTER_AUTH_SECRET=" + secretA + "\nBETTER_AUTH_URL=http://localhost:3000\n"
	plain := writeEnv(t, dir, "plain.env", body)
	bom := writeEnv(t, dir, "bom.env", "\ufeff"+body)
	sources, fs := LoadSources(SourceOptions{EnvFiles: []string{plain, bom}})
	if len(fs) != 0 {
		t.Fatalf("a BOM made the file unreadable: %v", fs)
	}
	if len(sources) != 2 || !sources[1].Loaded() || sources[1].Vars["BETTER_AUTH_SECRET"] != secretA ||
		sources[1].Vars["BETTER_AUTH_URL"] != sources[0].Vars["BETTER_AUTH_URL"] {
		t.Fatalf("the BOM file reads differently: %q vs %q", keys(sources[1].Vars), keys(sources[0].Vars))
	}
	// Only a leading mark is one; anywhere else it stays what it is.
	mid := writeEnv(t, dir, "mid.env", "A=1\n\ufeffBETTER_AUTH_SECRET="+secretA+"\n")
	if _, fs := LoadSources(SourceOptions{EnvFiles: []string{mid}}); !fs.Has(finding.EnvFileUnreadable) {
		t.Errorf("a BOM inside the file was accepted as a name character: %v", fs)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// What is not a regular file fails at once, by kind; the size cap holds.
func TestEnvFileKinds(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.env")
	if err := os.WriteFile(big, []byte("A="+strings.Repeat("x", maxEnvFile)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	link := filepath.Join(dir, "link.env")
	target := writeEnv(t, dir, "target.env", "BETTER_AUTH_SECRET="+secretA+"\n")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{big, "larger than 1048576 bytes"},
		{sub, "is a directory"},
		{filepath.Join(dir, "missing.env"), "no such file"},
		{os.DevNull, "is a device"},
	} {
		err := CheckEnvFile(tc.path, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
	// A symlink to a regular file is a regular file.
	if err := CheckEnvFile("link.env", dir); err != nil {
		t.Errorf("symlink, relative to dir: %v", err)
	}
}
