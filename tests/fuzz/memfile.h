/*
 * The fuzz targets that read their input from a file (fuzz-backup,
 * fuzz-startup-disk): one memfd for the whole process, named by
 * /proc/self/fd/N, made to hold exactly each input in turn, so that no
 * iteration leaves a file or a descriptor behind.
 */
#ifndef KMSRECOVER_FUZZ_MEMFILE_H
#define KMSRECOVER_FUZZ_MEMFILE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_memfile {
	const char *name; /* the memfd's name, for /proc and error messages */
	int fd;           /* -1 until the first input */
	char path[64];    /* /proc/self/fd/N */
};

/* Makes the file hold exactly data; aborts, saying why, when it cannot. */
static inline void
fuzz_memfile_set(struct fuzz_memfile *f, const uint8_t *data, size_t size)
{
	const char *what = NULL;
	size_t done = 0;
	ssize_t n = 0;

	if (f->fd < 0 && (f->fd = memfd_create(f->name, MFD_CLOEXEC)) < 0)
		what = "memfd_create";
	else if (f->path[0] == '\0')
		snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	if (what == NULL && ftruncate(f->fd, 0) != 0)
		what = "ftruncate";
	while (what == NULL && done < size) {
		if ((n = pwrite(f->fd, data + done, size - done, (off_t)done)) <= 0)
			what = "pwrite";
		else
			done += (size_t)n;
	}
	if (what == NULL)
		return;
	fprintf(stderr, "fuzz: %s %s: %s\n", what, f->name,
	    n == 0 ? "short write" : strerror(errno));
	abort();
}

#endif
