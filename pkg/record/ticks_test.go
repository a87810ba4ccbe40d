package record_test

import (
	"fmt"
	"testing"

	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// TestTicksIsTickMS: walking offsets upward, Ticks.MS answers what TickMS
// answers, for a plain body, a body decoded from gzip and no timing.
func TestTicksIsTickMS(t *testing.T) {
	for _, line := range []string{
		`{"v":1,"response":{"status":200,"timing":[[0,10.5],[5,20],[5,21],[9,30]]}}`,
		`{"v":1,"response":{"status":200,"timing":[[3,10],[8,"x"]]}}`,
		`{"v":1,"response":{"status":200,"content_encoding":"gzip","timing":[[0,10]]}}`,
		`{"v":1,"response":{"status":200}}`,
	} {
		var p fastjson.Parser
		v, err := record.ParseLine(&p, []byte(line))
		if err != nil {
			t.Fatal(err)
		}
		ticks := v.Ticks()
		for off := int64(-1); off < 12; off++ {
			ms, ok := ticks.MS(off)
			wms, wok := v.TickMS(off)
			if fmt.Sprint(ms, ok) != fmt.Sprint(wms, wok) {
				t.Errorf("%s: offset %d: Ticks %v %v, TickMS %v %v", line, off, ms, ok, wms, wok)
			}
		}
	}
}
