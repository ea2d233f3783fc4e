package render

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tcpscope/tcpscope/ref/sock"
)

// Call prints one socket call on the timeline, in the frame column's place
// a blank, then the time, the caller's role, the call as strace prints it
// and the plain note (if any), then details (each on its own indented
// line; the byte-order lines of a sockaddr under --explain):
//
//	0.000052  server listen(3, 128) = 0  ▸ the kernel now completes handshakes on its own, up to 128 waiting
//
// at is the call's place on the timeline (see the demo); Start is time 0.
func (t *Text) Call(e sock.Event, at time.Time, note string, details []string) error {
	th := &t.Theme
	b := append(t.buf[:0], "      "...)
	b = append(b, ' ')
	from := len(b)
	b = appendRelTime(b, at, t.Start, &t.rel)
	b = t.paintFrom(b, from, th.dim)
	b = append(b, "  "...)
	from = len(b)
	if e.Who != "" {
		b = append(append(b, e.Who...), ' ')
	}
	b = e.AppendCall(b, t.StrSize)
	if strings.HasPrefix(e.Who, "server") { // also "server[4242]", one of several processes
		b = t.paintFrom(b, from, th.server)
	} else {
		b = t.paintFrom(b, from, th.client)
	}
	call := len(b)
	if note != "" {
		b = append(b, "  "...)
		from = len(b)
		arrow := "▸ "
		if t.ASCII {
			arrow, note = "> ", ASCIIGlyphs.Replace(note)
		}
		b = append(append(b, arrow...), note...)
		b = t.paintFrom(b, from, th.dim)
	}
	if t.Width > 0 && Width(string(b)) > t.Width {
		// On a terminal too narrow for the whole: the call wrapped under
		// itself, the note under it as a segment's note is.
		first, rest := string(b[:call]), strings.TrimLeft(string(b[call:]), " ")
		b = Wrap(b[:0], first, t.Width, 19)
		if rest != "" {
			b = Wrap(b, "        "+rest, t.Width, 10)
		}
	} else {
		b = append(b, '\n')
	}
	for _, d := range details {
		from = len(b)
		b = append(append(b, "                  "...), d...)
		b = t.paintFrom(b, from, th.dim)
		b = append(b, '\n')
	}
	return t.flush(b)
}

// Call writes one socket call as a JSON object on its own line, for the
// demo's (and a traced program's) --json output, interleaved with the
// segments' lines. Keys (docs/packet-json.md): call, side, fd (absent when
// the call has none), args, ret, errno and error on failure, time,
// rel_time, took, note. at is the call's place on the timeline, strsize
// the cut of a read's or write's data (0: strace's 32).
func (j *JSON) Call(e sock.Event, at time.Time, note string, strsize int) error {
	if strsize <= 0 {
		strsize = sock.DefaultStrSize
	}
	b := j.buf[:0]
	b = append(b, `{"call":`...)
	b = appendJSONString(b, e.Call)
	if e.Who != "" {
		// "server[4242]" (one of a traced server's processes) is the
		// server side; the process is in "pid".
		side, _, _ := strings.Cut(e.Who, "[")
		b = append(b, `,"side":`...)
		b = appendJSONString(b, side)
	}
	if e.PID != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(e.PID), 10)
	}
	if e.FD >= 0 {
		b = append(b, `,"fd":`...)
		b = strconv.AppendInt(b, int64(e.FD), 10)
	}
	b = appendCallArgs(append(b, `,"args":{`...), e, strsize)
	b = append(b, '}')
	if e.Err != nil {
		b = append(b, `,"ret":-1`...)
		if name := sock.ErrnoName(e.Err); name != "" {
			b = append(b, `,"errno":`...)
			b = appendJSONString(b, name)
		}
		b = append(b, `,"error":`...)
		b = appendJSONString(b, e.Err.Error())
	} else {
		b = append(b, `,"ret":`...)
		b = strconv.AppendInt(b, int64(e.Ret), 10)
	}
	b = append(b, `,"time":"`...)
	b = j.appendTime(b, at)
	b = append(b, `","rel_time":`...)
	b = appendSeconds(b, at.Sub(j.Start))
	b = append(b, `,"took":`...)
	b = appendSeconds(b, e.Took)
	if e.Blocked > 0 {
		b = append(b, `,"blocked":`...)
		b = appendSeconds(b, e.Blocked)
	}
	if note != "" {
		b = append(b, `,"note":`...)
		b = appendJSONString(b, note)
	}
	b = append(b, "}\n"...)
	j.buf = b
	_, err := j.W.Write(b)
	return err
}

