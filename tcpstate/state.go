// Package tcpstate infers each end's TCP state, with the names of RFC 9293's
// state diagram (§3.3.2), from the segments a capture shows: the state
// diagram of the lecture, driven by what was seen on the wire.
//
// A capture sees segments, not sockets, so the states are an inference:
// a segment changes its sender's state when it is sent (a FIN moves
// ESTABLISHED to FIN-WAIT-1) and its receiver's state when it arrives (the
// same FIN moves the peer to CLOSE-WAIT). A capture taken at either end or
// on loopback sees both at nearly the same moment. Where the capture starts
// after the handshake, the states before the first segment are a guess
// (ESTABLISHED) and are marked Inferred.
//
// The package is pure: it is fed decoded segments and their direction,
// writes nothing, and keeps a bounded amount of memory (see Tracker).
// It is written by hand because it is the teaching point: the diagram's
// transitions, one rule each.
package tcpstate

// State is one of the eleven states of RFC 9293's diagram, or Unknown.
type State uint8

// The states, in the diagram's order. Unknown is "not seen yet": an end
// that has neither sent nor received anything that tells.
const (
	Unknown State = iota
	Closed
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var names = [...]string{"UNKNOWN", "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
	"FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}

// String returns the RFC's name: "SYN-SENT", "FIN-WAIT-1", "TIME-WAIT".
func (s State) String() string {
	if int(s) < len(names) {
		return names[s]
	}
	return "STATE?"
}

// Parse returns the State named s (an RFC name, as String writes it).
func Parse(s string) (State, bool) {
	for i, n := range names {
		if n == s {
			return State(i), true
		}
	}
	return Unknown, false
}

// End names one end of a connection by its role: the client sent the first
// SYN (or received the first SYN-ACK); without a handshake in the capture,
// the end with the higher port is taken to be the client, as the analysis
// does.
type End uint8

// The two ends.
const (
	Client End = 0
	Server End = 1
)

func (e End) String() string {
	if e == Server {
		return "server"
	}
	return "client"
}

// TCP header flag bits (RFC 9293 §3.1), as decode and analysis have them.
const (
	FIN uint8 = 0x01
	SYN uint8 = 0x02
	RST uint8 = 0x04
	ACK uint8 = 0x10
)

// Seg is what the state machine needs of a segment: its flags, raw
// sequence and acknowledgement numbers and payload length.
type Seg struct {
	Flags    uint8
	Seq, Ack uint32
	Len      int
}

// Change is one end moving from one state to another because of a segment
// (or, in the demo, a socket call).
type Change struct {
	End      End
	From, To State
	// Inferred: From was not seen but guessed, because the capture
	// started in the middle of the connection.
	Inferred bool
}

// String writes the change as the notes show it:
// "client: SYN-SENT → ESTABLISHED", "server: ESTABLISHED (inferred) → CLOSE-WAIT".
func (c Change) String() string { return string(c.AppendTo(nil, "→")) }

// AppendTo appends the change with arrow between the states (→, or -> for
// a terminal without UTF-8).
func (c Change) AppendTo(b []byte, arrow string) []byte {
	b = append(b, c.End.String()...)
	b = append(b, ": "...)
	b = append(b, c.From.String()...)
	if c.Inferred {
		b = append(b, " (inferred)"...)
	}
	b = append(b, ' ')
	b = append(b, arrow...)
	b = append(b, ' ')
	return append(b, c.To.String()...)
}

// Machine follows the two ends of one connection. The zero value is a
// connection nothing is known about; feed it every segment of the
// connection in capture order with Step.
type Machine struct {
	st       [2]State
	inferred [2]bool // the end's state rests on a guess (mid-connection start)
	started  bool
	joined   bool // the capture started after the connection did

	iss     [2]uint32 // each end's initial sequence number, once its SYN is seen
	sentSYN [2]bool
	finSeq  [2]uint32 // sequence number of each end's FIN
	sentFIN [2]bool
	gotFIN  [2]bool // the end has processed the peer's FIN
	// pendFIN: the end was sent the peer's FIN after a gap (bytes not yet
	// seen), so it queued it; its state moves when its ACK covers the FIN.
	pendFIN [2]bool
	nxt     [2]uint32 // the highest sequence number each end has sent, plus one
	hasNxt  [2]bool
	passive [2]bool // the end answered a SYN (a passive open: RST takes it back to LISTEN)
}

// State returns end e's current state and whether it rests on a guess.
func (m *Machine) State(e End) (State, bool) { return m.st[e], m.inferred[e] }

// Set puts end e in state s, as a socket call does in the demo (listen,
// connect, close), before the segments the call causes. It returns the
// change, and false when e was already in s.
func (m *Machine) Set(e End, s State) (Change, bool) {
	from := m.st[e]
	if from == Unknown {
		from = Closed
	}
	c := Change{End: e, From: from, To: s, Inferred: m.inferred[e]}
	m.st[e], m.inferred[e] = s, false
	if s == Listen {
		m.passive[e] = true
	}
	return c, from != s
}

// Finished reports whether both ends are CLOSED or in TIME-WAIT: no later
// segment can change anything but a TIME-WAIT (a new connection on the same
// ports is a new stream).
func (m *Machine) Finished() bool {
	for _, s := range m.st {
		if s != Closed && s != TimeWait {
			return false
		}
	}
	return true
}

// seqLT compares sequence numbers modulo 2³² (RFC 9293 §3.4).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGE(a, b uint32) bool { return !seqLT(a, b) }

// Step feeds one segment sent by end from and appends the changes it causes
// to out, first the sender's (on sending), then the receiver's (on
// arrival). A segment that changes nothing appends nothing.
func (m *Machine) Step(from End, s Seg, out []Change) []Change {
	to := 1 - from
	if !m.started {
		m.start(from, to, s)
	}
	// The sender may be answering a FIN it had queued behind a gap: its
	// ACK says the FIN has now been taken in.
	if m.pendFIN[from] && s.Flags&ACK != 0 && s.Flags&RST == 0 && seqGE(s.Ack, m.finSeq[to]+1) {
		m.pendFIN[from] = false
		out = m.takeFIN(from, out)
	}
	out = m.send(from, s, out)
	out = m.receive(from, to, s, out)
	end := s.Seq + uint32(s.Len)
	if s.Flags&SYN != 0 {
		end++
	}
	if s.Flags&FIN != 0 {
		end++
	}
	if !m.hasNxt[from] || seqLT(m.nxt[from], end) {
		m.nxt[from], m.hasNxt[from] = end, true
	}
	return out
}

// start sets the states before the first segment of the connection the
// capture shows. A SYN is a true beginning; anything else means the
// capture joined late, and the states before it are guessed.
func (m *Machine) start(from, to End, s Seg) {
	m.started = true
	switch {
	case s.Flags&RST != 0 && s.Flags&SYN == 0 && m.st[from] == Unknown && m.st[to] == Unknown:
		m.guess(from, Established)
		m.guess(to, Established)
	case s.Flags&(SYN|ACK) == SYN:
		// The receiver's state is told by its answer (SYN-ACK: it was
		// listening; RST: nothing was).
		if m.st[from] == Unknown {
			m.st[from] = Closed
		}
	case s.Flags&(SYN|ACK) == SYN|ACK:
		m.guess(from, Listen)
		m.passive[from] = true
		m.guess(to, SynSent)
	default:
		m.guess(from, Established)
		m.guess(to, Established)
	}
}

func (m *Machine) guess(e End, s State) {
	if m.st[e] == Unknown {
		m.st[e], m.inferred[e], m.joined = s, true, true
	}
}

// Joined reports whether the capture started in the middle of the
// connection, so its first states were inferred.
func (m *Machine) Joined() bool { return m.joined }

// move changes end e to s and records it.
func (m *Machine) move(e End, s State, out []Change) []Change {
	from := m.st[e]
	if from == s {
		return out
	}
	c := Change{End: e, From: from, To: s, Inferred: m.inferred[e]}
	if from == Unknown {
		// An end first heard of by its answer to a SYN was listening;
		// one that sends a SYN of its own was closed.
		c.From, c.Inferred = Closed, false
		if s == SynReceived {
			c.From = Listen
		}
	}
	m.st[e], m.inferred[e] = s, false
	if c.From == c.To {
		return out
	}
	return append(out, c)
}

// send applies the sender's side of a segment.
func (m *Machine) send(e End, s Seg, out []Change) []Change {
	st := m.st[e]
	if s.Flags&RST != 0 {
		switch st {
		case Closed, TimeWait, Listen:
			// A closed port's answer, a TIME-WAIT's, or a listener's
			// to a stray segment: no connection state to leave.
			return out
		case Unknown:
			m.st[e] = Closed // nothing listened: no change to tell
			return out
		}
		return m.move(e, Closed, out)
	}
	if s.Flags&SYN != 0 {
		if !m.sentSYN[e] {
			m.iss[e], m.sentSYN[e] = s.Seq, true
		}
		if s.Flags&ACK == 0 {
			if st == Unknown || st == Closed {
				out = m.move(e, SynSent, out)
				if m.sentSYN[1-e] {
					// Simultaneous open: this SYN was sent before the
					// peer's arrived, which then moves this end on.
					out = m.move(e, SynReceived, out)
				}
			}
		} else if st == Unknown || st == Listen || st == SynSent {
			m.passive[e] = m.passive[e] || st != SynSent
			out = m.move(e, SynReceived, out)
		}
	}
	if s.Flags&FIN != 0 {
		seq := s.Seq + uint32(s.Len)
		if s.Flags&SYN != 0 {
			seq++
		}
		if !m.sentFIN[e] {
			m.sentFIN[e], m.finSeq[e] = true, seq
			switch m.st[e] {
			case Established, SynReceived:
				out = m.move(e, FinWait1, out)
			case CloseWait:
				out = m.move(e, LastAck, out)
			}
		}
	}
	return out
}

// receive applies the receiver's side: what the segment does on arrival.
func (m *Machine) receive(from, e End, s Seg, out []Change) []Change {
	st := m.st[e]
	if s.Flags&RST != 0 {
		switch st {
		case Unknown, Closed, Listen:
			return out
		case SynSent:
			// Only a RST that acknowledges the SYN is acceptable.
			if s.Flags&ACK != 0 && m.sentSYN[e] && s.Ack == m.iss[e]+1 {
				out = m.move(e, Closed, out)
			}
			return out
		case SynReceived:
			if m.passive[e] {
				return m.move(e, Listen, out)
			}
		}
		return m.move(e, Closed, out)
	}
	if s.Flags&SYN != 0 {
		if s.Flags&ACK == 0 {
			if st == SynSent {
				// Simultaneous open: both sent a SYN.
				out = m.move(e, SynReceived, out)
			}
			return out
		}
		if (st == SynSent || st == SynReceived) && m.sentSYN[e] && s.Ack == m.iss[e]+1 {
			out = m.move(e, Established, out)
		} else if st == SynSent && !m.sentSYN[e] {
			out = m.move(e, Established, out) // the SYN was before the capture
		}
	} else if s.Flags&ACK != 0 {
		switch st {
		case SynReceived:
			if !m.sentSYN[e] || seqGE(s.Ack, m.iss[e]+1) {
				out = m.move(e, Established, out)
			}
		case FinWait1:
			if m.finAcked(e, s) {
				out = m.move(e, FinWait2, out)
			}
		case Closing:
			if m.finAcked(e, s) {
				out = m.move(e, TimeWait, out)
			}
		case LastAck:
			if m.finAcked(e, s) {
				out = m.move(e, Closed, out)
			}
		}
	}
	if s.Flags&FIN != 0 && !m.gotFIN[e] && !m.pendFIN[e] {
		if m.hasNxt[from] && seqLT(m.nxt[from], s.Seq) {
			// Bytes before the FIN are missing: the receiver queues it
			// and acts on it when the gap is filled (its ACK tells).
			m.pendFIN[e] = true
			return out
		}
		out = m.takeFIN(e, out)
	}
	return out
}

func (m *Machine) finAcked(e End, s Seg) bool {
	return m.sentFIN[e] && seqGE(s.Ack, m.finSeq[e]+1)
}

// takeFIN moves end e for the peer's FIN, now processed.
func (m *Machine) takeFIN(e End, out []Change) []Change {
	m.gotFIN[e] = true
	switch m.st[e] {
	case SynReceived, Established:
		out = m.move(e, CloseWait, out)
	case FinWait1:
		out = m.move(e, Closing, out)
	case FinWait2:
		out = m.move(e, TimeWait, out)
	}
	return out
}
