//go:build !linux

package sock

// No socket type flags to name where socket(2) has none (macOS).
const (
	sockCloexec  = 0
	sockNonblock = 0
)

// tcpOptionNames: only the options every system has (optionNames).
var tcpOptionNames = map[int]string{}
