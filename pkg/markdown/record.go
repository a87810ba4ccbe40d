package markdown

import (
	"errors"
	"fmt"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/record"
)

// ErrBodyNotShown is wrapped by Record's error when a section was written
// without a body that could not be read.
var ErrBodyNotShown = errors.New("body not shown")

// Record writes the section of the exchange in record v, as provider.Parse
// reads it: the one way llmmd, llmtap's --log-dir transcript and the
// golden tests turn a record into Markdown. It returns w's error, if any.
// Otherwise, when the section had to leave out a body it could not read
// (base64 that does not decode, an unknown body_encoding), it returns an
// error wrapping ErrBodyNotShown that says which, for a warning: the rest
// of the section was written.
func (r *Renderer) Record(v record.View) error {
	if err := r.Render(v, provider.Parse(v)); err != nil {
		return err
	}
	for _, part := range []string{"request", "response"} {
		if _, err := v.BodyBytes(part); err != nil {
			return fmt.Errorf("%s %w: %w", part, ErrBodyNotShown, err)
		}
	}
	return nil
}
