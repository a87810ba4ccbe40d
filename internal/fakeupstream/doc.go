// Package fakeupstream is a deterministic fake LLM service, for tests, the demo,
// benchmarks and testdata generation.
//
// [New] returns an [http.Handler] that answers like the real services do, byte for
// byte the same for the same request: ids are fixed ("chatcmpl-fake-1",
// "call_fake_1", "msg_fake_1", ...) and every timestamp is [Created]. Every
// answer contains the multibyte text "Héllo wörld ☀️", so that chunk boundaries
// in a stream can fall inside a UTF-8 sequence.
//
// # Endpoints
//
//   - POST /v1/chat/completions: OpenAI Chat Completions, as JSON or, with
//     "stream": true, as "data: {chat.completion.chunk}" events ending in
//     "data: [DONE]". Reads model, messages, stream, stream_options.include_usage,
//     tools and n. When tools are offered and the last message is from the user,
//     the answer is a call to the first tool with arguments {"city":"Paris"};
//     when the last message is a tool result, the answer is text that quotes it;
//     otherwise the answer is text that echoes the start of the last user message.
//   - POST /v1/completions: legacy Completions (choices[].text), JSON or stream.
//   - POST /v1/embeddings: one vector per input (8 dimensions, or "dimensions"),
//     as floats or, with "encoding_format": "base64", as little-endian float32.
//   - GET /v1/models: a short model list.
//   - POST /v1/responses: the Responses API; a "response" object, or with
//     "stream": true the events response.created, response.in_progress,
//     response.output_item.added, response.content_part.added,
//     response.output_text.delta, response.output_text.done,
//     response.content_part.done, response.output_item.done and
//     response.completed (function calls use
//     response.function_call_arguments.delta and .done instead), each written as
//     "event: NAME\ndata: {...}\n\n". The same tool rule applies, with a
//     function_call_output item as the tool result.
//   - POST /v1/messages: Anthropic Messages, as JSON or the events message_start,
//     content_block_start, ping, content_block_delta (text_delta or
//     input_json_delta), content_block_stop, message_delta and message_stop.
//     When tools are offered and the last user message holds no tool_result, the
//     answer is a short text block followed by a tool_use block.
//
// Token counts in usage are estimates (about four bytes a token). A history
// that a request resends counts as cached prompt tokens, and models named like
// o1, o3 or gpt-5 report 16 reasoning tokens. Every answer carries
// "X-Request-Id: req_fake_1".
//
// Any other path answers 404 in the OpenAI error shape
// {"error":{"message":...,"type":"invalid_request_error","param":null,"code":"not_found"}};
// a known path with the wrong method answers 405 in the same shape, and a body
// that is not JSON answers 400.
//
// # Knobs
//
// Request headers drive faults, so that a test, a soak run or a benchmark can
// ask for them through any proxy that forwards headers. A knob with a bad value
// answers 400 naming the header. X-Fake-Status, X-Fake-Binary and X-Fake-Gzip
// apply to every path; the others shape the answers of the endpoints above.
//
//   - X-Fake-Status: CODE (400 to 599) answers that status with an error body:
//     the OpenAI error shape, or Anthropic's {"type":"error","error":{...}} on
//     /v1/messages. A 429 also carries "retry-after: 1".
//   - X-Fake-Chunk-Delay: DURATION (e.g. 100ms) sleeps between stream events;
//     each event is flushed on its own in any case.
//   - X-Fake-Chunks: N makes a stream (and the matching JSON answer) carry N
//     text deltas instead of the default one per word. The text is repeated
//     when N is larger than its length in characters.
//   - X-Fake-Abort-After: N sends N stream events (for a JSON answer: N bytes of
//     the body, with the full Content-Length announced), flushes them, then cuts
//     the connection without finishing the body, so the client sees an
//     unexpected EOF. The handler does this with panic(http.ErrAbortHandler),
//     which net/http recovers silently.
//   - X-Fake-Gzip: 1 gzips the answer, streams included, with
//     "Content-Encoding: gzip"; each flush of a stream flushes the compressor.
//   - X-Fake-Binary: N answers N bytes of binary that is not valid UTF-8, as
//     application/octet-stream, instead of any API answer.
//   - X-Fake-Size: N pads the answer with more text so that the body is about N
//     bytes: a stream keeps sending text deltas of about 1 KiB until it (with
//     the closing events that repeat the text, on /v1/responses) reaches N
//     bytes; a JSON answer grows its text to match. Meant for large-body
//     benchmarks (for example 50 MB). Tool-call answers and the endpoints
//     without text (embeddings, models) ignore it.
//   - X-Fake-Hang: 1 sends the headers and the first stream event (for a JSON
//     answer: only the headers), then sends nothing more until the client goes
//     away.
//
// Every handler stops writing as soon as the request context is done.
package fakeupstream
