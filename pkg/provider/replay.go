package provider

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/llmtap/llmtap/pkg/rawjson"
)

// SetModel returns a request changed to ask for another model, and whether
// it knew where the model goes. Gemini's native API names the model in the
// path (…/models/NAME:generateContent, :streamGenerateContent,
// :embedContent, :countTokens…); every other format this package knows
// (OpenAI, Anthropic, Ollama) names it in the JSON body's top-level
// "model", which is replaced, or added when absent. The rest of the body
// is kept byte for byte. path is escaped, as a record holds it. A body
// that is not a JSON object (multipart, audio) is left alone: ok is false.
func SetModel(path string, body []byte, model string) (newPath string, newBody []byte, ok bool) {
	if p, ok := setGeminiModel(path, model); ok {
		return p, body, true
	}
	v, err := json.Marshal(model)
	if err != nil {
		return path, body, false
	}
	out, err := rawjson.Set(body, []string{"model"}, v)
	if err != nil {
		return path, body, false
	}
	return path, out, true
}

// setGeminiModel replaces NAME in a path ending …/models/NAME:method.
func setGeminiModel(path, model string) (string, bool) {
	i := strings.LastIndex(path, "/models/")
	if i < 0 {
		return path, false
	}
	rest := path[i+len("/models/"):]
	colon := strings.IndexByte(rest, ':')
	if colon <= 0 || strings.Contains(rest[:colon], "/") {
		return path, false
	}
	return path[:i+len("/models/")] + url.PathEscape(model) + rest[colon:], true
}

// inferenceSuffixes are the ends of the paths of the inference endpoints
// (OpenAI and compatible servers, Anthropic, Ollama), lower-case and
// without a trailing slash.
var inferenceSuffixes = []string{
	"/chat/completions", "/completions", "/responses", "/messages",
	"/embeddings", "/moderations",
	"/audio/speech", "/audio/transcriptions", "/audio/translations",
	"/images/generations",
	"/api/chat", "/api/generate", "/api/embed",
}

// geminiInference are the Gemini methods that run a model.
var geminiInference = slices.Concat(geminiGenerate, []string{":embedcontent"})

// Inference reports whether a request asks a model for an answer (chat,
// completions, responses, messages, embeddings, moderations, audio speech
// and transcription, image generation, Gemini generateContent,
// streamGenerateContent and embedContent, Ollama's chat, generate and
// embed) rather than reading or changing state (model lists, files,
// batches, fine-tuning, uploads, vector stores, any DELETE…). Only POST
// runs a model. path is the request path without its query.
func Inference(method, path string) bool {
	if method != "POST" {
		return false
	}
	p := strings.TrimRight(strings.ToLower(path), "/")
	if strings.Contains(p, "/threads/") {
		return false // the Assistants API's messages are stored state
	}
	for _, s := range inferenceSuffixes {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	if i := strings.LastIndexByte(p, ':'); i >= 0 && strings.Contains(p[:i], "/models/") {
		for _, m := range geminiInference {
			if p[i:] == m {
				return true
			}
		}
	}
	return false
}
