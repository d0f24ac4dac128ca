/*
 * What the line-mode frontends (text.c, batch.c) share: lines as wide as
 * the terminal, or as COLUMNS, or 80 where the output is a pipe or a file;
 * prose wrapped at blanks, paths and values printed whole; the summary;
 * when a progress line is due. See frontends.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "frontends.h"
#include "width.h"
#include "xmalloc.h"

#define LINE_COLUMNS_DEFAULT 80
#define LINE_COLUMNS_MIN 20
#define LINE_COLUMNS_MAX 1000

/* A width from the terminal or COLUMNS, when it is one to believe; else 0. */
static int
line_columns_sane(long cols)
{
	return cols >= LINE_COLUMNS_MIN && cols <= LINE_COLUMNS_MAX ? (int)cols : 0;
}

int
line_columns(FILE *out)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	char *end;
	long cols = 0;
	int fd = fileno(out);

	if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0)
		cols = line_columns_sane(ws.ws_col);
	if (cols == 0 && env != NULL && *env != '\0') {
		errno = 0;
		cols = strtol(env, &end, 10);
		cols = errno == 0 && *end == '\0' ? line_columns_sane(cols) : 0;
	}
	return (int)(cols != 0 ? cols : LINE_COLUMNS_DEFAULT) - 1;
}

void
line_wrapped(FILE *out, const char *prefix, const char *text, int hang)
{
	char *all = xasprintf("%s%s", prefix != NULL ? prefix : "", text != NULL ? text : ""),
	     **lines;
	size_t n, i;

	lines = width_wrap_whole(all, (size_t)(line_columns(out) - hang), &n);
	for (i = 0; i < n; i++)
		fprintf(out, "%*s%s\n", i > 0 && *lines[i] != '\0' ? hang : 0, "", lines[i]);
	xfree_argv(lines);
	free(all);
}

/* A path (it starts with '/' or '~') or a single word: shown whole, never wrapped. */
static int
line_is_unit(const char *value)
{
	return strchr(value, '\n') == NULL &&
	    (*value == '/' || *value == '~' || strpbrk(value, " \t") == NULL);
}

void
line_value(FILE *out, const char *prefix, const char *value, int hang)
{
	if (value == NULL || !line_is_unit(value)) {
		line_wrapped(out, prefix, value, hang);
		return;
	}
	fprintf(out, "%s%s\n", prefix != NULL ? prefix : "", value);
}

int
line_progress_due(struct line_progress *lp, const struct progress_state *s, int step, int seconds,
    int *percent)
{
	long now = (long)time(NULL);

	if (s->bytes_total == 0)
		return 0;
	*percent = (int)(s->bytes_done * 100 / s->bytes_total);
	if (*percent > 100)
		*percent = 100;
	if (*percent == lp->last_percent ||
	    (*percent / step == lp->last_percent / step && now - lp->last_time < seconds))
		return 0;
	lp->last_percent = *percent;
	lp->last_time = now;
	return 1;
}

void
line_summary(FILE *out, const struct fe_summary *s)
{
	size_t i;
	char *label;

	fputc('\n', out);
	line_wrapped(out, NULL, s->title, 0);
	for (i = 0; i < s->nentries; i++) {
		label = xasprintf("  %s ", s->entries[i].label);
		line_value(out, label, s->entries[i].value, 4);
		free(label);
	}
	if (s->reminder != NULL) {
		fputc('\n', out);
		line_wrapped(out, NULL, s->reminder, 0);
	}
	fflush(out);
}
