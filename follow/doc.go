// Package follow shows one reassembled TCP connection (session.Load with
// LoadOptions.Follow) for people, as its chunks arrive: as text, as a hex
// dump, message by message when it carries HTTP/1.x, or as one file per
// direction (tcpflow's layout).
//
// A Writer holds nothing that grows with the stream, so a stream of any
// length is shown in bounded memory, and the text and hex views append
// each chunk into one reused buffer, allocating nothing per row or per
// chunk: a followed stream can be gigabytes, and following one must not
// be slower than replaying the capture. Everything goes to an injected
// io.Writer (the files of Files go where its directory says); whether
// colour is on is the render.Theme's, decided by the command.
package follow
