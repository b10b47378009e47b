package broker

import "syscall"

// errTooManyFiles is retried by the accept loop: running out of file
// descriptors is temporary once connections close.
var errTooManyFiles error = syscall.EMFILE
