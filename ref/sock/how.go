package sock

import (
	"strconv"

	sys "github.com/tcpscope/tcpscope/internal/sysabi"
)

// How says which direction Shutdown closes.
type How int

// The three shutdown(2) directions.
const (
	ShutRD   How = sys.SHUT_RD   // no more reading
	ShutWR   How = sys.SHUT_WR   // no more writing: sends FIN, the peer reads EOF
	ShutRDWR How = sys.SHUT_RDWR // both
)

func (h How) String() string {
	switch h {
	case ShutRD:
		return "SHUT_RD"
	case ShutWR:
		return "SHUT_WR"
	case ShutRDWR:
		return "SHUT_RDWR"
	}
	return "how " + strconv.Itoa(int(h))
}
