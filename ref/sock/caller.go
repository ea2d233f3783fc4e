package sock

// Caller says who is making socket calls and where their trace goes. It is a
// small value: copy it freely. The zero Caller traces nothing.
type Caller struct {
	Who   string // "client" or "server": the first word of every trace line
	Trace Tracer // nil: no tracing
}

// ListenConfig holds the choices a server makes before listen(2).
type ListenConfig struct {
	// Backlog is listen's backlog; 0 means 128.
	Backlog int
	// ReuseAddr sets SO_REUSEADDR, so a restarted server can bind at once.
	ReuseAddr bool
	// RcvBuf, when > 0, sets SO_RCVBUF on the listening socket before
	// listen, so that accepted connections start with a small window.
	RcvBuf int
	// SndBuf, when > 0, sets SO_SNDBUF on the listening socket before
	// listen; accepted connections inherit it.
	SndBuf int
	// MaxSeg, when > 0, sets TCP_MAXSEG on the listening socket before
	// listen: accepted connections advertise it in their SYN-ACK and send
	// segments no larger.
	MaxSeg int
}
