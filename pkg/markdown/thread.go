package markdown

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/provider"
)

// Conversation threading.
//
// Chat APIs resend the whole history on every turn. To show each message
// once, every request's messages are grouped into units (a run of
// consecutive messages with the same role) and each unit gets a chain hash:
// the hash of its content and of the chain hash before it. Equal chain
// hashes mean equal histories, whatever exchange they came from, so a
// request that starts with a known chain continues the exchange where that
// chain was first seen, with no session header, and conversations
// interleaved in one file stay apart.
//
// Grouping by role makes the hash independent of how a provider splits one
// turn into messages: a Responses API answer is reasoning, message and
// function_call items that come back as separate input items, an OpenAI
// answer is one message with text and tool calls. The hash covers what a
// client resends unchanged (role, text, tool calls with arguments as
// compact JSON, tool results and their call ids, media by type and size)
// and leaves out what it may drop or rewrite (reasoning, finish reasons,
// white space at the ends of a text).

// maxRemembered bounds the threading memory: past it, the renderer forgets
// every conversation and starts again, so a huge log renders in flat
// memory at the cost of one repeated history.
const maxRemembered = 1 << 18

// exchangeRef is what the renderer keeps of an exchange it rendered, for
// links back to it.
type exchangeRef struct {
	anchor string
	start  time.Time // names the exchange in links
	tools  uint64    // hash of the tools offered
}

// unit is one run of same-role messages in a conversation.
type unit struct {
	chain uint64 // chain hash through the end of this unit
	first int    // index of the unit's first message
}

// callRef is where a tool call was shown.
type callRef struct {
	ref  int
	name string
}

type threads struct {
	seed  maphash.Seed
	h     maphash.Hash
	refs  []exchangeRef
	seen  map[uint64]int // chain hash → index in refs of the exchange that showed it
	calls map[string]callRef
	units []unit // scratch
	tmp   []byte // scratch
}

func newThreads() *threads {
	t := &threads{seed: maphash.MakeSeed()}
	t.h.SetSeed(t.seed)
	t.reset()
	return t
}

func (t *threads) reset() {
	t.refs = t.refs[:0]
	t.seen = make(map[uint64]int)
	t.calls = make(map[string]callRef)
}

// add remembers an exchange and returns its index.
func (t *threads) add(r exchangeRef) int {
	if len(t.refs) >= maxRemembered || len(t.seen) >= maxRemembered || len(t.calls) >= maxRemembered {
		t.reset()
	}
	t.refs = append(t.refs, r)
	return len(t.refs) - 1
}

// chain computes the units of msgs, each with its chain hash. The slice is
// reused by the next call.
func (t *threads) chain(msgs []provider.Message) []unit {
	t.units = t.units[:0]
	var prev uint64
	for i := 0; i < len(msgs); {
		j := i + 1
		for j < len(msgs) && msgs[j].Role == msgs[i].Role {
			j++
		}
		prev = t.unitHash(prev, msgs[i:j])
		t.units = append(t.units, unit{chain: prev, first: i})
		i = j
	}
	return t.units
}

// unitHash is the chain hash of a unit of same-role messages after prev.
func (t *threads) unitHash(prev uint64, msgs []provider.Message) uint64 {
	t.h.Reset()
	t.tmp = binary.LittleEndian.AppendUint64(t.tmp[:0], prev)
	t.h.Write(t.tmp)
	if len(msgs) > 0 {
		t.str('R', msgs[0].Role)
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Role != provider.RoleAssistant {
			t.str('N', m.Name)
		}
		t.str('I', m.ToolCallID)
		for _, p := range m.Parts {
			switch p.Kind {
			case provider.PartToolCall:
				// A position marker; the call itself is hashed below.
			case provider.PartImage, provider.PartAudio, provider.PartFile:
				t.str('M', string(p.Kind))
				t.str('T', p.MediaType)
				t.str('U', p.URL)
				t.str('F', p.Name)
				t.tmp = binary.LittleEndian.AppendUint64(t.tmp[:0], uint64(p.Bytes))
				t.h.Write(t.tmp)
			default:
				if s := strings.TrimSpace(p.Text); s != "" {
					t.str('X', s)
				}
			}
		}
		if s := strings.TrimSpace(m.Refusal); s != "" {
			t.str('Z', s)
		}
		for _, c := range m.ToolCalls {
			t.str('C', c.ID)
			t.str('K', c.Name)
			t.str('A', compactJSON(c.Arguments))
		}
	}
	return t.h.Sum64()
}

// str hashes a tagged, length-prefixed string, so that field boundaries
// count ("ab"+"c" differs from "a"+"bc").
func (t *threads) str(tag byte, s string) {
	if s == "" {
		return
	}
	t.tmp = append(t.tmp[:0], tag)
	t.tmp = binary.LittleEndian.AppendUint64(t.tmp, uint64(len(s)))
	t.h.Write(t.tmp)
	t.h.WriteString(s)
}

// toolsHash identifies a set of offered tools, to show it only when it
// changes within a conversation.
func (t *threads) toolsHash(tools []provider.Tool) uint64 {
	if len(tools) == 0 {
		return 0
	}
	t.h.Reset()
	for _, tool := range tools {
		t.str('T', tool.Name)
		t.str('D', tool.Description)
	}
	return t.h.Sum64() | 1 // never 0, which means "no tools"
}

// compactJSON returns s without insignificant white space when it is JSON
// (a streamed tool input may be spaced differently from the object a client
// sends back), and s trimmed otherwise.
func compactJSON(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}
