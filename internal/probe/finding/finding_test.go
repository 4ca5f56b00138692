package finding

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// docs/findings.md is the catalogue users match IDs against: every ID the
// code can raise is documented there with the same severity, and every ID
// documented there exists in the code (a documented ID that nothing raises
// would make a CI rule silently never fire).
func TestCatalogueMatchesDocs(t *testing.T) {
	data, err := os.ReadFile("../../../docs/findings.md")
	if err != nil {
		t.Fatalf("docs/findings.md: %v", err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\| (error|warn|info) \\|").FindAllStringSubmatch(string(data), -1)
	// A change to the table layout must not make this test vacuous; a
	// single missing row is reported by name below.
	if len(rows) < len(Catalogue())/2 {
		t.Fatalf("parsed only %d catalogue rows for %d IDs; is the table format still \"| `id` | severity |\"?", len(rows), len(Catalogue()))
	}
	seen := map[ID]bool{}
	for _, r := range rows {
		id := ID(r[1])
		if seen[id] {
			t.Errorf("%s is documented twice", id)
		}
		seen[id] = true
		if !id.Known() {
			t.Errorf("%s is in docs/findings.md but not in the code", id)
			continue
		}
		if got := id.Severity().String(); got != r[2] {
			t.Errorf("%s: severity %s, docs/findings.md says %s", id, got, r[2])
		}
	}
	for _, id := range Catalogue() {
		if !seen[id] {
			t.Errorf("%s is in the code but not in docs/findings.md", id)
		}
	}
}

func TestListJSONAndExit(t *testing.T) {
	var l List
	b, _ := json.Marshal(l)
	if string(b) != "[]" {
		t.Errorf("nil list marshals to %s", b)
	}
	l.Add(SessionValid, "", "ok")
	if l.HasError() {
		t.Error("info is not an error")
	}
	l.Add(CookieNone, "", "none")
	if !l.HasError() || l.Sorted()[0].ID != CookieNone {
		t.Error("errors sort first and count")
	}
	b, _ = json.Marshal(l[0])
	if string(b) != `{"id":"session-valid","severity":"info","message":"ok","source":""}` {
		t.Errorf("finding JSON %s", b)
	}
}

// Evidence is additive: it appears only when attached, and attaching it to
// a copy leaves the original and its other copies untouched.
func TestEvidence(t *testing.T) {
	base := New(LoginOriginRejected, "sign-in", "rejected")
	a := base.WithEvidence(Evidence{Step: "sign-in", Seen: "403 INVALID_ORIGIN"})
	if len(base.Evidence) != 0 || len(a.Evidence) != 1 {
		t.Fatalf("evidence: base %v a %v", base.Evidence, a.Evidence)
	}
	// A slice with spare capacity is where a plain append would let two
	// copies write into the same array.
	roomy := a
	roomy.Evidence = append(make([]Evidence, 0, 4), a.Evidence...)
	b := roomy.WithEvidence(Evidence{Seen: "Origin https://app.example"})
	c := roomy.WithEvidence(Evidence{Seen: "other"})
	if b.Evidence[1].Seen != "Origin https://app.example" || c.Evidence[1].Seen != "other" || len(roomy.Evidence) != 1 {
		t.Errorf("copies share evidence: b %v c %v", b.Evidence, c.Evidence)
	}
	got, _ := json.Marshal(b)
	want := `{"id":"login-origin-rejected","severity":"error","message":"rejected","source":"sign-in","evidence":[{"step":"sign-in","seen":"403 INVALID_ORIGIN"},{"seen":"Origin https://app.example"}]}`
	if string(got) != want {
		t.Errorf("finding JSON\n got %s\nwant %s", got, want)
	}
	var back Finding
	if err := json.Unmarshal(got, &back); err != nil || len(back.Evidence) != 2 || back.Severity != Error {
		t.Errorf("round trip: %+v %v", back, err)
	}
}
