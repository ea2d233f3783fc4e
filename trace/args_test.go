package trace

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestParseSockaddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"0.0.0.0:0", "0.0.0.0:0"},
		{"[::1]:443", "[::1]:443"},
		{"[2001:db8::7]:65535", "[2001:db8::7]:65535"},
	} {
		b := EncodeSockaddr(netip.MustParseAddrPort(tc.in))
		sa, err := ParseSockaddr(b)
		if err != nil || sa.String() != tc.want {
			t.Errorf("%s: got %v, %v", tc.in, sa, err)
		}
	}
	// The port is big-endian on the wire whatever the CPU: 8080 = 0x1f90.
	b := EncodeSockaddr(netip.MustParseAddrPort("10.0.0.1:8080"))
	if b[2] != 0x1f || b[3] != 0x90 {
		t.Errorf("port bytes % x, want 1f 90 (htons)", b[2:4])
	}
	if _, err := ParseSockaddr(b[:7]); err == nil {
		t.Error("7-byte sockaddr_in accepted")
	}
	un := append(binary.NativeEndian.AppendUint16(nil, afUnix), "/tmp/sock\x00junk"...)
	if sa, _ := ParseSockaddr(un); sa.Path != "/tmp/sock" {
		t.Errorf("AF_UNIX path %q", sa.Path)
	}
}

func TestIovecMsghdr(t *testing.T) {
	var b []byte
	b = binary.NativeEndian.AppendUint64(b, 0x1000)
	b = binary.NativeEndian.AppendUint64(b, 12)
	b = binary.NativeEndian.AppendUint64(b, 0x2000)
	b = binary.NativeEndian.AppendUint64(b, 3)
	got := ParseIovecs(append(b, 1, 2, 3))
	if len(got) != 2 || got[0] != (Iovec{0x1000, 12}) || got[1] != (Iovec{0x2000, 3}) {
		t.Errorf("iovecs %+v", got)
	}
	m := make([]byte, msghdrSize)
	binary.NativeEndian.PutUint64(m[0:], 0x3000)
	binary.NativeEndian.PutUint32(m[8:], 16)
	binary.NativeEndian.PutUint64(m[16:], 0x4000)
	binary.NativeEndian.PutUint64(m[24:], 2)
	h, err := ParseMsghdr(m)
	if err != nil || h != (Msghdr{Name: 0x3000, NameLen: 16, Iov: 0x4000, IovLen: 2}) {
		t.Errorf("msghdr %+v %v", h, err)
	}
}

// FuzzSockaddr: any bytes decode without panicking; an AF_INET or
// AF_INET6 result encodes back to the same family, port and address bytes.
func FuzzSockaddr(f *testing.F) {
	f.Add(EncodeSockaddr(netip.MustParseAddrPort("127.0.0.1:8080")))
	f.Add(EncodeSockaddr(netip.MustParseAddrPort("[::1]:80")))
	f.Add([]byte{1, 0, '/', 't'})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		sa, err := ParseSockaddr(b)
		if err != nil {
			return
		}
		_ = sa.String()
		switch sa.Family {
		case afInet:
			if !sa.Addr.Addr().Is4() || !bytes.Equal(EncodeSockaddr(sa.Addr)[:8], b[:8]) {
				t.Fatalf("AF_INET % x decoded to %v", b, sa.Addr)
			}
		case afInet6:
			enc := EncodeSockaddr(netip.AddrPortFrom(sa.Addr.Addr().WithZone(""), sa.Addr.Port()))
			if !bytes.Equal(enc[:4], b[:4]) || !bytes.Equal(enc[8:24], b[8:24]) {
				t.Fatalf("AF_INET6 % x decoded to %v", b, sa.Addr)
			}
		}
	})
}

// FuzzArgs: iovec arrays and msghdrs decode without panicking, and an
// iovec array re-encodes to its own bytes.
func FuzzArgs(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0})
	f.Add(make([]byte, msghdrSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		iov := ParseIovecs(b)
		if len(iov) != len(b)/iovecSize {
			t.Fatalf("%d bytes gave %d iovecs", len(b), len(iov))
		}
		var re []byte
		for _, v := range iov {
			re = binary.NativeEndian.AppendUint64(re, v.Base)
			re = binary.NativeEndian.AppendUint64(re, v.Len)
		}
		if !bytes.Equal(re, b[:len(re)]) {
			t.Fatal("iovecs do not re-encode")
		}
		if m, err := ParseMsghdr(b); err == nil && m.IovLen != binary.NativeEndian.Uint64(b[24:32]) {
			t.Fatal("msghdr iovlen misread")
		}
	})
}