// appendCallArgs writes the members of the "args" object: the call's
// arguments by their C names, a sockaddr as {"family","port","addr"}.
func appendCallArgs(b []byte, e sock.Event, strsize int) []byte {
	key := func(b []byte, k string) []byte {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		return append(append(append(b, '"'), k...), `":`...)
	}
	switch e.Kind() {
	case "exit_group":
		b = strconv.AppendInt(key(b, "status"), int64(e.Value), 10)
	case "killed":
		b = appendJSONString(key(b, "signal"), e.Signal())
	case "socket":
		b = appendJSONString(key(b, "domain"), e.Domain.String())
		b = appendJSONString(key(b, "type"), sock.TypeName(e.Type))
		b = appendJSONString(key(b, "protocol"), sock.ProtocolName(e.Protocol))
	case "bind", "connect", "accept", "getsockname", "getpeername":
		if e.Addr.IsValid() {
			b = appendSockaddrJSON(key(b, "addr"), e.Addr)
			b = strconv.AppendInt(key(b, "addrlen"), int64(sock.SockaddrLen(e.Addr)), 10)
		}
	case "listen":
		b = strconv.AppendInt(key(b, "backlog"), int64(e.Backlog), 10)
	case "setsockopt", "getsockopt":
		b = appendJSONString(key(b, "level"), sock.LevelName(e.Level))
		b = appendJSONString(key(b, "optname"), sock.OptionName(e.Level, e.Option))
		if e.Linger != nil {
			b = append(key(b, "optval"), `{"l_onoff":`...)
			b = strconv.AppendInt(b, int64(e.Linger.Onoff), 10)
			b = append(b, `,"l_linger":`...)
			b = strconv.AppendInt(b, int64(e.Linger.Linger), 10)
			b = append(b, '}')
		} else if e.Err == nil || e.Call == "setsockopt" {
			b = strconv.AppendInt(key(b, "optval"), int64(e.Value), 10)
		}
	case "read", "write":
		b = strconv.AppendInt(key(b, "count"), int64(e.Count), 10)
		if e.Kind() == "write" || e.Err == nil {
			n := e.Ret
			if e.Err != nil {
				n = e.Count
			}
			data := e.Data[:min(len(e.Data), n)]
			cut := len(data) > strsize || len(data) < n
			data = data[:min(len(data), strsize)]
			// The bytes as a JSON string (bytes that are not UTF-8 become
			// U+FFFD), and exactly, as strace quotes them.
			b = appendJSONString(key(b, "data"), string(data))
			b = appendJSONString(key(b, "data_quoted"), string(sock.AppendQuoted(nil, data, strsize)))
			if cut {
				b = append(key(b, "data_cut"), "true"...)
			}
		}
	case "shutdown":
		b = appendJSONString(key(b, "how"), e.How.String())
	case "sendfile":
		b = strconv.AppendInt(key(b, "in_fd"), int64(e.Value), 10)
		b = strconv.AppendInt(key(b, "count"), int64(e.Count), 10)
	case "getaddrinfo":
		b = appendJSONString(key(b, "node"), e.Host)
		if e.Err == nil {
			b = append(key(b, "addrs"), '[')
			for i, a := range e.Addrs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, a.String())
			}
			b = append(b, ']')
		}
	}
	return b
}

// appendSockaddrJSON writes {"family":"AF_INET","port":8080,"addr":"127.0.0.1"}.
func appendSockaddrJSON(b []byte, ap netip.AddrPort) []byte {
	fam := "AF_INET6"
	a := ap.Addr()
	if a.Unmap().Is4() {
		fam, a = "AF_INET", a.Unmap()
	}
	b = append(b, `{"family":"`...)
	b = append(b, fam...)
	b = append(b, `","port":`...)
	b = strconv.AppendUint(b, uint64(ap.Port()), 10)
	b = append(b, `,"addr":"`...)
	b = a.AppendTo(b)
	return append(b, `"}`...)
}

// appendJSONString appends s as a JSON string (encoding/json's escaping).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
