//go:build darwin || freebsd || netbsd || openbsd

package replay

// mapPopulate is Linux's MAP_POPULATE; elsewhere each page is mapped when
// first read, as without it.
const mapPopulate = 0
