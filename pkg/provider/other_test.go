package provider_test

import (
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/provider"
)

// tapFloats is a JSON array of n floats.
func tapFloats(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat("0.0123,", n), ",") + "]"
}

func TestEmbeddings(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		req    string
		status int
		res    string
		want   provider.Exchange
	}{{
		name: "three inputs",
		req:  `{"model":"text-embedding-3-small","input":["a","b","c"]}`,
		res: `{"object":"list","data":[{"object":"embedding","index":0,"embedding":` + tapFloats(1536) + `},{"object":"embedding","index":1,"embedding":` + tapFloats(1536) + `},{"object":"embedding","index":2,"embedding":` + tapFloats(1536) + `}],
			"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}`,
		want: provider.Exchange{Model: "text-embedding-3-small", Summary: "3 inputs → 3 × 1536-dim embeddings (text-embedding-3-small)",
			Usage: &provider.Usage{Input: 3, Total: 3}},
	}, {
		name: "one input, base64",
		req:  `{"model":"m","input":"hello","encoding_format":"base64"}`,
		res:  `{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPwAAAEAAAEBA"}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`,
		want: provider.Exchange{Model: "m", Summary: "1 input → 1 × 3-dim embedding (m)", Usage: &provider.Usage{Input: 1, Total: 1}},
	}, {
		name: "token inputs, model from the response",
		req:  `{"input":[[1,2],[3,4]]}`,
		res:  `{"data":[{"embedding":[1,2]},{"embedding":[3,4]}],"model":"m2"}`,
		want: provider.Exchange{Model: "m2", Summary: "2 inputs → 2 × 2-dim embeddings (m2)"},
	}, {
		name: "one token array",
		req:  `{"model":"m","input":[1,2,3]}`,
		res:  `{"data":[{"embedding":[1,2]}]}`,
		want: provider.Exchange{Model: "m", Summary: "1 input → 1 × 2-dim embedding (m)"},
	}, {
		name: "gemini embedContent",
		path: "/v1beta/models/text-embedding-004:embedContent",
		req:  `{"model":"models/text-embedding-004","content":{"parts":[{"text":"hi"}]}}`,
		res:  `{"embedding":{"values":[0.1,0.2,0.3]}}`,
		want: provider.Exchange{Model: "text-embedding-004", Summary: "1 input → 1 × 3-dim embedding (text-embedding-004)"},
	}, {
		name: "gemini batchEmbedContents",
		path: "/v1beta/models/text-embedding-004:batchEmbedContents",
		req:  `{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"a"}]}},{"model":"models/text-embedding-004","content":{"parts":[{"text":"b"}]}}]}`,
		res:  `{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,0.4]}]}`,
		want: provider.Exchange{Model: "text-embedding-004", Summary: "2 inputs → 2 × 2-dim embeddings (text-embedding-004)"},
	}, {
		name:   "error",
		req:    `{"model":"m","input":["a","b"]}`,
		status: 401,
		res:    `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
		want: provider.Exchange{Model: "m", Summary: "2 inputs (m)",
			Error: &provider.APIError{Type: "invalid_request_error", Code: "invalid_api_key", Message: "Incorrect API key provided."}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/v1/embeddings"
			}
			got := tapParse(t, tapRec{path: path, req: tt.req, status: tt.status, resType: tapJSONType, res: tt.res}.record())
			want := tt.want
			want.API, want.FirstTokenOffset = provider.Embeddings, -1
			tapCheck(t, got, &want)
		})
	}
}

func TestEmbeddingsFakeUpstream(t *testing.T) {
	for _, format := range []string{"float", "base64"} {
		t.Run(format, func(t *testing.T) {
			r := tapFake(t, "POST", "/v1/embeddings", `{"model":"text-embedding-3-small","input":["a","b"],"dimensions":16,"encoding_format":"`+format+`"}`)
			got := tapParse(t, r.record())
			if want := "2 inputs → 2 × 16-dim embeddings (text-embedding-3-small)"; got.Summary != want {
				t.Errorf("Summary = %q, want %q", got.Summary, want)
			}
		})
	}
}

func TestModels(t *testing.T) {
	var many []string
	var manyWant []string
	for i := range 25 {
		id := "model-" + tapJSON(i)
		many = append(many, `{"id":"`+id+`","object":"model"}`)
		if i < 20 {
			manyWant = append(manyWant, id)
		}
	}
	tests := []struct {
		name, path, res string
		want            provider.Exchange
	}{{
		name: "openai",
		res:  `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1,"owned_by":"system"},{"id":"o3-mini","object":"model"}]}`,
		want: provider.Exchange{Summary: "2 models: gpt-4o, o3-mini"},
	}, {
		name: "many",
		res:  `{"object":"list","data":[` + strings.Join(many, ",") + `]}`,
		want: provider.Exchange{Summary: "25 models: " + strings.Join(manyWant, ", ") + ", and 5 more"},
	}, {
		name: "empty",
		res:  `{"object":"list","data":[]}`,
		want: provider.Exchange{Summary: "0 models"},
	}, {
		name: "gemini",
		path: "/v1beta/models",
		res:  `{"models":[{"name":"models/gemini-2.5-pro","displayName":"Gemini 2.5 Pro"},{"name":"models/gemini-2.5-flash"}],"nextPageToken":"x"}`,
		want: provider.Exchange{Summary: "2 models: gemini-2.5-pro, gemini-2.5-flash"},
	}, {
		name: "one model",
		path: "/v1/models/gpt-4o",
		res:  `{"id":"gpt-4o","object":"model","created":1,"owned_by":"system"}`,
		want: provider.Exchange{Model: "gpt-4o", Summary: "model gpt-4o"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/v1/models"
			}
			got := tapParse(t, tapRec{method: "GET", path: path, resType: tapJSONType, res: tt.res}.record())
			want := tt.want
			want.API, want.FirstTokenOffset = provider.Models, -1
			tapCheck(t, got, &want)
		})
	}
	t.Run("fake upstream", func(t *testing.T) {
		got := tapParse(t, tapFake(t, "GET", "/v1/models", "").record())
		if want := "4 models: gpt-4o, gpt-4o-mini, o3-mini, text-embedding-3-small"; got.Summary != want {
			t.Errorf("Summary = %q, want %q", got.Summary, want)
		}
	})
}

func TestGeneric(t *testing.T) {
	audio := strings.Repeat("\xff\xf3\x84\xc4", 850) // 3400 bytes, not UTF-8: recorded as base64
	long := `{"prompt":"` + strings.Repeat("a cat ", 60) + `"}`
	tests := []struct {
		name string
		r    tapRec
		want provider.Exchange
	}{{
		name: "speech",
		r: tapRec{path: "/v1/audio/speech", req: `{"model":"tts-1","input":"Hello","voice":"alloy"}`,
			resType: "audio/mpeg", res: audio},
		want: provider.Exchange{API: provider.Media, Model: "tts-1",
			Summary: `POST /v1/audio/speech · request: application/json, 49 B {"model":"tts-1","input":"Hello","voice":"alloy"} · response: audio/mpeg, 3.4 KB`},
	}, {
		name: "transcription",
		r: tapRec{path: "/v1/audio/transcriptions", reqType: "multipart/form-data; boundary=x", req: "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--x--\r\n",
			resType: "application/json", res: `{"text":"Hello there.","usage":{"type":"tokens","input_tokens":14,"output_tokens":3,"total_tokens":17}}`},
		want: provider.Exchange{API: provider.Media, Usage: &provider.Usage{Input: 14, Output: 3, Total: 17},
			Summary: `POST /v1/audio/transcriptions · request: multipart/form-data, 71 B · response: application/json, 103 B {"text":"Hello there.","usage":{"type":"tokens","input_tokens":14,"output_tokens":3,"total_tokens":17}}`},
	}, {
		name: "image generation: base64 replaced",
		r: tapRec{path: "/v1/images/generations", req: `{"model":"gpt-image-1","prompt":"a cat"}`,
			resType: "application/json", res: `{"created":1,"data":[{"b64_json":"` + tapB64 + `"}]}`},
		want: provider.Exchange{API: provider.Media, Model: "gpt-image-1",
			Summary: `POST /v1/images/generations · request: application/json, 40 B {"model":"gpt-image-1","prompt":"a cat"} · response: application/json, 438 B {"created":1,"data":[{"b64_json":"[base64 data, 300 B]"}]}`},
	}, {
		name: "unknown endpoint, long JSON clipped",
		r:    tapRec{path: "/v1/custom", query: "a=1", req: long, resType: "text/plain; charset=utf-8", res: "ok"},
		want: provider.Exchange{Summary: `POST /v1/custom?a=1 · request: application/json, 373 B ` + long[:200] + `… · response: text/plain, 2 B`},
	}, {
		name: "unknown endpoint, huge multibyte JSON clipped to 200 characters",
		r:    tapRec{method: "GET", path: "/v1/x", resType: "application/json", res: `{"text":"` + strings.Repeat("é", 100000) + `","more":[1,2,3]}`},
		want: provider.Exchange{Summary: `GET /v1/x · request: empty · response: application/json, 200.0 KB {"text":"` + strings.Repeat("é", 191) + `…`},
	}, {
		name: "no response",
		r:    tapRec{method: "GET", path: "/v1/files", noResponse: true, errKind: "upstream_unreachable"},
		want: provider.Exchange{API: provider.Media, Summary: `GET /v1/files · request: empty`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			want.FirstTokenOffset = -1
			tapCheck(t, tapParse(t, tt.r.record()), &want)
		})
	}
}

