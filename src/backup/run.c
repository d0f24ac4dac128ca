/*
 * What every part of one read uses: the first error kept, reads that retry
 * short counts, warnings for the result, the bytes read so far, progress
 * reported (from the original folder) with the operator's stop heard, and
 * the move into and out of the staging folder.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "i18n.h"
#include "xmalloc.h"
#include "backup-run.h"

/* The first error of a run is kept; later ones are consequences. */
int __attribute__((format(printf, 2, 3))) backup_error(struct backup_run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->cause == NULL) {
		va_start(ap, fmt);
		run->cause = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Probing.
 */

void
backup_result_warn(struct backup_result *result, const char *warning)
{
	size_t n = 0;

	while (result->warnings != NULL && result->warnings[n] != NULL)
		n++;
	result->warnings = xreallocarray(result->warnings, n + 2, sizeof *result->warnings);
	result->warnings[n] = xstrdup(warning);
	result->warnings[n + 1] = NULL;
}

uint64_t
backup_bytes_read(const struct backup_run *run)
{
	if (run->in != NULL)
		return run->in->raw_read;
	return run->walk != NULL ? run->walk->data_read : 0;
}

/*
 * The staging folder's side: the cwd, progress, durability, removal.
 */

/*
 * libarchive's disk writer works on paths: it runs with the staging folder
 * as cwd, entered at the first entry and left when the pass ends (and
 * around each progress report, which is made from the original cwd).
 */
int
backup_enter(struct backup_run *run)
{
	if (run->disk == NULL || run->inside)
		return 0;
	if (fchdir(run->staging_fd) != 0)
		return backup_error(run, _("Cannot enter the staging folder: %s."),
		    strerror(errno));
	run->inside = 1;
	return 0;
}

int
backup_leave(struct backup_run *run)
{
	if (!run->inside)
		return 0;
	if (fchdir(run->cwd_fd) != 0)
		return backup_error(run, _("Cannot leave the staging folder: %s."),
		    strerror(errno));
	run->inside = 0;
	return 0;
}

/* Reports progress (from the original cwd); stops when the operator asks. */
int
backup_report(struct backup_run *run)
{
	struct progress_state st;
	int inside = run->inside, r;

	memset(&st, 0, sizeof st);
	st.bytes_done = backup_bytes_read(run);
	st.bytes_total = run->in != NULL ? run->in->size : 0;
	st.files_done = run->files;
	st.current = run->current;
	run->last_progress = st.bytes_done;
	run->last_report = fs_monotonic_ns();
	if (backup_leave(run) != 0)
		return -1;
	r = progress_update(run->progress, &st);
	if (inside && backup_enter(run) != 0)
		return -1;
	if (r != 0)
		return backup_error(run, _("Reading the backup was stopped by the operator."));
	return 0;
}

/* Whether a new entry is worth a report (see BACKUP_PROGRESS_ENTRIES). */
int
backup_report_due(const struct backup_run *run)
{
	return run->entries < BACKUP_PROGRESS_ENTRIES ||
	    fs_monotonic_ns() - run->last_report >= BACKUP_PROGRESS_TICK;
}
