package httpref

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits that keep a hostile or broken peer from making a parser read or
// keep without bound.
const (
	maxLine    = 8 << 10  // one request, status, header or chunk-size line
	maxHeaders = 100      // header fields in one message
	maxHeadLen = 64 << 10 // all header lines of one message together
)

// Field is one header line, name and value as received (value trimmed).
type Field struct{ Name, Value string }

// Header is a message's header fields in the order received; names keep
// their spelling (HTTP names are case-insensitive: use Get).
type Header []Field

// Get returns the value of the first field called name, ignoring case, or
// "" if there is none.
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// values returns the values of every field called name, ignoring case.
func (h Header) values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// hasToken reports whether a comma-separated header (Connection,
// Transfer-Encoding) lists token, ignoring case.
func (h Header) hasToken(name, token string) bool {
	for _, v := range h.values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Request is a parsed request head; the server reads no body beyond
// discarding a small Content-Length one.
type Request struct {
	Method string // "GET"
	Target string // "/index.html?x=1", as sent
	Proto  string // "HTTP/1.1"
	Header Header
}

// Response is a parsed response with its body read in full.
type Response struct {
	Proto      string // "HTTP/1.1"
	StatusCode int    // 200
	Reason     string // "OK" (may be empty)
	Header     Header
	Body       []byte
	// Framing says how the end of the body was found: "none",
	// "content-length", "chunked" or "until-close".
	Framing string
}

// StatusLine renders the response's first line, "HTTP/1.1 200 OK".
func (r *Response) StatusLine() string {
	s := r.Proto + " " + strconv.Itoa(r.StatusCode)
	if r.Reason != "" {
		s += " " + r.Reason
	}
	return s
}

// ParseError is a malformed message: the server answers it with 400.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return "malformed HTTP message: " + e.Msg }

func bad(format string, args ...any) error { return &ParseError{Msg: fmt.Sprintf(format, args...)} }

// readLine reads one line up to maxLine bytes, without its CRLF (or bare
// LF). A stream that ends mid-line is io.ErrUnexpectedEOF; one that ends
// before the line starts is io.EOF.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxLine {
			return "", bad("line longer than %d bytes", maxLine)
		}
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return string(line), nil
}

// isToken reports whether s is an HTTP token (method, header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// validProto accepts HTTP/1.0 and HTTP/1.1 (and later 1.x).
func validProto(p string) bool {
	return len(p) == 8 && strings.HasPrefix(p, "HTTP/1.") && p[7] >= '0' && p[7] <= '9'
}

// readHeader reads header lines up to the empty line that ends them.
func readHeader(r *bufio.Reader) (Header, error) {
	var h Header
	total := 0
	for {
		line, err := readLine(r)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		if line == "" {
			return h, nil
		}
		total += len(line)
		if total > maxHeadLen || len(h) >= maxHeaders {
			return nil, bad("header too large")
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, bad("folded header line (obsolete line folding is not accepted)")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			return nil, bad("bad header line %q", line)
		}
		value = strings.Trim(value, " \t")
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, bad("bad character in header %s", name)
		}
		h = append(h, Field{Name: name, Value: value})
	}
}

// ReadRequest reads a request head (request line and header fields). It
// returns io.EOF if the stream ended cleanly before a request began (the
// client is done with a kept-alive connection), a *ParseError for a
// malformed request, and other errors as the reader gave them.
func ReadRequest(r *bufio.Reader) (*Request, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return nil, bad("request line %q is not METHOD TARGET VERSION", line)
	}
	if !isToken(method) {
		return nil, bad("bad method %q", method)
	}
	if target == "" || strings.ContainsAny(target, " \t\x00\x7f") {
		return nil, bad("bad request target %q", target)
	}
	if !validProto(proto) {
		return nil, bad("unsupported protocol %q", proto)
	}
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	return &Request{Method: method, Target: target, Proto: proto, Header: h}, nil
}

// contentLength reads Content-Length: -1 when absent; an error when
// malformed or when several fields disagree.
func contentLength(h Header) (int64, error) {
	vs := h.values("Content-Length")
	if len(vs) == 0 {
		return -1, nil
	}
	n := int64(-1)
	for _, v := range vs {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" || strings.TrimLeft(part, "0123456789") != "" {
				return 0, bad("bad Content-Length %q", v)
			}
			k, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return 0, bad("bad Content-Length %q", v)
			}
			if n >= 0 && k != n {
				return 0, bad("conflicting Content-Length values")
			}
			n = k
		}
	}
	return n, nil
}

