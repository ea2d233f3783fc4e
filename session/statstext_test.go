package session

import (
	"bytes"
	"flag"
	"io"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/internal/golden"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

var update = flag.Bool("update", false, "rewrite golden files")

// statsCaptures are the captures the table tests print: IPv6, many short
// IPv4 connections with loss, and connections whose client is guessed.
var statsCaptures = []string{"lo-ipv6-loss.pcap", "lo-short-conns-loss.pcap", "zeek-redis-pubsub.pcap"}

// tableFirst runs a capture through the pipeline, as stats does, into a
// Table, and returns it with the first frame's time.
func tableFirst(t *testing.T, pcap string) (*Table, time.Time) {
	t.Helper()
	f, err := replay.Open(filepath.Join("..", "pcaps", pcap), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pl := pipeline.New(f, analysis.New(analysis.Options{NoNotes: true, NoBytesInFlight: true}))
	var tab Table
	var it pipeline.Item
	for {
		err := pl.Next(&it)
		if err == io.EOF {
			return &tab, pl.First.Time
		}
		if err != nil {
			t.Fatal(err)
		}
		tab.Add(&it)
	}
}

// TestStatsTextGolden: the table of each capture, as reviewed (the files
// were written by the table's earlier code in cmd/tcpscope, which built
// each cell as a string, and match it byte for byte).
func TestStatsTextGolden(t *testing.T) {
	for _, name := range statsCaptures {
		tab, first := tableFirst(t, name)
		var out bytes.Buffer
		if err := WriteStatsText(&out, tab.All(), first); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "stats", name+".txt.golden"), out.Bytes(), *update)
	}
}

// TestStatsTextAsTabwriter: WriteStatsText aligns its columns as
// text/tabwriter does with padding 2, given the same cells, for whole
// captures and for a table with a cell far wider than its padding string.
func TestStatsTextAsTabwriter(t *testing.T) {
	check := func(name string, conns []Conn, first time.Time) {
		t.Helper()
		var got, want bytes.Buffer
		if err := WriteStatsText(&got, func(yield func(Conn) bool) {
			for _, c := range conns {
				if !yield(c) {
					return
				}
			}
		}, first); err != nil {
			t.Fatal(err)
		}
		tw := tabwriter.NewWriter(&want, 0, 8, 2, ' ', 0)
		var r rowText
		row := func() {
			for i := range statsCells {
				tw.Write(r.cell(i))
				if i < statsCells-1 {
					tw.Write([]byte{'\t'})
				}
			}
			tw.Write([]byte{'\n'})
		}
		r.header()
		row()
		var tot Conn
		for i := range conns {
			tot.addTo(&conns[i], i == 0)
			r.conn(&conns[i], first)
			row()
		}
		r.total(&tot, len(conns), first)
		row()
		tw.Flush()
		if got.String() != want.String() {
			t.Errorf("%s: WriteStatsText:\n%s\ntabwriter:\n%s", name, got.String(), want.String())
		}
	}
	for _, name := range statsCaptures {
		tab, first := tableFirst(t, name)
		check(name, tab.Conns(), first)
	}
	// A guessed client of 48 characters pads the others' 10 by more than
	// len(spaces), and a stream number of 19 digits the others' one.
	wide := Conn{Stream: 1 << 62, Client: netip.MustParseAddrPort("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535"),
		Server: netip.MustParseAddrPort("1.2.3.4:80"), ClientGuessed: true}
	narrow := Conn{Stream: 2, Client: netip.MustParseAddrPort("10.0.0.1:1"), Server: netip.MustParseAddrPort("10.0.0.2:2")}
	if pad := len(wide.Client.String()) + 1 - len(narrow.Client.String()); pad <= len(spaces) {
		t.Fatalf("the wide client pads by %d, no more than len(spaces) %d", pad, len(spaces))
	}
	check("wide cells", []Conn{narrow, wide, narrow}, time.Time{})
	// A zone's letters are counted as runes, as tabwriter counts them,
	// in the client's and the server's column.
	zoned := Conn{Stream: 3, Client: netip.MustParseAddrPort("[fe80::1%éth0]:50000"), Server: netip.MustParseAddrPort("[fe80::2%→]:22")}
	check("zones", []Conn{narrow, zoned, narrow}, time.Time{})
}

