/*
 * The fuzz targets that read their input from a file (fuzz-backup,
 * fuzz-startup-disk) write each input to the same regular file, in a
 * folder of the process's own under $TMPDIR that is removed at exit, so
 * that no iteration leaves a file or a descriptor behind. A real file,
 * not a memfd named by /proc/self/fd/N: that name is a symbolic link,
 * which the startup disk's reader refuses (O_NOFOLLOW), and every input
 * would stop at the open.
 */
#ifndef KMSRECOVER_FUZZ_INPUT_H
#define KMSRECOVER_FUZZ_INPUT_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fuzz_input {
	const char *name; /* the file's name in the folder */
	int fd;           /* -1 until the first input */
	char dir[PATH_MAX];
	char path[PATH_MAX];
};

static struct fuzz_input *fuzz_input_made;

static void
fuzz_input_remove(void)
{
	if (fuzz_input_made == NULL)
		return;
	close(fuzz_input_made->fd);
	unlink(fuzz_input_made->path);
	rmdir(fuzz_input_made->dir);
}

static inline void
fuzz_input_die(const struct fuzz_input *f, const char *what)
{
	fprintf(stderr, "fuzz: %s %s: %s\n", what, f->path[0] != '\0' ? f->path : f->name,
	    strerror(errno));
	abort();
}

/* The folder and the file, at the first input. */
static inline void
fuzz_input_open(struct fuzz_input *f)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	n = snprintf(f->dir, sizeof f->dir, "%s/kmsrecover-fuzz.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof f->dir || mkdtemp(f->dir) == NULL)
		fuzz_input_die(f, "mkdtemp");
	n = snprintf(f->path, sizeof f->path, "%s/%s", f->dir, f->name);
	if (n < 0 || (size_t)n >= sizeof f->path)
		fuzz_input_die(f, "snprintf");
	if ((f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		fuzz_input_die(f, "open");
	fuzz_input_made = f;
	atexit(fuzz_input_remove);
}

/* Makes the file hold exactly data; aborts, saying why, when it cannot. */
static inline void
fuzz_input_set(struct fuzz_input *f, const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (f->fd < 0)
		fuzz_input_open(f);
	if (ftruncate(f->fd, 0) != 0)
		fuzz_input_die(f, "ftruncate");
	while (done < size) {
		if ((n = pwrite(f->fd, data + done, size - done, (off_t)done)) <= 0) {
			if (n == 0)
				errno = EIO;
			fuzz_input_die(f, "pwrite");
		}
		done += (size_t)n;
	}
}

#endif
