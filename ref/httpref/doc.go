// Package httpref is a small HTTP/1.1 file server and client built on the
// traced sockets of package sock, so that a lecture can show an HTTP
// request and response as socket calls beside the TCP segments that carry
// them.
//
// The server (Listen, then Serve) serves the files under one directory:
// GET and HEAD; 200, 400, 404 and 405; Content-Type by file extension from a
// small built-in table; Content-Length on every response; index.html for a
// directory; paths that would leave the root ("..", or a symlink pointing
// out, which os.Root refuses) are not served. Connections are kept open
// between requests as HTTP/1.1 says (HTTP/1.0: only when the client asks
// with "Connection: keep-alive") and closed on "Connection: close", after a
// 400 or 405 response, or after IdleTimeout without a new request. Each
// connection is handled on its own goroutine, the way a forking server
// would.
//
// The client (Fetch) fetches one http:// URL from this server or any real
// HTTP/1.x server and prints the status line, headers and body. It sends
// "Connection: close" and reads the body by whichever framing the response
// uses: Content-Length, chunked transfer coding, or read until the server
// closes.
//
// ReadRequest and ReadResponse are the parsers both use; they accept
// strictly formed messages (bare LF line ends are tolerated), bound every
// line, header count and body, and return errors rather than guess.
//
// What it does NOT do: TLS (https:// is refused with a clear error),
// HTTP/2, proxies, redirects, cookies, authentication, compression, range
// requests, conditional requests (If-Modified-Since), directory listings,
// request bodies beyond discarding a small Content-Length one, pipelining
// more than the byte stream gives for free, or any method other than GET
// and HEAD.
package httpref
