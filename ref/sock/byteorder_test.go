package sock

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
)

func TestHostEndian(t *testing.T) {
	// An independent check: read the bytes 01 00 in native order.
	want := BigEndian
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		want = LittleEndian
	}
	if got := HostEndian(); got != want {
		t.Fatalf("HostEndian() = %v, want %v", got, want)
	}
}

func TestDescribePort(t *testing.T) {
	tests := []struct {
		port uint16
		host Endian
		want string
	}{
		{7000, LittleEndian, "sin_port = htons(7000) = 0x1b58 → bytes 1b 58 on the wire (host order on this little-endian CPU: 58 1b)"},
		{7000, BigEndian, "sin_port = htons(7000) = 0x1b58 → bytes 1b 58 on the wire (host order on this big-endian CPU: 1b 58, the same: htons changes nothing)"},
		{80, LittleEndian, "sin_port = htons(80) = 0x0050 → bytes 00 50 on the wire (host order on this little-endian CPU: 50 00)"},
		{65535, BigEndian, "sin_port = htons(65535) = 0xffff → bytes ff ff on the wire (host order on this big-endian CPU: ff ff, the same: htons changes nothing)"},
		{1, LittleEndian, "sin_port = htons(1) = 0x0001 → bytes 00 01 on the wire (host order on this little-endian CPU: 01 00)"},
	}
	for _, tt := range tests {
		if got := DescribePort("sin_port", tt.port, tt.host); got != tt.want {
			t.Errorf("DescribePort(%d, %v)\n got %s\nwant %s", tt.port, tt.host, got, tt.want)
		}
	}
}

func TestDescribeAddr(t *testing.T) {
	tests := []struct {
		addr string
		host Endian
		want string
	}{
		{"127.0.0.1", LittleEndian, "sin_addr = 127.0.0.1 = htonl(0x7f000001) → bytes 7f 00 00 01 on the wire (host order on this little-endian CPU: 01 00 00 7f)"},
		{"127.0.0.1", BigEndian, "sin_addr = 127.0.0.1 = htonl(0x7f000001) → bytes 7f 00 00 01 on the wire (host order on this big-endian CPU: 7f 00 00 01, the same: htonl changes nothing)"},
		{"192.168.1.20", LittleEndian, "sin_addr = 192.168.1.20 = htonl(0xc0a80114) → bytes c0 a8 01 14 on the wire (host order on this little-endian CPU: 14 01 a8 c0)"},
		{"::ffff:10.0.0.1", LittleEndian, "sin_addr = 10.0.0.1 = htonl(0x0a000001) → bytes 0a 00 00 01 on the wire (host order on this little-endian CPU: 01 00 00 0a)"},
		{"::1", LittleEndian, "sin6_addr = ::1 → bytes 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 on the wire (16 single bytes: no byte order to convert)"},
		{"::1", BigEndian, "sin6_addr = ::1 → bytes 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 on the wire (16 single bytes: no byte order to convert)"},
	}
	for _, tt := range tests {
		if got := DescribeAddr(netip.MustParseAddr(tt.addr), tt.host); got != tt.want {
			t.Errorf("DescribeAddr(%s, %v)\n got %s\nwant %s", tt.addr, tt.host, got, tt.want)
		}
	}
}

func TestDescribeSockaddr(t *testing.T) {
	v4 := DescribeSockaddr(netip.MustParseAddrPort("127.0.0.1:7000"), LittleEndian)
	if len(v4) != 4 || !strings.HasPrefix(v4[0], "sin_family = AF_INET ") ||
		!strings.HasPrefix(v4[1], "sin_port = htons(7000)") || !strings.HasPrefix(v4[2], "sin_addr = 127.0.0.1") ||
		!strings.HasSuffix(v4[3], "this CPU is little-endian") {
		t.Errorf("v4 lines: %q", v4)
	}
	v6 := DescribeSockaddr(netip.MustParseAddrPort("[::1]:443"), BigEndian)
	if len(v6) != 4 || !strings.HasPrefix(v6[0], "sin6_family = AF_INET6") ||
		!strings.HasPrefix(v6[1], "sin6_port = htons(443) = 0x01bb → bytes 01 bb") || !strings.HasPrefix(v6[2], "sin6_addr = ::1") ||
		!strings.HasSuffix(v6[3], "this CPU is big-endian") {
		t.Errorf("v6 lines: %q", v6)
	}
}
