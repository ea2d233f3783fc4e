package replay

import "golang.org/x/sys/unix"

// mapPopulate maps a window's pages with the window (mapping.populate).
const mapPopulate = unix.MAP_POPULATE
