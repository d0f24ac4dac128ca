/*
 * The benchmark's data (make bench, tests/bench/run.sh): synthetic Kmsdata
 * trees, the same bytes on every machine and every run (a fixed seed).
 *
 *   mkdata realistic DIR [SCALE]  DIR/Kmsmdb.edb (512 MiB) and 40 edb*.log
 *                                 files of 5 MiB, as a KM Server's is
 *   mkdata small DIR [SCALE]      100,000 files of 4 KiB in 100 folders
 *
 * SCALE (default 1) divides the sizes and counts, for a quick run. The
 * bytes look like database pages: each 4 KiB page is half random, half a
 * repeated record, so gzip and zstd have something to do (about 2:1) but
 * cannot make the archive vanish. DIR must not exist. Built on its own with
 * `cc -O2`; it uses nothing of kmsrecover.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MKDATA_SEED 0x4b4d5352454356ULL /* "KMSRECV" */
#define MKDATA_PAGE 4096
#define MKDATA_CHUNK (1024 * 1024)
#define MKDATA_MIB (1024ULL * 1024)

/* splitmix64: small, fast and the same everywhere. */
static uint64_t
mkdata_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* One page: a random half, then a record repeated (compressible). */
static void
mkdata_page(unsigned char *page, uint64_t *state, uint64_t number)
{
	uint64_t v;
	size_t i;
	int n;

	for (i = 0; i < MKDATA_PAGE / 2; i += sizeof v) {
		v = mkdata_next(state);
		memcpy(page + i, &v, sizeof v);
	}
	for (i = MKDATA_PAGE / 2; i < MKDATA_PAGE; i += (size_t)n) {
		n = snprintf((char *)page + i, MKDATA_PAGE - i, "page %08llu record ",
		    (unsigned long long)number);
		if (n <= 0 || (size_t)n >= MKDATA_PAGE - i) {
			memset(page + i, '.', MKDATA_PAGE - i);
			break;
		}
	}
}

static int
mkdata_write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A file of size bytes, its pages seeded from the file's number. */
static int
mkdata_file(const char *path, uint64_t size, uint64_t number)
{
	static unsigned char chunk[MKDATA_CHUNK];
	uint64_t state = MKDATA_SEED ^ (number * 0x100000001b3ULL), page = 0, done = 0;
	size_t len, i;
	int fd, ret = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "mkdata: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (done < size) {
		len = size - done < MKDATA_CHUNK ? (size_t)(size - done) : MKDATA_CHUNK;
		for (i = 0; i < len; i += MKDATA_PAGE)
			mkdata_page(chunk + i, &state, page++);
		if (mkdata_write_all(fd, chunk, len) != 0) {
			fprintf(stderr, "mkdata: %s: %s\n", path, strerror(errno));
			goto out;
		}
		done += len;
	}
	ret = 0;
out:
	if (close(fd) != 0 && ret == 0) {
		fprintf(stderr, "mkdata: %s: %s\n", path, strerror(errno));
		ret = -1;
	}
	return ret;
}

static int __attribute__((format(printf, 3, 4)))
mkdata_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "mkdata: path too long\n");
		return -1;
	}
	return 0;
}

/* One 512 MiB database and 40 logs of 5 MiB, divided by scale. */
static int
mkdata_realistic(const char *dir, unsigned long scale)
{
	char path[4096];
	unsigned long i;

	if (mkdata_path(path, sizeof path, "%s/Kmsmdb.edb", dir) != 0 ||
	    mkdata_file(path, 512 * MKDATA_MIB / scale, 0) != 0)
		return -1;
	for (i = 1; i <= 40; i++) {
		if (mkdata_path(path, sizeof path, "%s/edb%05lu.log", dir, i) != 0 ||
		    mkdata_file(path, 5 * MKDATA_MIB / scale, i) != 0)
			return -1;
	}
	return 0;
}

/* 100 folders of 1,000 files of 4 KiB; scale divides the files per folder. */
static int
mkdata_small(const char *dir, unsigned long scale)
{
	char path[4096];
	unsigned long d, f, per = 1000 / scale > 0 ? 1000 / scale : 1;

	for (d = 0; d < 100; d++) {
		if (mkdata_path(path, sizeof path, "%s/d%03lu", dir, d) != 0)
			return -1;
		if (mkdir(path, 0755) != 0) {
			fprintf(stderr, "mkdata: %s: %s\n", path, strerror(errno));
			return -1;
		}
		for (f = 0; f < per; f++) {
			if (mkdata_path(path, sizeof path, "%s/d%03lu/f%05lu.dat", dir, d, f) !=
				0 ||
			    mkdata_file(path, MKDATA_PAGE, 1000000 + d * 1000 + f) != 0)
				return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long scale = 1;
	char *end;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mkdata realistic|small DIR [SCALE]\n");
		return 2;
	}
	if (argc == 4) {
		errno = 0;
		scale = strtoul(argv[3], &end, 10);
		if (errno != 0 || *end != '\0' || scale == 0 || scale > 1000) {
			fprintf(stderr, "mkdata: bad scale %s\n", argv[3]);
			return 2;
		}
	}
	if (mkdir(argv[2], 0755) != 0) {
		fprintf(stderr, "mkdata: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (strcmp(argv[1], "realistic") == 0)
		return mkdata_realistic(argv[2], scale) != 0;
	if (strcmp(argv[1], "small") == 0)
		return mkdata_small(argv[2], scale) != 0;
	fprintf(stderr, "mkdata: unknown kind %s\n", argv[1]);
	return 2;
}
