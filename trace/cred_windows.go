package trace

// Credential is the user a traced program runs as; tracing needs Linux, so
// on Windows it only lets the package build.
type Credential struct {
	Uid, Gid uint32
	Groups   []uint32
}
