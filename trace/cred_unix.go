//go:build unix

package trace

import "syscall"

// Credential is the user a traced program runs as.
type Credential = syscall.Credential
