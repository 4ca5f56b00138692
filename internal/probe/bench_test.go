package probe

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Run with: go test ./internal/probe -run '^$' -bench . -benchmem

// benchCandidates are the three candidates of the DecodeCache benchmarks.
func benchCandidates() []Candidate {
	return []Candidate{
		NewCandidate("fixture-a", "BETTER_AUTH_SECRET", secretA),
		NewCandidate("fixture-c", "BETTER_AUTH_SECRET", secretC),
		NewCandidate(DefaultLabel, DefaultLabel, DefaultSecret),
	}
}

// cookieValue returns the raw value of the named cookie in a captured
// Cookie header.
func cookieValue(tb testing.TB, f fixture, name string) string {
	tb.Helper()
	names, values := cookiePairs(f.CookieHeader)
	for i, n := range names {
		if n == name {
			return values[i]
		}
	}
	tb.Fatalf("fixture %s: no cookie %s in %q", f.Case, name, f.CookieHeader)
	return ""
}

// chunkedCacheValue joins the session_data.N chunks of a captured Cookie
// header in index order.
func chunkedCacheValue(tb testing.TB, f fixture) string {
	tb.Helper()
	type chunk struct {
		idx   int
		value string
	}
	var chunks []chunk
	names, values := cookiePairs(f.CookieHeader)
	for i, n := range names {
		if p, ok := splitName(n); ok && p.Base == "session_data" && p.Chunk >= 0 {
			chunks = append(chunks, chunk{p.Chunk, values[i]})
		}
	}
	sort.Slice(chunks, func(i, j int) bool { return chunks[i].idx < chunks[j].idx })
	var b strings.Builder
	for i, c := range chunks {
		if c.idx != i {
			tb.Fatalf("fixture %s: chunk %d missing", f.Case, i)
		}
		b.WriteString(c.value)
	}
	if len(chunks) < 2 {
		tb.Fatalf("fixture %s: %d chunks, want several", f.Case, len(chunks))
	}
	return b.String()
}

func BenchmarkVerifySigned10Candidates(b *testing.B) {
	f := loadFixture(b, "plain")
	sv := ParseSigned(cookieValue(b, f, "better-auth.session_token"))
	if sv.Problem != "" {
		b.Fatalf("session_token: %s", sv.Problem)
	}
	var cands []Candidate
	for i := range 9 {
		cands = append(cands, NewCandidate(fmt.Sprintf("wrong-%d", i), "BETTER_AUTH_SECRET",
			fmt.Sprintf("authtui-bench-wrong-secret-%d-0123456789abcdef", i)))
	}
	cands = append(cands, NewCandidate("fixture-a", "BETTER_AUTH_SECRET", secretA))
	if m := VerifySigned(sv, cands); len(m) != 1 || m[0].Label != "fixture-a" {
		b.Fatalf("matches %v, want fixture-a alone", m)
	}
	b.ReportAllocs()
	for b.Loop() {
		VerifySigned(sv, cands)
	}
}

func BenchmarkDecodeCache(b *testing.B) {
	cases := []struct {
		name, fixture, strategy string
		chunked                 bool
	}{
		{"compact", "cache-compact", StrategyCompact, false},
		{"jwt", "cache-jwt", StrategyJWT, false},
		{"jwe", "cache-jwe", StrategyJWE, false},
		{"chunked", "cache-chunked", StrategyCompact, true},
	}
	cands := benchCandidates()
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			f := loadFixture(b, tc.fixture)
			raw := ""
			if tc.chunked {
				raw = chunkedCacheValue(b, f)
			} else {
				raw = cookieValue(b, f, "better-auth.session_data")
			}
			value, _ := DecodeCookieValue(raw)
			now := captureTime(b, f)
			rep := DecodeCache(value, cands, now)
			if rep.Strategy != tc.strategy || !rep.Readable || rep.Expired ||
				len(rep.Matches) != 1 || rep.Matches[0].Label != "fixture-a" {
				b.Fatalf("setup: strategy %s readable %v expired %v matches %v problem %q; want %s verified by fixture-a alone",
					rep.Strategy, rep.Readable, rep.Expired, rep.Matches, rep.Problem, tc.strategy)
			}
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for b.Loop() {
				DecodeCache(value, cands, now)
			}
		})
	}
}