// TestAppendSeconds3IsAppendFloat: the start and duration cells are what
// strconv.AppendFloat(d.Seconds(), 'f', 3) makes of them, at and around
// every kind of tie (a half millisecond whose float is exact, 0.0625 s,
// and one whose float is not, 1.0005 s), the limits of the integer path,
// negative durations and a million random ones.
func TestAppendSeconds3IsAppendFloat(t *testing.T) {
	ds := []time.Duration{0, 1, 499999, 500000, 500001, 999999, 1000000, 62500000, 62499999, 62500001,
		1000500000, 1000499999, 1000500001, 999999999, 1999500000, 1e6*time.Second - 1, 1e6 * time.Second,
		1e6*time.Second + 500000, -1, -500000, -1500000, 1<<63 - 1, -1 << 63}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000000 {
		switch d := time.Duration(rng.Int64N(int64(2e6 * time.Second))); rng.IntN(3) {
		case 0:
			ds = append(ds, d)
		case 1: // a nanosecond or two from a tie, up to 100 years (where the float is off by more)
			d = time.Duration(rng.Int64N(int64(100 * 365 * 24 * time.Hour)))
			ds = append(ds, d/time.Millisecond*time.Millisecond+500*time.Microsecond+time.Duration(rng.IntN(5)-2))
		default:
			ds = append(ds, time.Duration(rng.Int64N(int64(100*time.Second)))-50*time.Second)
		}
	}
	for _, d := range ds {
		if got, want := appendSeconds3(nil, d), strconv.AppendFloat(nil, d.Seconds(), 'f', 3, 64); string(got) != string(want) {
			t.Fatalf("%d ns: %s, AppendFloat %s", int64(d), got, want)
		}
	}
}

// TestMeasureIsWritten: the widths measure counts for a row are those of
// the cells conn writes, for every connection of the table captures and
// for made-up ones with every kind of address (IPv4, IPv6, IPv4-mapped,
// zones of any letters, none), start and duration (before the first frame,
// ties, past the integer path), count (a few negative) and handshake.
func TestMeasureIsWritten(t *testing.T) {
	var conns []Conn
	var firsts []time.Time
	for _, name := range statsCaptures {
		tab, first := tableFirst(t, name)
		for _, c := range tab.Conns() {
			conns, firsts = append(conns, c), append(firsts, first)
		}
	}
	addrs := []netip.AddrPort{{}, netip.MustParseAddrPort("1.2.3.4:80"), netip.MustParseAddrPort("255.255.255.255:65535"),
		netip.MustParseAddrPort("0.0.0.0:0"), netip.MustParseAddrPort("10.0.100.9:8080"), netip.MustParseAddrPort("[::1]:22"),
		netip.MustParseAddrPort("[::ffff:127.0.0.1]:5"), netip.MustParseAddrPort("[fe80::1%eth0]:443"),
		netip.MustParseAddrPort("[fe80::1%éth→]:1"), netip.MustParseAddrPort("[2001:db8::ff:1]:65535")}
	rng := rand.New(rand.NewPCG(3, 4))
	durs := func() time.Duration {
		switch rng.IntN(4) {
		case 0:
			return time.Duration(rng.Int64N(int64(10 * time.Second)))
		case 1:
			return time.Duration(rng.Int64N(1e6))*time.Millisecond + 500*time.Microsecond
		case 2:
			return -time.Duration(rng.Int64N(int64(time.Hour)))
		}
		return time.Duration(rng.Int64())
	}
	count := func() int { // any width, and now and then negative (none is, but the digits are counted as written)
		v := int(rng.Int64N(1 << uint(rng.IntN(63))))
		if rng.IntN(50) == 0 {
			v = -v - 1
		}
		return v
	}
	first := time.Unix(1700000000, 0)
	for range 20000 {
		c := Conn{Stream: count(), Client: addrs[rng.IntN(len(addrs))], Server: addrs[rng.IntN(len(addrs))],
			ClientGuessed: rng.IntN(2) == 0, First: first.Add(durs()), HasHandshake: rng.IntN(3) > 0, Handshake: durs(),
			Retransmissions: count(), DupAcks: count(), ZeroWindows: count()}
		c.Last = c.First.Add(durs())
		for d := range 2 {
			c.Packets[d], c.Bytes[d], c.Payload[d] = count(), count(), count()
		}
		conns, firsts = append(conns, c), append(firsts, first)
	}
	var r rowText
	for i := range conns {
		r.measure(&conns[i], firsts[i])
		measured := r.width
		r.conn(&conns[i], firsts[i])
		for k := range statsCells - 1 {
			if measured[k] != r.width[k] {
				t.Fatalf("%+v: cell %d %q is %d wide, measured %d", conns[i], k, r.cell(k), r.width[k], measured[k])
			}
		}
	}
}
