// Command loadgen makes the traffic of tcpscope's benchmark capture: many
// short request/response connections and a few bulk transfers, all on
// loopback, with a small echo-like server of its own. It exists so that
// "make bench" can record a large capture of real kernel TCP (with the loss
// the caller adds with nftables) in a network namespace, without depending
// on anything but Go.
//
// The reference peers (tcpscope server/client) are iterative and trace every
// socket call to stderr, which is right for a lecture but would spend the
// benchmark's time in printing; this generator makes the same kind of
// connections quietly and concurrently.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	short := flag.Int("short", 20000, "number of short request/response connections")
	conc := flag.Int("conc", 16, "short connections in flight at once")
	bulk := flag.Int("bulk", 4, "number of bulk transfers")
	bulkBytes := flag.Int64("bulk-bytes", 200<<20, "bytes sent by each bulk transfer")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	go serve(ln)
	target := ln.Addr().String()
	start := time.Now()

	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < *bulk; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := bulkSend(target, *bulkBytes); err != nil {
				failed.Add(1)
			}
		}()
	}
	var next atomic.Int64
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*short) {
				if err := shortConn(target); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(os.Stderr, "loadgen: %d short + %d bulk connections in %v, %d failed\n",
		*short, *bulk, time.Since(start).Round(time.Millisecond), failed.Load())
}

// serve answers each connection: a request starting with 'B' is a bulk
// upload, read to the end; anything else gets a 300-byte reply.
func serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 64<<10)
			n, err := c.Read(buf)
			if err != nil || n == 0 {
				return
			}
			if buf[0] == 'B' {
				io.CopyBuffer(io.Discard, c, buf)
				c.Write([]byte("done\n"))
				return
			}
			reply := make([]byte, 300)
			copy(reply, "HTTP/1.1 200 OK\r\n")
			c.Write(reply)
		}(c)
	}
}

func shortConn(target string) error {
	c, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")); err != nil {
		return err
	}
	_, err = io.ReadFull(c, make([]byte, 300))
	return err
}

func bulkSend(target string, n int64) error {
	c, err := net.Dial("tcp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	buf[0] = 'B'
	for sent := int64(0); sent < n; {
		k := int64(len(buf))
		if n-sent < k {
			k = n - sent
		}
		w, err := c.Write(buf[:k])
		if err != nil {
			return err
		}
		sent += int64(w)
	}
	c.(*net.TCPConn).CloseWrite()
	_, err = io.ReadAll(c)
	return err
}
