package filter

import (
	"testing"

	"github.com/llmtap/llmtap/pkg/record"
)

// TestEveryErrorKindSelectable: --error accepts each kind llmtap writes
// and selects exactly the records of that kind.
func TestEveryErrorKindSelectable(t *testing.T) {
	kinds := record.ErrorKinds()
	for _, k := range kinds {
		t.Run(k.Name, func(t *testing.T) {
			m, err := Compile(Spec{Errors: []string{k.Name}})
			if err != nil {
				t.Fatal(err)
			}
			for _, other := range kinds {
				ok, err := m.Match([]byte(`{"v":1,"id":"a","error":{"kind":"` + other.Name + `","message":"m"}}`))
				if err != nil || ok != (other.Name == k.Name) {
					t.Errorf("record of kind %s: Match = %v, %v", other.Name, ok, err)
				}
			}
		})
	}
}
