// Linux system calls that Swift's Glibc module does not import (glibc declares them only under
// _GNU_SOURCE). Used by DataIO to swap a finished results folder into place atomically, and by
// TensorCore to give worker threads the niceness of the thread that started them and to hand out
// pieces of work.
#ifndef SYSTEM_SHIMS_H
#define SYSTEM_SHIMS_H

/// Atomically exchanges the paths `a` and `b` (both must exist), renameat2(RENAME_EXCHANGE).
/// Returns 0 on success, -1 with errno set otherwise.
int shim_rename_exchange(const char *a, const char *b);

/// Atomically renames `from` to `to`, failing with EEXIST instead of replacing an existing `to`
/// (renameat2(RENAME_NOREPLACE)). Returns 0 on success, -1 with errno set otherwise.
int shim_rename_noreplace(const char *from, const char *to);

/// The scheduling niceness of the calling thread (Linux keeps one per thread: getpriority on
/// its thread id).
int shim_thread_niceness(void);

/// Sets the calling thread's niceness to `value` (setpriority on its thread id). Returns 0 on
/// success, -1 with errno set otherwise (e.g. EACCES when an unprivileged thread would raise its
/// priority).
int shim_set_thread_niceness(int value);

/// Atomically adds 1 to *counter and returns its previous value (sequentially consistent): the
/// next piece of work for `Parallel.forEachPiece`'s workers, which take pieces as they finish.
long shim_atomic_next(long *counter);

#endif
