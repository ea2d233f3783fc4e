package echo_test

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/tcpscope/tcpscope/ref/echo"
	"github.com/tcpscope/tcpscope/ref/sock"
)

// Example shows how a demo drives a server and a client in one process,
// printing every socket call of both as it happens. The printed descriptor
// numbers and ports differ from run to run, so the output is not checked.
func Example() {
	var mu sync.Mutex // server and client trace from different goroutines
	trace := func(e sock.Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Println(e.Format(false))
	}

	srv, err := echo.Listen(echo.ServerConfig{Trace: trace, MaxConns: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background()) }()

	_, err = echo.RunClient(context.Background(), echo.ClientConfig{
		Addr:  srv.Addr().String(),
		Lines: []string{"hello, world"},
		Trace: trace,
		Out:   os.Stdout,
	})
	if err != nil {
		fmt.Println(err)
	}
	if err := <-done; err != nil {
		fmt.Println(err)
	}
}