func TestParseError(t *testing.T) {
	long := strings.Repeat("é", 400)
	tests := []struct {
		name, resType, res string
		want               *provider.APIError
	}{
		{"openai", tapJSONType, `{"error":{"message":"Rate limit reached.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			&provider.APIError{Type: "requests", Code: "rate_limit_exceeded", Message: "Rate limit reached."}},
		{"anthropic", tapJSONType, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			&provider.APIError{Type: "overloaded_error", Message: "Overloaded"}},
		{"gemini", tapJSONType, `{"error":{"code":429,"message":"Resource has been exhausted.","status":"RESOURCE_EXHAUSTED"}}`,
			&provider.APIError{Type: "RESOURCE_EXHAUSTED", Code: "429", Message: "Resource has been exhausted."}},
		{"gemini array", tapJSONType, `[{"error":{"code":400,"message":"Invalid.","status":"INVALID_ARGUMENT"}}]`,
			&provider.APIError{Type: "INVALID_ARGUMENT", Code: "400", Message: "Invalid."}},
		{"bare string error", tapJSONType, `{"error":"model not found"}`,
			&provider.APIError{Message: "model not found"}},
		{"a JSON string", tapJSONType, `"Internal error"`,
			&provider.APIError{Message: "Internal error"}},
		{"fastapi detail", tapJSONType, `{"detail":"Not Found"}`,
			&provider.APIError{Message: "Not Found"}},
		{"fastapi validation detail", tapJSONType, `{"detail":[{"loc":["body","model"],"msg":"field required"}]}`,
			&provider.APIError{Message: `[{"loc":["body","model"],"msg":"field required"}]`}},
		{"vllm", tapJSONType, `{"object":"error","message":"The model does not exist.","type":"NotFoundError","param":null,"code":404}`,
			&provider.APIError{Type: "NotFoundError", Code: "404", Message: "The model does not exist."}},
		{"unknown JSON", tapJSONType, `{"status":"down"}`,
			&provider.APIError{Message: `{"status":"down"}`}},
		{"text", "text/plain", "  upstream connect error or disconnect/reset before headers\n",
			&provider.APIError{Message: "upstream connect error or disconnect/reset before headers"}},
		{"long text clipped to 300 characters", "text/plain", long,
			&provider.APIError{Message: strings.Repeat("é", 300) + "…"}},
		{"html title", "text/html", "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
			&provider.APIError{Message: "502 Bad Gateway"}},
		{"html without title", "text/html", "<html><body><h1>Service  Unavailable</h1>\n<p>Try later.</p></body></html>",
			&provider.APIError{Message: "Service Unavailable Try later."}},
		{"sse error event", tapSSEType, tapSSE(tapData(`{"error":{"message":"overloaded","type":"server_error"}}`)),
			&provider.APIError{Type: "server_error", Message: "overloaded"}},
		{"binary body", "application/octet-stream", "\xff\xfe\x00", nil},
		{"empty body", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tapParse(t, tapRec{path: "/v1/whatever", req: `{}`, status: 503, resType: tt.resType, res: tt.res}.record())
			if (got.Error == nil) != (tt.want == nil) || got.Error != nil && *got.Error != *tt.want {
				t.Errorf("Error = %+v, want %+v", got.Error, tt.want)
			}
		})
	}
}
