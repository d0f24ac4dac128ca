/*
 * The transcript (log.h; DESIGN.md, rule 7): every action of a run, one
 * line each with its UTC time, continued lines indented, flushed to the
 * disk as it is written, in a file only root may read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "log.h"
#include "xmalloc.h"

int
transcript_open(struct transcript *t, const char *path, char **cause)
{
	t->path = xstrdup(path);
	if ((t->f = log_open_private(path, "a", O_APPEND)) == NULL) {
		/* TRANSLATORS: %1$s is a file's path, %2$s the system's reason. */
		*cause = xasprintf(_("cannot open the transcript %1$s: %2$s"), path,
		    strerror(errno));
		free(t->path);
		t->path = NULL;
		return -1;
	}
	return 0;
}

void
transcript_close(struct transcript *t)
{
	if (t->f != NULL)
		fclose(t->f);
	t->f = NULL;
	free(t->path);
	t->path = NULL;
}

void
transcript_write(struct transcript *t, const char *fmt, ...)
{
	va_list ap;
	char *text, *stamp, *p;

	if (t == NULL || t->f == NULL)
		return;
	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	stamp = log_iso_now();
	fprintf(t->f, "%s ", stamp);
	for (p = text; *p != '\0'; p++) {
		fputc(*p, t->f);
		if (*p == '\n' && p[1] != '\0')
			fputs("    ", t->f);
	}
	if (p == text || p[-1] != '\n')
		fputc('\n', t->f);
	fflush(t->f);
	fsync(fileno(t->f));
	free(stamp);
	free(text);
}
