/*
 * The file system and the clock, the few calls every layer needs, written
 * once: whole writes and reads that retry what the kernel cuts short, a
 * flush that the fault injection can fail, a folder made durable, a tree
 * removed without following a symbolic link, and a clock that does not
 * jump. Each returns -1 with errno set on failure, and says nothing.
 */
#ifndef KMSRECOVER_FS_H
#define KMSRECOVER_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Writes all of buf, retrying short writes and EINTR. 0, or -1 with errno.
 * Each write(2) is a "write" for KMSRECOVER_FAULT (fault.h).
 */
int fs_write_all(int fd, const void *buf, size_t len);

/*
 * Reads up to len bytes, retrying short reads and EINTR; fewer only at the
 * end of the file. The count, or -1 with errno. Each read(2) is a "read"
 * for KMSRECOVER_FAULT.
 */
ssize_t fs_read_full(int fd, void *buf, size_t len);

/* fsync(fd), which KMSRECOVER_FAULT's "fsync" can fail. 0, or -1 with errno. */
int fs_fsync(int fd);

/* The folder path is in: "/" for "/x", "." for a bare name. Newly allocated. */
char *fs_folder_of(const char *path);

/*
 * Where a file goes when the operator names a path for it: the path itself,
 * or name inside it when it is a folder (a mounted medium). Newly allocated.
 */
char *fs_path_in(const char *given, const char *name);

/* Makes a rename or creation in the folder holding path durable (fsync of the folder). */
int fs_sync_parent(const char *path);

/*
 * Removes name under dir_fd (AT_FDCWD for a path) and everything below it,
 * never following a symbolic link; a folder without write permission for
 * its owner is given it first. 0, or -1 with errno (what could not be
 * removed is left).
 */
int fs_remove_tree(int dir_fd, const char *name);

/* CLOCK_MONOTONIC in nanoseconds: for timeouts, rates and durations. */
int64_t fs_monotonic_ns(void);

#endif
