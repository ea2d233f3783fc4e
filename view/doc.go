// Package view is tcpscope's full-screen browser of a capture: the packet
// list (replay's line), the field view of the selected packet (decode's:
// offset, raw bytes, ntohs/ntohl, host value, meaning), the frame's bytes
// with the selected field's lit, and the ladder of its connection.
//
// A capture of millions of frames opens at once: an Index of the file is
// built in the background (each frame's offset and the analyzer's verdict
// in a few bytes, the notes compressed), and a frame on screen is read
// again from the file at its offset. The package draws with tcell (see
// the README's "Full-screen view" for why tcell and not a widget toolkit):
// the panes are drawn by hand, because a list of 1.35 M rows, a table
// that drops columns, and bytes lit by a field are not what widgets do.
package view