// ReadResponse reads one response and its body. method is the request's
// method (a response to HEAD has no body whatever its headers say); a body
// longer than maxBody bytes is an error. Interim 1xx responses (100
// Continue) are skipped. The body's end is found as RFC 9112 §6.3 says:
// none for HEAD, 1xx, 204 and 304; chunked if the last transfer coding is
// chunked; Content-Length if given; otherwise whatever comes until the
// server closes the connection.
func ReadResponse(r *bufio.Reader, method string, maxBody int64) (*Response, error) {
	for {
		resp, err := readResponseHead(r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			continue
		}
		if err := readBody(r, resp, method, maxBody); err != nil {
			return resp, err
		}
		return resp, nil
	}
}

func readResponseHead(r *bufio.Reader) (*Response, error) {
	line, err := readLine(r)
	if err == io.EOF {
		return nil, bad("the server closed the connection without a response")
	}
	if err != nil {
		return nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, reason, _ := strings.Cut(rest, " ")
	if !validProto(proto) {
		return nil, bad("status line %q does not start with HTTP/1.x", line)
	}
	if len(code) != 3 || strings.TrimLeft(code, "0123456789") != "" || code[0] == '0' {
		return nil, bad("bad status code in %q", line)
	}
	status, _ := strconv.Atoi(code)
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	return &Response{Proto: proto, StatusCode: status, Reason: reason, Header: h}, nil
}

func readBody(r *bufio.Reader, resp *Response, method string, maxBody int64) error {
	code := resp.StatusCode
	if method == "HEAD" || code < 200 || code == 204 || code == 304 {
		resp.Framing = "none"
		return nil
	}
	if te := resp.Header.values("Transfer-Encoding"); len(te) > 0 {
		codings := strings.Split(strings.Join(te, ","), ",")
		if strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked") {
			resp.Framing = "chunked"
			body, err := readChunked(r, maxBody)
			resp.Body = body
			return err
		}
		resp.Framing = "until-close"
		body, err := readUntilClose(r, maxBody)
		resp.Body = body
		return err
	}
	n, err := contentLength(resp.Header)
	if err != nil {
		return err
	}
	if n >= 0 {
		resp.Framing = "content-length"
		if n > maxBody {
			return fmt.Errorf("body of %d bytes is larger than the limit of %d", n, maxBody)
		}
		resp.Body = make([]byte, n)
		got, err := io.ReadFull(r, resp.Body)
		resp.Body = resp.Body[:got]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("the server closed the connection after %d of %d body bytes", got, n)
		}
		return err
	}
	resp.Framing = "until-close"
	body, err := readUntilClose(r, maxBody)
	resp.Body = body
	return err
}

func readUntilClose(r io.Reader, maxBody int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if int64(len(body)) > maxBody {
		return body[:maxBody], fmt.Errorf("body is larger than the limit of %d bytes", maxBody)
	}
	return body, err
}

// readChunked decodes the chunked transfer coding: each chunk is a hex
// size line (maybe with ";extensions"), that many bytes, and CRLF; a chunk
// of size 0 ends the body, followed by optional trailer fields and an empty
// line.
func readChunked(r *bufio.Reader, maxBody int64) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(r)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return body, err
		}
		sizeText, _, _ := strings.Cut(line, ";")
		sizeText = strings.TrimRight(sizeText, " \t")
		if sizeText == "" || len(sizeText) > 15 {
			return body, bad("bad chunk size line %q", line)
		}
		size, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil || size < 0 {
			return body, bad("bad chunk size line %q", line)
		}
		if size == 0 {
			_, err := readHeader(r) // trailer fields, if any, are dropped
			return body, err
		}
		if int64(len(body))+size > maxBody {
			return body, fmt.Errorf("body is larger than the limit of %d bytes", maxBody)
		}
		start := len(body)
		body = append(body, make([]byte, size)...)
		if _, err := io.ReadFull(r, body[start:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return body[:start], err
		}
		end, err := readLine(r)
		if err != nil || end != "" {
			if err == nil || errors.Is(err, io.EOF) {
				err = bad("chunk not followed by CRLF")
			}
			return body, err
		}
	}
}
