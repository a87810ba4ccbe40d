//go:build !unix

package proxy

// readAhead leaves dial as it is where the socket cannot be read without
// waiting through its raw descriptor (Windows, whose sockets complete
// their reads through the runtime's I/O completion port): connections
// there read through the Transport's buffer alone.
func readAhead(dial dialFunc) dialFunc { return dial }
