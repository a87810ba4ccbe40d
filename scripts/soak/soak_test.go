package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSoakShort runs the --short soak (1,000 exchanges, every fault) against
// a freshly built llmtap, as make test does.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: builds llmtap and drives 1,000 exchanges")
	}
	var progress bytes.Buffer
	r, err := run(context.Background(), config{
		Exchanges:   shortExchanges,
		Concurrency: 50,
		Seed:        1,
		Grace:       3 * time.Second,
		Outage:      100 * time.Millisecond,
		Timeout:     3 * time.Minute,
		Race:        raceEnabled, // under go test -race, llmtap is built with it too
	}, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var table bytes.Buffer
	report(&table, r)
	t.Logf("\n%s%s", progress.String(), table.String())
	if !r.OK {
		t.Fatal("the soak found problems (see the table above)")
	}
	// The run must have exercised every fault it claims to.
	for _, f := range []fault{faultAbort, faultCancel, faultSlow, faultStatus, faultGzip, faultHang, faultTailSlow} {
		if r.Faults[string(f)] == 0 {
			t.Errorf("no %s exchange was planned", f)
		}
	}
	if r.Rotations != 1 || r.OutageMS == 0 || r.CutAtTerm == 0 || r.ErrorKinds["upstream_aborted"] == 0 || r.ErrorKinds["client_cancelled"] == 0 {
		t.Errorf("a fault did not happen: rotations %d, outage %v ms, cut at SIGTERM %d, kinds %v",
			r.Rotations, r.OutageMS, r.CutAtTerm, r.ErrorKinds)
	}
}

// TestMakePlans: the mix is deterministic for a seed, every id is unique,
// and the tail is all streams in flight at SIGTERM.
func TestMakePlans(t *testing.T) {
	plans := makePlans(newRand(7), 2000, 50, "t")
	again := makePlans(newRand(7), 2000, 50, "t")
	ids := map[string]bool{}
	for i, p := range plans {
		if ids[p.id] {
			t.Fatalf("duplicate id %s", p.id)
		}
		ids[p.id] = true
		if p.ep.name != again[i].ep.name || p.fault != again[i].fault {
			t.Fatalf("plan %d differs between two draws with one seed", i)
		}
		if i >= 1950 && p.fault != faultHang && p.fault != faultTailSlow {
			t.Errorf("tail plan %d is %s", i, p.fault)
		}
		if (p.fault == faultAbort || p.fault == faultCancel || p.fault == faultSlow) && !p.ep.stream {
			t.Errorf("plan %d: %s on %s, which does not stream", i, p.fault, p.ep.name)
		}
	}
}

// TestVerifyCatches: each kind of damage to the output is counted, so a
// clean soak means something.
func TestVerifyCatches(t *testing.T) {
	sec := newSecrets(newRand(1))
	ep := &endpoints[0] // chat
	plans := []*plan{
		{id: "a", ep: ep, fault: faultNone},  // recorded twice
		{id: "b", ep: ep, fault: faultNone},  // never recorded
		{id: "c", ep: ep, fault: faultNone},  // body differs
		{id: "d", ep: ep, fault: faultAbort}, // cut, recorded as complete
		{id: "e", ep: ep, fault: faultAbort}, // cut, body not a prefix
		{id: "f", ep: ep, fault: faultNone},  // fine, but a secret is in it
	}
	up := &upstream{sent: map[string][]*sentAnswer{
		"a": {{status: 200, body: []byte(`{"x":1}`), finished: true}},
		"c": {{status: 200, body: []byte(`{"x":1}`), finished: true}},
		"d": {{status: 200, body: []byte("data: 1\n\n"), finished: false}},
		"e": {{status: 200, body: []byte("data: 1\n\n"), finished: false}},
		"f": {{status: 200, body: []byte(`{"x":1}`), finished: true}},
	}}
	line := func(id, body, enc, kind string) string {
		s := `{"v":1,"id":"r-` + id + `","request":{"headers":{"x-soak-id":"` + id + `"}},"response":{"status":200,"body":` + body + `,"body_encoding":"` + enc + `"}`
		if kind != "" {
			s += `,"error":{"kind":"` + kind + `","message":"m"}`
		}
		return s + "}\n"
	}
	out := line("a", `{"x":1}`, "json", "") + line("a", `{"x":1}`, "json", "") +
		line("c", `{"x":2}`, "json", "") +
		line("d", `"data: 1\n\n"`, "text", "") +
		line("e", `"data: 2"`, "text", "upstream_aborted") +
		strings.Replace(line("f", `{"x":1}`, "json", ""), `"x-soak-id"`, `"authorization":"Bearer `+sec.bearer+`","x-soak-id"`, 1) +
		"{not json\n" + `{"v":1,"partial":`
	r := &result{RequestsSent: len(plans)}
	verify(r, []outputFile{{path: "out", raw: []byte(out), lines: strings.Count(out, "\n")}}, plans, make([]outcome, len(plans)), up, sec, "", [2]time.Time{})
	for name, got := range map[string][2]int{
		"duplicated":            {r.IDsDuplicated, 1},
		"missing":               {r.IDsMissing, 1},
		"complete body differs": {r.BodyMismatchComplete, 1},
		"cut recorded complete": {r.CutRecordedComplete, 1},
		"cut body not a prefix": {r.BodyNotPrefixCut, 1},
		"secrets":               {r.Secrets, 1},
		"invalid json":          {r.InvalidJSON, 1},
		"partial lines":         {r.PartialLines, 1},
	} {
		if got[0] != got[1] {
			t.Errorf("%s: counted %d, want %d", name, got[0], got[1])
		}
	}
	judge(r, config{Concurrency: 1}, 1)
	if r.OK {
		t.Errorf("a damaged output passed: %+v", r)
	}
}
