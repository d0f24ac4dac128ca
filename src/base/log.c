/*
 * What the transcript and the report share (log.h): the time now, in UTC,
 * and a file only its owner may read, created without following a link.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

/* Now, in UTC: compact for names, ISO 8601 for reading. */
static char *
log_now(int compact)
{
	char buf[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	gmtime_r(&now, &tm);
	n = compact ? strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm) :
		      strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (n == 0)
		buf[0] = '\0';
	return xstrdup(buf);
}

char *
log_stamp_now(void)
{
	return log_now(1);
}

char *
log_iso_now(void)
{
	return log_now(0);
}

FILE *
log_open_private(const char *path, const char *mode, int flags)
{
	int fd;
	FILE *f;

	fd = open(path, flags | O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return NULL;
	if (fchmod(fd, 0600) != 0 || (f = fdopen(fd, mode)) == NULL) {
		close(fd);
		return NULL;
	}
	return f;
}
