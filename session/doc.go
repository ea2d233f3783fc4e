// Package session looks at TCP connections whole rather than segment by
// segment: it rebuilds the byte stream each side sent (Follower, as
// Wireshark's Follow TCP Stream does), recognises HTTP/1.x messages in it,
// gathers one connection's segments for drawing (Load), and sums up every
// connection of a capture in a table (Table).
//
// It reads frames through package pipeline and trusts package analysis for
// stream numbers, relative sequence numbers and verdicts, so what it shows
// agrees with "tcpscope replay". It never prints and keeps no global state.
package session
