package record

import (
	"testing"
	"time"
)

// timeTests are times as records hold them, and the odd ones a hand-made
// record may hold; parseTime must read each as time.Parse does.
var timeTests = []string{
	"2026-01-01T00:00:00.000000Z",
	"2026-12-05T23:59:59.999999Z",
	"2024-02-29T12:30:45.123456Z", // a leap day
	"2000-02-29T00:00:00.000001Z", // divisible by 400: a leap year
	"1900-02-29T00:00:00.000000Z", // divisible by 100: no leap day
	"2023-02-29T00:00:00.000000Z",
	"2026-04-31T00:00:00.000000Z",
	"2026-13-01T00:00:00.000000Z",
	"2026-00-01T00:00:00.000000Z",
	"2026-01-00T00:00:00.000000Z",
	"2026-01-01T24:00:00.000000Z",
	"2026-01-01T23:60:00.000000Z",
	"2026-01-01T23:59:60.000000Z",
	"0000-01-01T00:00:00.000000Z",
	"2026-01-01T00:00:00Z",             // other layouts go to time.Parse
	"2026-01-01T00:00:00.123456789Z",   // nanoseconds
	"2026-01-01T01:00:00.000000+01:00", // an offset
	"2026-01-01t00:00:00.000000z",      // lower case
	"2026-01-01T00:00:00.00000aZ",      // not a digit
	"2026-01-01 00:00:00.000000Z",      // no T
	"２026-01-01T00:00:00.000000Z",      // a wide digit
	"",
	"garbage",
}

func TestParseTime(t *testing.T) {
	for _, s := range timeTests {
		t.Run(s, func(t *testing.T) {
			checkParseTime(t, s)
		})
	}
}

// TestParseTimeFastPath: the layout llmtap writes is read without
// time.Parse, and without an allocation.
func TestParseTimeFastPath(t *testing.T) {
	b := []byte("2026-12-05T00:28:07.123456Z")
	want := time.Date(2026, 12, 5, 0, 28, 7, 123456000, time.UTC)
	if got, ok := parseRecordTime(b); !ok || got != want {
		t.Fatalf("parseRecordTime = %v, %v; want %v, true", got, ok, want)
	}
	if got := time.Now().UTC().AppendFormat(nil, TimeFormat); len(got) != len(b) {
		t.Fatalf("TimeFormat writes %q, not the layout parseRecordTime reads", got)
	}
	if n := testing.AllocsPerRun(100, func() { parseTime(b) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func checkParseTime(t *testing.T, s string) {
	t.Helper()
	want, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		want = time.Time{}
	}
	got := parseTime([]byte(s))
	// time.Parse makes a new zone for each offset it reads, so zones are
	// compared by name and offset.
	gname, goff := got.Zone()
	wname, woff := want.Zone()
	if !got.Equal(want) || got.IsZero() != want.IsZero() || gname != wname || goff != woff ||
		(want.Location() == time.UTC) != (got.Location() == time.UTC) {
		t.Fatalf("parseTime(%q) = %v, time.Parse gives %v", s, got, want)
	}
}

// FuzzParseTime checks that parseTime reads every input as time.Parse with
// RFC3339Nano does (the zero time where that fails).
func FuzzParseTime(f *testing.F) {
	for _, s := range timeTests {
		f.Add(s)
	}
	f.Fuzz(checkParseTime)
}
