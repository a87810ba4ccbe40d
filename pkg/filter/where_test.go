package filter

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// whereDoc is the JSON the --where semantics are tested on.
const whereDoc = `{"v":1,"n":5,"f":0.5,"neg":-2,"big":1e3,"s":"abc","num":"629","date":"2026-01-02T03:04:05Z",
"t":true,"no":false,"nil":null,"arr":[1,2,3],"objs":[{"k":"a"},{"k":"b"}],"o":{"x":{"y":"deep"},"a.b":"dotted","0":"zero","*":"star"},
"empty":[],"esc":"caf\u00e9","h":{"x-request-id":"abc","content-length":"1000"}}`

// whereCases are --where expressions and whether they hold on whereDoc.
var whereCases = []struct {
	expr string
	want bool
}{
	{"n=5", true},
	{"n==5", true},
	{"n=5.0", true},
	{"n=6", false},
	{"n!=6", true},
	{"n>4", true},
	{"n>=5", true},
	{"n<5", false},
	{"n<=5", true},
	{"f>0.25", true},
	{"neg<-1", true},
	{"big=1000", true},
	{"n=abc", false},
	{`n="5"`, false}, // a quoted value is a string; n is a number
	{"n~^5$", true},
	{"s=abc", true},
	{`s="abc"`, true},
	{"s!=abc", false},
	{"s>abb", true},
	{"s<abd", true},
	{"s~^a.c$", true},
	{"s!~^a", false},
	{"s=5", false},
	{"num=629", true},    // a string that reads as a number
	{"num>=1000", false}, // compares as a number, not as the string "629" >= "1000"
	{"num>100", true},
	{`num="629"`, true},
	{"date>=2026-01-02", true},
	{"date<2026-01-02", false},
	{"t=true", true},
	{"t!=false", true},
	{"t=false", false},
	{`t="true"`, false},
	{"t~true", true},
	{"no=false", true},
	{"nil=null", true},
	{"nil!=null", false},
	{"missing=null", true},
	{"missing!=null", false},
	{"missing.deeper.still=null", true},
	{"s.under.a.string=null", true},
	{"missing=1", false},
	{"missing!=1", true},
	{"missing~.", false},
	{"missing!~.", true},
	{"missing>0", false},
	{"nil~null", false},
	{"arr.0=1", true},
	{"arr[0]=1", true},
	{"arr[2]=3", true},
	{"arr[3]=null", true},
	{"arr[-1]=3", true},
	{"arr[-3]=1", true},
	{"arr[-4]=null", true},
	{"arr.*=2", true},
	{"arr[*]=4", false},
	{"arr[*]!=4", true},
	{"arr.x=null", true},
	{"arr~^\\[1,2,3\\]$", true},
	{"objs.*.k=b", true},
	{"objs[*].k=c", false},
	{"objs[1].k=b", true},
	{"empty.*=null", false},
	{"o.x.y=deep", true},
	{"o.*.y=deep", true},
	{`o.a\.b=dotted`, true},
	{"o.0=zero", true},
	{"o[0]=null", true}, // [N] indexes arrays only
	{`o.\*=star`, true},
	{"o.*=star", true},
	{"o~deep", true},
	{"esc=café", true},
	{`esc="caf\u00e9"`, true},
	{"h.x-request-id=abc", true},
	{"h.content-length>999", true},
	{" h.x-request-id = abc ", true},
	{".n=5", true},
	{"s=", false},
	{"o.x.y=deep ", true},
	{`s~"^ABC$"`, false},
	{`s~(?i)^ABC$`, true},
}

func TestWhere(t *testing.T) {
	var p fastjson.Parser
	doc, err := p.Parse(whereDoc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range whereCases {
		w, err := parseWhere(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if got := w.match(doc); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.expr, got, tc.want)
		}
		// The canonical form parses back to itself.
		again, err := parseWhere(w.String())
		if err != nil || again.String() != w.String() {
			t.Errorf("%q: String %q does not parse back (%v, %v)", tc.expr, w.String(), again, err)
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		expr string
		in   []int // statuses that match
		out  []int // statuses that do not
	}{
		{"200", []int{200}, []int{201, 404}},
		{"==200", []int{200}, []int{201}},
		{"2xx", []int{200, 204, 299}, []int{300, 199}},
		{"!=2xx", []int{404, 500, 199}, []int{200}},
		{">=400", []int{400, 503}, []int{399}},
		{"<500", []int{499, 200}, []int{500}},
		{">499", []int{500}, []int{499}},
		{"<=200", []int{200, 100}, []int{201}},
		{"!=200", []int{201, 500}, []int{200}},
	}
	for _, tc := range tests {
		e, err := parseStatus(tc.expr)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		for _, s := range tc.in {
			if !e.match(s) {
				t.Errorf("%q does not match %d", tc.expr, s)
			}
		}
		for _, s := range tc.out {
			if e.match(s) {
				t.Errorf("%q matches %d", tc.expr, s)
			}
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T03:04:05.123456Z", time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)},
		{"2026-01-02T04:04:05+01:00", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T03:04:05", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T03:04", time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)},
		{"2026-01-02 03:04:05", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"30m", now.Add(-30 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{"2d", now.Add(-48 * time.Hour)},
		{"1w", now.Add(-7 * 24 * time.Hour)},
		{"0s", now},
	}
	for _, tc := range tests {
		got, err := parseTime(tc.in, now)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "now", "yesterday", "1", "-1h", "2026-02-30", "1.5d", "d", "12:00"} {
		if _, err := parseTime(bad, now); err == nil || !strings.Contains(err.Error(), "want an RFC 3339 time") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}
