// Command bareproxy is the floor for a Go proxy in the benchmark:
// the standard library's httputil.ReverseProxy with nothing added but
// streaming (FlushInterval -1) and untouched bodies (DisableCompression).
//
//	bareproxy --upstream http://127.0.0.1:9000 --addr 127.0.0.1:0
//
// It prints "bareproxy: listening on http://ADDR" to stderr once it accepts
// connections.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	upstream := flag.String("upstream", "", "upstream base URL, e.g. http://127.0.0.1:9000")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	if *upstream == "" {
		fmt.Fprintln(os.Stderr, "bareproxy: --upstream is required")
		os.Exit(2)
	}
	target, err := url.Parse(*upstream)
	if err != nil || target.Scheme == "" || target.Host == "" {
		fmt.Fprintf(os.Stderr, "bareproxy: bad --upstream %q\n", *upstream)
		os.Exit(2)
	}

	transport := &http.Transport{
		Proxy:                 nil, // never route loopback benchmark traffic through an env proxy
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		DisableCompression:    true,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	rp := &httputil.ReverseProxy{
		// NewSingleHostReverseProxy, in Rewrite form: SetURL joins the paths
		// and sends the upstream's Host.
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorLog:      log.New(os.Stderr, "bareproxy: ", 0),
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bareproxy: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bareproxy: listening on http://%s\n", ln.Addr())
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Without this, an upstream that answers before the Transport has
		// finished with the request body gets its stream cut: the server
		// closes the inbound body when the response headers go out, the
		// Transport's last body read fails and it drops the upstream
		// connection mid-response (golang/go#40747; seen here as about 1 in
		// 5,000 SSE streams ending in "unexpected EOF").
		http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "bareproxy: %v\n", err)
		os.Exit(1)
	}
}
