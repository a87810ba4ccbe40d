package fakeupstream

import (
	"net/http"
	"strconv"
)

// api is the error shape a path answers in.
type api int

const (
	apiOpenAI api = iota
	apiAnthropic
)

func apiForPath(path string) api {
	if path == "/v1/messages" {
		return apiAnthropic
	}
	return apiOpenAI
}

// openAIError is the body of every OpenAI error answer.
type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// anthropicError is the body of every Anthropic error answer.
type anthropicError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// statusError is how each service describes a status: the messages, types and
// codes are the ones the real services send.
type statusError struct {
	message       string
	openAIType    string
	openAICode    string // "" for null
	anthropicType string
}

var statusErrors = map[int]statusError{
	400: {"Bad request.", "invalid_request_error", "", "invalid_request_error"},
	401: {"Incorrect API key provided.", "invalid_request_error", "invalid_api_key", "authentication_error"},
	403: {"You are not allowed to sample from this model.", "invalid_request_error", "", "permission_error"},
	404: {"The model does not exist or you do not have access to it.", "invalid_request_error", "not_found", "not_found_error"},
	405: {"Method not allowed.", "invalid_request_error", "method_not_allowed", "invalid_request_error"},
	413: {"Request too large.", "invalid_request_error", "", "request_too_large"},
	429: {"Rate limit reached for requests. Please try again in 1s.", "requests", "rate_limit_exceeded", "rate_limit_error"},
	500: {"The server had an error while processing your request. Sorry about that!", "server_error", "", "api_error"},
	503: {"The engine is currently overloaded, please try again later.", "server_error", "", "overloaded_error"},
	529: {"Overloaded", "server_error", "", "overloaded_error"},
}

// lookupStatus describes any status from 400 to 599.
func lookupStatus(status int) statusError {
	if e, ok := statusErrors[status]; ok {
		return e
	}
	if status < 500 {
		return statusError{http.StatusText(status) + ".", "invalid_request_error", "", "invalid_request_error"}
	}
	return statusError{http.StatusText(status) + ".", "server_error", "", "api_error"}
}

// writeError answers status with an error body in the shape of a; message
// replaces the service's usual text when not empty.
func writeError(w http.ResponseWriter, a api, status int, message string) {
	e := lookupStatus(status)
	if message == "" {
		message = e.message
	}
	var body []byte
	if a == apiAnthropic {
		var b anthropicError
		b.Type = "error"
		b.Error.Type = e.anthropicType
		b.Error.Message = message
		body = marshal(b)
	} else {
		var b openAIError
		b.Error.Message = message
		b.Error.Type = e.openAIType
		if e.openAICode != "" {
			b.Error.Code = &e.openAICode
		}
		body = marshal(b)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body))) // gzipWriter drops it
	if status == http.StatusTooManyRequests {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	w.Write(body)
}
