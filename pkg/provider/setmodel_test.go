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
