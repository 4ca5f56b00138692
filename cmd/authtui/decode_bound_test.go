package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hugePaste writes the Cookie header the browser sent in fixture plain,
// repeated to size bytes, to a file: a clipboard of tens of thousands of
// real cookies.
func hugePaste(tb testing.TB, size int) (path string, cookies int) {
	tb.Helper()
	header := plainCookieHeader(tb)
	var b strings.Builder
	for b.Len() < size {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(header)
		cookies++
	}
	return writePaste(tb, b.String()), cookies
}

// hugeLinesPaste is size bytes of short name=value lines, every name
// different (1.6 million lines in 15 MB): the paste's value is a prefix of
// fixture plain's cookie.
func hugeLinesPaste(tb testing.TB, size int) string {
	tb.Helper()
	_, value, _ := strings.Cut(plainCookieHeader(tb), "=")
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "c%d=%s\n", i, value[:2])
	}
	return writePaste(tb, b.String())
}

func plainCookieHeader(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "plain.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(data, &f); err != nil || f.CookieHeader == "" {
		tb.Fatalf("plain.json: %v", err)
	}
	return f.CookieHeader
}

func writePaste(tb testing.TB, s string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "paste.txt")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// decodeEnv writes the env files of an auth service on the fixture's
// secret and an API on another one.
func decodeEnv(tb testing.TB) []string {
	tb.Helper()
	dir := tb.TempDir()
	var args []string
	for name, secret := range map[string]string{"auth.env": fixtureSecrets[0], "api.env": fixtureSecrets[2]} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("BETTER_AUTH_SECRET="+secret+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
		args = append(args, "--env-file", p)
	}
	return args
}

// A 15 MB paste printed 53 MB of text and 120 MB of JSON (one entry and
// one finding per cookie). Both now list 200 cookies and say how many
// there were.
func TestDecodeHugePasteOutputBounded(t *testing.T) {
	path, n := hugePaste(t, 15<<20)
	env := decodeEnv(t)

	r := run(t, "", append(append([]string{"decode", "--json"}, env...), "@"+path)...)
	if r.code != exitFound {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(r.stdout) > 1<<20 {
		t.Errorf("--json wrote %d bytes for a 15 MB paste", len(r.stdout))
	}
	var out struct {
		Cookies         []json.RawMessage `json:"cookies"`
		Found           int               `json:"cookies_found"`
		Omitted         int               `json:"cookies_omitted"`
		Findings        []json.RawMessage `json:"findings"`
		FindingsOmitted int               `json:"findings_omitted"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v", err)
	}
	if len(out.Cookies) != 200 || out.Found != n || out.Omitted != n-200 || len(out.Findings) > 20 || out.FindingsOmitted == 0 {
		t.Errorf("--json lists %d cookies (found %d, omitted %d; want 200 of %d) and %d findings (%d omitted)",
			len(out.Cookies), out.Found, out.Omitted, n, len(out.Findings), out.FindingsOmitted)
	}

	r = run(t, "", append(append([]string{"decode"}, env...), "@"+path)...)
	if len(r.stdout) > 1<<20 {
		t.Errorf("the text output is %d bytes for a 15 MB paste", len(r.stdout))
	}
	if want := fmt.Sprintf("%s cookies, showing 200", thousands(n)); !strings.Contains(r.stdout, want) {
		t.Errorf("the text output does not say %q:\n%.2000s", want, r.stdout)
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// decode --json printed a curl command's URL as pasted (user:password,
// ?token=), and with a quote never closed the rest of the paste, signed
// cookie included, while the text said the input was empty.
func TestDecodeCurlCredentialsNotPrinted(t *testing.T) {
	f := loadFixtures(t)["plain"]
	env := decodeEnv(t)
	_, value, _ := strings.Cut(f.CookieHeader, "=")
	const password, query = "hunter2-Tr0ub4dor", "qTok3nQWxhZGRpbjpvcGVu"
	for _, tc := range []struct {
		name, paste string
		secrets     []string
		wantText    []string
	}{
		{"userinfo and query", "curl 'https://demo:" + password + "@auth.example.com/api/auth/get-session?token=" + query + "' -H 'cookie: " + f.CookieHeader + "'",
			[]string{password, query}, []string{"valid, verified by"}},
		{"unterminated quote", `curl "https://auth.example.com/api/auth/get-session -H 'cookie: ` + f.CookieHeader + `' --compressed`,
			[]string{value[:24], value[len(value)-24:]}, []string{"input-unparsable", "unterminated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"--json", "--no-color"} {
				r := run(t, "", append(append([]string{"decode", format}, env...), tc.paste)...)
				if r.code != exitFound {
					t.Errorf("%s: exit %d: %s", format, r.code, r.stderr)
				}
				for _, s := range tc.secrets {
					if strings.Contains(r.stdout+r.stderr, s) {
						t.Errorf("%s prints %q:\n%s", format, s, r.stdout)
					}
				}
				if strings.Contains(r.stdout, "the input is empty") {
					t.Errorf("%s says the input is empty:\n%s", format, r.stdout)
				}
				if format == "--json" {
					continue
				}
				for _, want := range tc.wantText {
					if !strings.Contains(r.stdout, want) {
						t.Errorf("the text lacks %q:\n%s", want, r.stdout)
					}
				}
			}
		})
	}
}

