package finding

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// Every ID in the shared catalogue is known here with its severity, and
// nothing here is missing from the catalogue.
func TestCatalogueMatchesSharedFindings(t *testing.T) {
	data, err := os.ReadFile("../../../../shared/FINDINGS.md")
	if err != nil {
		t.Skipf("shared/FINDINGS.md not beside the repository: %v", err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\| (error|warn|info) \\|").FindAllStringSubmatch(string(data), -1)
	if len(rows) < 50 {
		t.Fatalf("parsed only %d catalogue rows", len(rows))
	}
	seen := map[ID]bool{}
	for _, r := range rows {
		id := ID(r[1])
		seen[id] = true
		if !id.Known() {
			t.Errorf("%s is in FINDINGS.md but not in the code", id)
			continue
		}
		if got := id.Severity().String(); got != r[2] {
			t.Errorf("%s: severity %s, catalogue says %s", id, got, r[2])
		}
	}
	for _, id := range Catalogue() {
		if !seen[id] {
			t.Errorf("%s is in the code but not in FINDINGS.md", id)
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
