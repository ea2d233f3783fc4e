package capture

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tcpscope/tcpscope/frame"
)

// RotateOptions split a long capture over several files, as tcpdump's -C,
// -W and -G do, with tcpdump's file names, so scripts written for tcpdump
// find the files where they expect them.
type RotateOptions struct {
	// SizeMB (-C) starts a new file once the current one holds more than
	// SizeMB millions of bytes (tcpdump's unit: 1,000,000, not 2^20).
	SizeMB int
	// Files (-W): with SizeMB, a ring of that many files, the oldest
	// overwritten; with Interval alone, the capture stops after that many
	// files (ErrRotationDone).
	Files int
	// Interval (-G) starts a new file every Interval of wall-clock time;
	// the name is then passed through strftime (e.g. "cap-%H%M%S.pcap").
	Interval time.Duration
	// Force allows the first file of each name to replace an existing one
	// (files this capture made itself are reused in a ring regardless).
	Force bool
	// Now is the wall clock (time.Now when nil).
	Now func() time.Time
}

// ErrRotationDone ends a capture whose -G -W file budget is spent, as
// tcpdump exits with status 0 then.
var ErrRotationDone = errors.New("the last of the -W files is complete")

// Rotating writes frames to a sequence of capture files.
type Rotating struct {
	base    string
	link    frame.LinkType
	snaplen int
	o       RotateOptions
	w       *Writer
	cnt     int       // the counter in the current name
	opened  time.Time // when the current -G interval started (also its files' name time)
	files   int       // files started so far
	total   int       // frames in closed files
	mine    map[string]bool
	names   []string
}

// CreateRotating opens the first file named after base.
func CreateRotating(base string, lt frame.LinkType, snaplen int, o RotateOptions) (*Rotating, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SizeMB < 0 || o.Files < 0 || o.Interval < 0 {
		return nil, errors.New("-C, -W and -G must not be negative")
	}
	r := &Rotating{base: base, link: lt, snaplen: snaplen, o: o, mine: map[string]bool{}}
	if err := r.open(true); err != nil {
		return nil, err
	}
	return r, nil
}

// digits is tcpdump's width of the counter: enough for Files-1, and none
// when only -G rotates (the time in the name tells the files apart).
func (r *Rotating) digits() int {
	if r.o.Interval > 0 && r.o.SizeMB == 0 {
		return 0
	}
	n := 0
	for x := r.o.Files - 1; x > 0; x /= 10 {
		n++
	}
	return n
}

// name forms a file name as tcpdump's MakeFilename: strftime of the base
// with -G, then the counter, zero-padded to digits(), unless both are 0.
func (r *Rotating) name(now time.Time) string {
	n := r.base
	if r.o.Interval > 0 {
		n = Strftime(r.base, now)
	}
	d := r.digits()
	if r.cnt == 0 && d == 0 {
		return n
	}
	return fmt.Sprintf("%s%0*d", n, d, r.cnt)
}

// open starts the next file; newInterval: a -G interval starts with it
// (the first file, or a rotation by time). A rotation by size within an
// interval keeps the interval's time in the name, as tcpdump does.
func (r *Rotating) open(newInterval bool) error {
	if newInterval {
		r.opened = r.o.Now()
	}
	name := r.name(r.opened)
	w, err := Create(name, r.link, r.snaplen, r.o.Force || r.mine[name])
	if err != nil {
		return err
	}
	r.w = w
	r.mine[name] = true
	r.names = append(r.names, name)
	r.files++
	return nil
}

// Write appends a frame, first starting the next file when the current
// one is full (-C) or old enough (-G).
func (r *Rotating) Write(f frame.Frame) error {
	if err := r.next(); err != nil {
		return err
	}
	return r.w.Write(f)
}

// next starts the next file if the current one is full or old enough.
func (r *Rotating) next() error {
	bySize := r.o.SizeMB > 0 && r.w.Size() > int64(r.o.SizeMB)*1000000
	byTime := r.o.Interval > 0 && r.o.Now().Sub(r.opened) >= r.o.Interval
	if bySize || byTime {
		if byTime && r.o.SizeMB == 0 && r.o.Files > 0 && r.files >= r.o.Files {
			return ErrRotationDone
		}
		return r.rotate(byTime)
	}
	return nil
}

func (r *Rotating) rotate(byTime bool) error {
	r.total += r.w.Count()
	if err := r.w.Close(); err != nil {
		return err
	}
	switch {
	case byTime:
		r.cnt = 0 // a new time, a new name: the counter starts again
	default:
		r.cnt++
		if r.o.Files > 0 && r.cnt >= r.o.Files {
			r.cnt = 0 // the ring wraps: the oldest file is overwritten
		}
	}
	return r.open(byTime)
}

// WriteCommented is Write with a packet comment (pcapng files).
func (r *Rotating) WriteCommented(f frame.Frame, comment string) error {
	if err := r.next(); err != nil {
		return err
	}
	return r.w.WriteCommented(f, comment)
}

// Close completes the current file.
func (r *Rotating) Close() error { return r.w.Close() }

// Count is the number of frames written, in every file.
func (r *Rotating) Count() int { return r.total + r.w.Count() }

// Name is the current file's name.
func (r *Rotating) Name() string { return r.w.Name() }

// Names lists the files written, in order (a ring's reused names repeat).
func (r *Rotating) Names() []string { return r.names }

// Strftime formats t by a C strftime pattern, for -G file names: %Y %m %d
// %H %M %S %y %j %b %a %e %s %p %I %Z %F %T %%; any other %x is kept as
// it is. Local time, as tcpdump.
func Strftime(pattern string, t time.Time) string {
	t = t.Local()
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' || i+1 == len(pattern) {
			b.WriteByte(c)
			continue
		}
		i++
		switch pattern[i] {
		case 'Y':
			b.WriteString(t.Format("2006"))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'S':
			b.WriteString(t.Format("05"))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(pattern[i])
		}
	}
	return b.String()
}
