package filter

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/valyala/fastjson"
)

// compiler checks the expressions of one filter of a Spec and adds its
// predicate to m; a filter the Spec does not use adds nothing.
type compiler func(m *Matcher, s *Spec) error

// compilers make the filters in the order they run: those that read a
// field or two first, those that read the conversation (which is parsed
// only for a line that passed all the others) last.
var compilers = [...]compiler{
	compileMethods,
	compileIDs,
	compilePaths,
	compileStatus,
	compileErrors,
	compileOK,
	compileStream,
	compileDurations,
	compileTimes,
	compileWhere,
	// The conversation, when asked for.
	compileModels,
	compileTools,
	compilePatterns,
}

func compileMethods(m *Matcher, s *Spec) error {
	if len(s.Methods) == 0 {
		return nil
	}
	methods := make([][]byte, len(s.Methods))
	for i, v := range s.Methods {
		t := strings.TrimSpace(v)
		if t == "" || strings.IndexFunc(t, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_') }) >= 0 {
			return &ArgError{"--method", v, fmt.Errorf("want %s", methodForms)}
		}
		methods[i] = []byte(t)
	}
	m.add(func(l *line) bool {
		got := l.v.GetStringBytes("method")
		for _, want := range methods {
			if bytes.EqualFold(got, want) {
				return true
			}
		}
		return false
	})
	return nil
}

func compileIDs(m *Matcher, s *Spec) error {
	ids, err := globs("--id", s.IDs)
	if ids != nil {
		m.addPrecheck(ids)
		m.add(func(l *line) bool { return anyGlobBytes(ids, l.v.GetStringBytes("id")) })
	}
	return err
}

func compilePaths(m *Matcher, s *Spec) error {
	paths, err := globs("--path", s.Paths)
	if paths != nil {
		m.add(func(l *line) bool { return anyGlobBytes(paths, l.v.GetStringBytes("path")) })
	}
	return err
}

func compileStatus(m *Matcher, s *Spec) error {
	if len(s.Status) == 0 {
		return nil
	}
	exprs := make([]statusExpr, len(s.Status))
	for i, v := range s.Status {
		var err error
		if exprs[i], err = parseStatus(v); err != nil {
			return &ArgError{"--status", v, err}
		}
	}
	m.add(func(l *line) bool {
		st := l.v.Get("response", "status")
		if st == nil || st.Type() != fastjson.TypeNumber {
			return false
		}
		code := st.GetInt()
		for _, e := range exprs {
			if e.match(code) {
				return true
			}
		}
		return false
	})
	return nil
}

func compileErrors(m *Matcher, s *Spec) error {
	if len(s.Errors) == 0 {
		return nil
	}
	kinds, anyErr, err := errorGlobs(s.Errors)
	if err != nil {
		return err
	}
	m.add(func(l *line) bool {
		e := l.v.Get("error")
		if e == nil || e.Type() == fastjson.TypeNull {
			return false
		}
		return anyErr || anyGlobBytes(kinds, e.GetStringBytes("kind"))
	})
	return nil
}

func compileOK(m *Matcher, s *Spec) error {
	if !s.OK {
		return nil
	}
	m.add(func(l *line) bool {
		if e := l.v.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
			return false
		}
		st := l.v.Get("response", "status")
		return st != nil && st.Type() == fastjson.TypeNumber && st.GetInt()/100 == 2
	})
	return nil
}

func compileStream(m *Matcher, s *Spec) error {
	if s.Stream != nil {
		want := *s.Stream
		m.add(func(l *line) bool { return l.view.Streamed() == want })
	}
	return nil
}

// compileDurations makes --slower, --faster and --ttfb-over: a number
// field above or below any of the limits.
func compileDurations(m *Matcher, s *Spec) error {
	for _, d := range [...]struct {
		flag, field string
		vals        []string
		above       bool
	}{
		{"--slower", "duration_ms", s.Slower, true},
		{"--faster", "duration_ms", s.Faster, false},
		{"--ttfb-over", "ttfb_ms", s.TTFBOver, true},
	} {
		if len(d.vals) == 0 {
			continue
		}
		limits := make([]float64, len(d.vals))
		for i, v := range d.vals {
			dur, err := parseDuration(v)
			if err != nil {
				return &ArgError{d.flag, v, err}
			}
			limits[i] = millis(dur)
		}
		field, above := d.field, d.above
		m.add(func(l *line) bool {
			x := l.v.Get(field)
			if x == nil || x.Type() != fastjson.TypeNumber {
				return false
			}
			ms := x.GetFloat64()
			for _, lim := range limits {
				if above && ms > lim || !above && ms < lim {
					return true
				}
			}
			return false
		})
	}
	return nil
}

// compileTimes makes --since and --until over the record's start.
func compileTimes(m *Matcher, s *Spec) error {
	for _, t := range [...]struct {
		flag  string
		vals  []string
		since bool
	}{{"--since", s.Since, true}, {"--until", s.Until, false}} {
		if len(t.vals) == 0 {
			continue
		}
		bounds := make([]time.Time, len(t.vals))
		for i, v := range t.vals {
			var err error
			if bounds[i], err = parseTime(v, s.Now); err != nil {
				return &ArgError{t.flag, v, err}
			}
		}
		since := t.since
		m.add(func(l *line) bool {
			start := l.view.Start() // zero when not a time
			if start.IsZero() {
				return false
			}
			for _, b := range bounds {
				if since && !start.Before(b) || !since && start.Before(b) {
					return true
				}
			}
			return false
		})
	}
	return nil
}

// compileWhere makes each --where a filter of its own (AND).
func compileWhere(m *Matcher, s *Spec) error {
	for _, v := range s.Where {
		w, err := parseWhere(v)
		if err != nil {
			return &ArgError{"--where", v, err}
		}
		m.add(func(l *line) bool { return w.match(l.v) })
	}
	return nil
}

// compileModels makes --model: the request's model when it names one,
// else the conversation's (from the response).
func compileModels(m *Matcher, s *Spec) error {
	models, err := globs("--model", s.Models)
	if models != nil {
		m.add(func(l *line) bool {
			if s := provider.RequestModel(l.view); len(s) > 0 {
				return anyGlobBytes(models, s)
			}
			// A record that names no model matches no --model, not even *.
			model := l.exchange().Model
			return model != "" && anyGlob(models, model)
		})
	}
	return err
}

func compileTools(m *Matcher, s *Spec) error {
	tools, err := globs("--tool", s.Tools)
	if err != nil {
		return err
	}
	if tools == nil {
		if s.InRequest {
			return &ArgError{"--in-request", "", errors.New("goes with --tool NAME")}
		}
		return nil
	}
	m.addPrecheck(tools)
	inRequest := s.InRequest
	m.add(func(l *line) bool { return toolCalled(l.exchange(), tools, inRequest) })
	return nil
}

// compilePatterns makes PATTERN: regular expressions or literals over the
// conversation text.
func compilePatterns(m *Matcher, s *Spec) error {
	text, err := compileText(s.Patterns, s.Fixed, s.IgnoreCase)
	if err != nil {
		return err
	}
	if text != nil && (len(text.res) > 0 || len(text.lits) > 0) {
		m.add(func(l *line) bool { return text.match(l.exchange()) })
	}
	return nil
}