const hugePasteSize = 5 << 20

// hugeTokenPaste is a session_token cookie with a 5 MB value.
func hugeTokenPaste() string {
	return "better-auth.session_token=" + strings.Repeat("A", hugePasteSize)
}

// hugeGarbagePaste is 5 MB of printable ASCII from a fixed seed.
func hugeGarbagePaste() string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, hugePasteSize)
	for i := range b {
		b[i] = byte(' ' + r.IntN('~'-' '+1))
	}
	return string(b)
}

func hugePasteOptions() DecodeOptions {
	return DecodeOptions{Candidates: benchCandidates(), Now: fuzzNow}
}

func findingIDs(fs finding.List) map[finding.ID]int {
	ids := map[finding.ID]int{}
	for _, f := range fs {
		ids[f.ID]++
	}
	return ids
}

func BenchmarkDecodePaste5MB(b *testing.B) {
	cookies, _ := repeatedHeader(b, hugePasteSize)
	for _, tc := range []struct {
		name  string
		paste string
	}{
		{"token", hugeTokenPaste()},
		{"garbage", hugeGarbagePaste()},
		// 48,100 real cookies (fixture plain's header, repeated).
		{"cookies", cookies},
	} {
		b.Run(tc.name, func(b *testing.B) {
			opts := hugePasteOptions()
			b.SetBytes(int64(len(tc.paste)))
			b.ReportAllocs()
			for b.Loop() {
				Decode(tc.paste, opts)
			}
		})
	}
}

// TestDecodeHugePaste checks that a paste far larger than any cookie is
// diagnosed plainly rather than choked on. No timing is asserted: the
// benchmark above measures it.
func TestDecodeHugePaste(t *testing.T) {
	t.Run("token", func(t *testing.T) {
		rep := Decode(hugeTokenPaste(), hugePasteOptions())
		ids := findingIDs(rep.Findings)
		for _, want := range []finding.ID{finding.CookieTooLarge, finding.CookieMalformed} {
			if ids[want] != 1 {
				t.Errorf("finding %s ×%d, want once; findings: %v", want, ids[want], ids)
			}
		}
		if ids[finding.CookieNone] != 0 {
			t.Errorf("cookie-none for a session_token cookie; findings: %v", ids)
		}
		if len(rep.Cookies) != 1 || rep.Cookies[0].Kind != KindSessionToken || rep.Cookies[0].Signature != "malformed" {
			t.Fatalf("cookies %+v, want one malformed session_token", rep.Cookies)
		}
		if c := rep.Cookies[0]; c.Size != len("better-auth.session_token")+hugePasteSize {
			t.Errorf("size %d", c.Size)
		}
		for _, f := range rep.Findings {
			if len(f.Message) > 1024 {
				t.Errorf("finding %s echoes the paste: %d-byte message", f.ID, len(f.Message))
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		rep := Decode(hugeGarbagePaste(), hugePasteOptions())
		ids := findingIDs(rep.Findings)
		if ids[finding.CookieNone] != 1 {
			t.Fatalf("cookie-none ×%d, want once; findings: %v", ids[finding.CookieNone], ids)
		}
		for _, c := range rep.Cookies {
			switch c.Kind {
			case KindSessionToken, KindSessionData, KindDontRemember, KindBearer:
				t.Errorf("garbage taken for a %s cookie %q", c.Kind, c.Name)
			}
		}
		for _, f := range rep.Findings {
			if len(f.Message) > 1024 {
				t.Errorf("finding %s echoes the paste: %d-byte message", f.ID, len(f.Message))
			}
		}
	})
}