// rssHelperEnv carries the arguments of a decode that decodeRSS runs in a
// child process, alone, so that its peak RSS is decode's own.
const rssHelperEnv = "AUTHTUI_TEST_DECODE_RSS_ARGS"

// TestDecodeRSSHelper is not a test of its own: decodeRSS runs it in a
// child process. It runs the decode and prints the process's peak RSS.
func TestDecodeRSSHelper(t *testing.T) {
	spec := os.Getenv(rssHelperEnv)
	if spec == "" {
		t.Skip("run by decodeRSS in a process of its own")
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		t.Fatal(err)
	}
	a := &app{
		stdin: os.Stdin, stdout: io.Discard, stderr: io.Discard, environ: nil, dir: t.TempDir(),
		getenv: func(string) string { return "" },
	}
	code := a.main(args)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Printf("DECODE-EXIT %d\nDECODE-%s\n", code, line)
		}
	}
}

// decodeRSS runs `authtui args…` (stdin piped from stdinFile, if any) in
// a child process and returns its peak resident set size in KiB.
func decodeRSS(tb testing.TB, stdinFile string, args ...string) int {
	tb.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		testSkip(tb, "peak RSS is read from /proc/self/status (Linux only)")
	}
	spec, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDecodeRSSHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), rssHelperEnv+"="+string(spec))
	if stdinFile != "" {
		f, err := os.Open(stdinFile)
		if err != nil {
			tb.Fatal(err)
		}
		defer f.Close()
		// Through a pipe, as `pbpaste | authtui decode -` reads it: the
		// size is not known up front.
		cmd.Stdin = struct{ io.Reader }{f}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("helper: %v\n%s", err, out)
	}
	kb, exit := -1, -1
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 3 && fields[0] == "DECODE-VmHWM:":
			kb, _ = strconv.Atoi(fields[1])
		case len(fields) == 2 && fields[0] == "DECODE-EXIT":
			exit, _ = strconv.Atoi(fields[1])
		}
	}
	if kb < 0 || exit != exitFound {
		tb.Fatalf("helper: peak RSS %d KiB, decode exit %d:\n%s", kb, exit, out)
	}
	return kb
}

func testSkip(tb testing.TB, why string) {
	tb.Helper()
	tb.Skip(why)
}

// Decoding a 15 MB paste peaked at 281 MB (text) and 751 MB (--json):
// the input was copied, every cookie kept with its findings, and 120 MB
// of JSON built. It now stays below 100 MB, from a file and from stdin.
// Not a timing: the peak is a property of what decode holds.
func TestDecodeHugePasteMemory(t *testing.T) {
	path, _ := hugePaste(t, 15<<20)
	lines := hugeLinesPaste(t, 15<<20)
	env := decodeEnv(t)
	for _, tc := range []struct {
		name, stdin string
		args        []string
	}{
		{"text from @file", "", append(append([]string{"decode"}, env...), "@"+path)},
		{"--json from @file", "", append(append([]string{"decode", "--json"}, env...), "@"+path)},
		{"--json from a pipe", path, append(append([]string{"decode", "--json"}, env...), "-")},
		// 174 MB when the lines were split into a slice and every name
		// counted.
		{"--json, 1.6 million lines", "", append(append([]string{"decode", "--json"}, env...), "@"+lines)},
	} {
		kb := decodeRSS(t, tc.stdin, tc.args...)
		t.Logf("%s: peak RSS %.1f MB", tc.name, float64(kb)/1024)
		if kb > 100<<10 {
			t.Errorf("%s: peak RSS %.1f MB, want under 100 MB", tc.name, float64(kb)/1024)
		}
	}
}

// BenchmarkDecodeHugePasteRSS reports decode's peak RSS for a 15 MB paste
// (the goal: under 100 MB).
//
//	go test ./cmd/authtui -run '^$' -bench DecodeHugePasteRSS -benchtime 1x
func BenchmarkDecodeHugePasteRSS(b *testing.B) {
	path, _ := hugePaste(b, 15<<20)
	env := decodeEnv(b)
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			args := append([]string{"decode"}, env...)
			if format == "json" {
				args = append(args, "--json")
			}
			args = append(args, "@"+path)
			kb := 0
			for b.Loop() {
				kb = max(kb, decodeRSS(b, "", args...))
			}
			b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
		})
	}
}
