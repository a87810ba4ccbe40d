package provider

import "testing"

func TestSetModel(t *testing.T) {
	for _, tt := range []struct {
		name, path, body, model string
		wantPath, wantBody      string
		ok                      bool
	}{
		{"openai chat", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, "m2",
			"/v1/chat/completions", `{"model":"m2","messages":[{"role":"user","content":"hi"}]}`, true},
		{"responses", "/v1/responses", `{"input":"x","model":"a"}`, "b", "/v1/responses", `{"input":"x","model":"b"}`, true},
		{"anthropic", "/v1/messages", `{"model":"claude","max_tokens":5}`, "claude-2", "/v1/messages", `{"model":"claude-2","max_tokens":5}`, true},
		{"ollama", "/api/chat", `{"model":"llama3","stream":false}`, "qwen:7b", "/api/chat", `{"model":"qwen:7b","stream":false}`, true},
		{"absent model is added", "/v1/embeddings", `{"input":"x"}`, "e", "/v1/embeddings", `{"input":"x","model":"e"}`, true},
		{"gemini", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[]}`, "gemini-pro",
			"/v1beta/models/gemini-pro:generateContent", `{"contents":[]}`, true},
		{"gemini stream", "/v1beta/models/g:streamGenerateContent", `{}`, "h", "/v1beta/models/h:streamGenerateContent", `{}`, true},
		{"gemini name escaped", "/v1beta/models/g:embedContent", `{}`, "a/b", "/v1beta/models/a%2Fb:embedContent", `{}`, true},
		{"multipart", "/v1/audio/transcriptions", "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--x--\r\n", "w2",
			"/v1/audio/transcriptions", "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--x--\r\n", false},
		{"no body", "/v1/models", ``, "x", "/v1/models", ``, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, b, ok := SetModel(tt.path, []byte(tt.body), tt.model)
			if p != tt.wantPath || string(b) != tt.wantBody || ok != tt.ok {
				t.Errorf("SetModel = %q, %q, %v; want %q, %q, %v", p, b, ok, tt.wantPath, tt.wantBody, tt.ok)
			}
		})
	}
}

func TestInference(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/v1/chat/completions", true},
		{"POST", "/chat/completions/", true},
		{"POST", "/v1/completions", true},
		{"POST", "/v1/responses", true},
		{"POST", "/v1/messages", true},
		{"POST", "/v1/embeddings", true},
		{"POST", "/v1/moderations", true},
		{"POST", "/v1/audio/speech", true},
		{"POST", "/v1/audio/transcriptions", true},
		{"POST", "/v1/audio/translations", true},
		{"POST", "/v1/images/generations", true},
		{"POST", "/v1beta/models/gemini-2.5-flash:generateContent", true},
		{"POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", true},
		{"POST", "/v1beta/models/text-embedding-004:embedContent", true},
		{"POST", "/api/chat", true},
		{"POST", "/api/generate", true},
		{"POST", "/api/embed", true},
		{"GET", "/v1/chat/completions", false},
		{"GET", "/v1/models", false},
		{"DELETE", "/v1/responses", false},
		{"POST", "/v1/files", false},
		{"POST", "/v1/batches", false},
		{"POST", "/v1/fine_tuning/jobs", false},
		{"POST", "/v1/uploads", false},
		{"POST", "/v1/vector_stores", false},
		{"POST", "/v1/threads/t1/messages", false},
		{"POST", "/v1/responses/r1/cancel", false},
		{"POST", "/v1/messages/batches", false},
		{"POST", "/v1beta/models/g:countTokens", false},
		{"POST", "/v1/images/edits", false},
	} {
		if got := Inference(tt.method, tt.path); got != tt.want {
			t.Errorf("Inference(%s %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}
