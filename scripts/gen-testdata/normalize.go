package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// member is one name/value pair of a JSON object, the value's bytes as
// they were.
type member struct {
	key string
	val json.RawMessage
}

// members splits a JSON object into its members, in order, each value
// copied byte for byte.
func members(obj []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var ms []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("bad key %v", t)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		ms = append(ms, member{key, raw})
	}
	return ms, nil
}

// join writes members back as a compact JSON object. Keys are re-encoded
// (they are plain ASCII in a record); values are copied as they are, never
// through json.Marshal, which would escape <, > and & in bodies.
func join(ms []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// rewrite replaces the values of the named members that exist.
func rewrite(obj []byte, fn func(key string, val json.RawMessage) (json.RawMessage, error)) ([]byte, error) {
	ms, err := members(obj)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		v, err := fn(ms[i].key, ms[i].val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ms[i].key, err)
		}
		ms[i].val = v
	}
	return join(ms), nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func millis(ms float64) json.RawMessage {
	return json.RawMessage(strconv.FormatFloat(ms, 'f', -1, 64))
}

// Fixed values for the fields that change from run to run.
const (
	baseTime = "2026-01-01T00:00:00Z"
	ttfbMS   = 120.5
	tickMS   = 25.0
)

// normalize rewrites the run-dependent fields of record i of a file (see
// the package documentation).
func normalize(line []byte, i int) ([]byte, error) {
	base, _ := time.Parse(time.RFC3339, baseTime)
	start := base.Add(time.Duration(i) * time.Second)

	// The duration follows from the timing: the last tick plus one more
	// interval, or the first byte plus a few milliseconds.
	ticks := 0
	top, err := members(line)
	if err != nil {
		return nil, err
	}
	hasTTFB := false
	for _, m := range top {
		switch m.key {
		case "ttfb_ms":
			hasTTFB = true
		case "response":
			ms, err := members(m.val)
			if err != nil {
				return nil, err
			}
			for _, r := range ms {
				if r.key == "timing" {
					var t [][2]float64
					if err := json.Unmarshal(r.val, &t); err != nil {
						return nil, err
					}
					ticks = len(t)
				}
			}
		}
	}
	duration := 3.25
	if hasTTFB {
		duration = ttfbMS + 4.75
	}
	if ticks > 0 {
		duration = ttfbMS + tickMS*float64(ticks)
	}
	end := start.Add(time.Duration(duration * float64(time.Millisecond)))

	return rewrite(line, func(key string, val json.RawMessage) (json.RawMessage, error) {
		switch key {
		case "id":
			return jsonString(start.Format("20060102T150405.000000Z") + fmt.Sprintf("-000000-%06d", i+1)), nil
		case "start":
			return jsonString(start.Format("2006-01-02T15:04:05.000000Z07:00")), nil
		case "end":
			return jsonString(end.Format("2006-01-02T15:04:05.000000Z07:00")), nil
		case "duration_ms":
			return millis(duration), nil
		case "ttfb_ms":
			return millis(ttfbMS), nil
		case "client":
			return jsonString("127.0.0.1:50000"), nil
		case "upstream_url":
			var u string
			if err := json.Unmarshal(val, &u); err != nil {
				return nil, err
			}
			return jsonString(fixPort(u)), nil
		case "error":
			// An unreachable upstream's message names its port.
			return rewrite(val, func(key string, val json.RawMessage) (json.RawMessage, error) {
				var m string
				if key != "message" || json.Unmarshal(val, &m) != nil {
					return val, nil
				}
				return jsonString(fixPorts(m)), nil
			})
		case "request":
			return rewrite(val, headers("host", "127.0.0.1:8000"))
		case "response":
			return rewrite(val, func(key string, val json.RawMessage) (json.RawMessage, error) {
				switch key {
				case "headers":
					return headers("date", "Thu, 01 Jan 2026 00:00:00 GMT")(key, val)
				case "timing":
					var t [][2]float64
					if err := json.Unmarshal(val, &t); err != nil {
						return nil, err
					}
					var b bytes.Buffer
					b.WriteByte('[')
					for j, tick := range t {
						if j > 0 {
							b.WriteByte(',')
						}
						fmt.Fprintf(&b, "[%d,%s]", int64(tick[0]), millis(ttfbMS+tickMS*float64(j)))
					}
					b.WriteByte(']')
					return b.Bytes(), nil
				}
				return val, nil
			})
		}
		return val, nil
	})
}

// headers returns a rewrite of a part's headers object that sets header
// name, when present, to value.
func headers(name, value string) func(string, json.RawMessage) (json.RawMessage, error) {
	return func(key string, val json.RawMessage) (json.RawMessage, error) {
		if key != "headers" {
			return val, nil
		}
		return rewrite(val, func(k string, v json.RawMessage) (json.RawMessage, error) {
			if k == name {
				return jsonString(value), nil
			}
			return v, nil
		})
	}
}

// fixPorts replaces the port of every loopback address in s with 9.
func fixPorts(s string) string {
	const host = "127.0.0.1:"
	var b strings.Builder
	for {
		i := strings.Index(s, host)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+len(host)])
		s = s[i+len(host):]
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > 0 {
			b.WriteByte('9')
		}
		s = s[j:]
	}
}

// fixPort replaces the port of a loopback URL with 9, so the upstream URL
// does not change from run to run.
func fixPort(u string) string {
	rest, ok := strings.CutPrefix(u, "http://127.0.0.1:")
	if !ok {
		return u
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	return "http://127.0.0.1:9" + rest[i:]
}
