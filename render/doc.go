// Package render formats decoded, analyzed segments for people (coloured
// text, one line per segment, and summaries) and for programs (JSON lines,
// docs/packet-json.md). Everything goes to an injected io.Writer.
//
// It does not decide whether colour is on (the command does, once) and
// never feeds anything back into decoding or analysis.
package render
