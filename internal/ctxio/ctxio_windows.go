package ctxio

import (
	"context"
	"io"
	"os"
)

// On Windows there are no FIFOs to wait in open(2) and no /proc to reopen
// a pipe: a regular file's reads check the context; anything else (a
// console, an anonymous pipe on stdin) is read by a goroutine that is
// abandoned when the context ends. Writes are left as they are.

// Reader returns a reader of r whose Read returns ctx.Err() once ctx ends.
func Reader(ctx context.Context, r io.Reader) (_ io.Reader, release func()) {
	if ctx.Done() == nil {
		return r, func() {}
	}
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return &checkReader{ctx: ctx, r: f}, func() {}
		}
		return &goReader{ctx: ctx, r: f}, func() {}
	}
	return &checkReader{ctx: ctx, r: r}, func() {}
}

// Writer returns f: a console or file write does not block for long.
func Writer(ctx context.Context, f *os.File) (_ io.Writer, release func()) {
	return f, func() {}
}
