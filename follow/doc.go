// Package follow shows one reassembled TCP connection (session.Load with
// LoadOptions.Follow) for people, as its chunks arrive: as text, as a hex
// dump, message by message when it carries HTTP/1.x, or as one file per
// direction (tcpflow's layout).
//
// A Writer holds nothing that grows with the stream, so a stream of any
// length is shown in bounded memory. Everything goes to an injected
// io.Writer (the files of Files go where its directory says); whether
// colour is on is the render.Theme's, decided by the command.
package follow
