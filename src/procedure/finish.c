/*
 * The end of every recovery run: the quarantine's question, the report
 * (text, and JSON when asked), the summary on the operator's screen, and
 * the journal closed once the run has settled.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "i18n.h"
#include "xmalloc.h"

#define SUMMARY_MAX 10

static const char *
finish_step_result(enum fe_step_state s)
{
	switch (s) {
	case FE_STEP_DONE:
		return "done";
	case FE_STEP_FAILED:
		return "failed";
	case FE_STEP_SKIPPED:
		return "skipped";
	default:
		return "pending";
	}
}

static const char *
finish_outcome(const struct recovery *r, int code)
{
	if (r->opt->dry_run)
		return code == EXIT_RECOVERED ? "dry run" : "dry run failed";
	if (r->rolled_back)
		return "rolled back";
	if (r->declined)
		return "stopped by the operator";
	switch (code) {
	case EXIT_RECOVERED:
		return "recovered";
	case EXIT_BACKUP_UNUSABLE:
		return "backup unusable";
	case EXIT_PASSWORD_REFUSED:
		return "password refused";
	default:
		return "failed";
	}
}

/* Writes the text report (and JSON when asked); returns its path. */
static char *
finish_report(struct recovery *r, int code, const char *quarantine)
{
	struct report rep = { 0 };
	struct report_step rs[STEP_COUNT];
	char host[256], *path, *cause = NULL, *finished = log_iso_now();
	size_t i;

	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	for (i = 0; i < STEP_COUNT; i++) {
		rs[i].id = steps_table[i].id;
		rs[i].title = steps_table[i].title;
		rs[i].result = finish_step_result(r->steps[i].state);
	}
	rep.task = "recover";
	rep.outcome = finish_outcome(r, code);
	rep.exit_code = code;
	rep.started = r->started_iso;
	rep.finished = finished;
	rep.host = host;
	rep.service = r->profile->service_name;
	rep.kmsdata = r->kmsdata.path;
	rep.backup = r->journal->backup;
	rep.backup_sha256 = r->journal->backup_sha256;
	rep.manifest_found = r->staged.manifest_found;
	rep.files = r->staged.files;
	rep.bytes = r->staged.bytes;
	rep.quarantine = quarantine;
	rep.downtime = r->downtime;
	rep.transcript = r->transcript.path;
	rep.steps = rs;
	rep.nsteps = STEP_COUNT;
	rep.message = r->cause;
	rep.resumed = r->resumed_iso;
	rep.password = r->alpha_source;
	rep.password_kind = r->alpha_kind;
	rep.password_file = r->alpha_path;
	path = r->resumed_stamp != NULL ?
	    xasprintf("%s/report-%s.resumed-%s.txt", r->profile->state_dir, r->stamp,
		r->resumed_stamp) :
	    xasprintf("%s/report-%s.txt", r->profile->state_dir, r->stamp);
	if (r->opt->dry_run || report_write_text(&rep, path, &cause) != 0) {
		free(path);
		path = NULL;
	}
	if (cause != NULL)
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
	free(cause);
	cause = NULL;
	if (r->opt->report_json != NULL &&
	    report_write_json(&rep, r->opt->report_json, &cause) != 0)
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
	free(cause);
	free(finished);
	return path;
}

static void
finish_summary_add(struct fe_summary_line *lines, size_t *n, char **owned, const char *label,
    char *value)
{
	if (*n >= SUMMARY_MAX || value == NULL) {
		free(value);
		return;
	}
	lines[*n].label = label;
	lines[*n].value = value;
	owned[(*n)++] = value;
}

static void
finish_summary(struct recovery *r, int code, const char *quarantine, const char *report,
    char *demo_line)
{
	struct fe_summary_line lines[SUMMARY_MAX];
	char *owned[SUMMARY_MAX];
	struct fe_summary s = { 0 };
	size_t n = 0, i;

	s.success = code == EXIT_RECOVERED;
	if (r->rolled_back && code == EXIT_RECOVERED)
		s.title = _(
		    "Rolled back as asked: Kmsdata holds what it held before the recovery, and "
		    "the staged copy is removed.");
	else if (r->opt->dry_run)
		s.title = code == EXIT_RECOVERED ? _("Dry run complete: nothing was changed.") :
						   _("Dry run stopped: nothing was changed.");
	else if (code == EXIT_RECOVERED)
		s.title = _("The KM Server is recovered and running on the original data.");
	else
		s.title = _("The recovery did not complete.");
	if (code != EXIT_RECOVERED && r->cause != NULL)
		finish_summary_add(lines, &n, owned, _("What went wrong:"), xstrdup(r->cause));
	if (code != EXIT_RECOVERED && !r->opt->dry_run)
		finish_summary_add(lines, &n, owned, _("State:"), xstrdup(r->state_text));
	if (demo_line != NULL)
		finish_summary_add(lines, &n, owned, _("Keys:"), demo_line);
	if (r->journal->backup != NULL)
		finish_summary_add(lines, &n, owned, _("Backup:"), xstrdup(r->journal->backup));
	if (r->journal->backup_sha256 != NULL && *r->journal->backup_sha256 != '\0')
		finish_summary_add(lines, &n, owned, _("SHA-256:"),
		    xstrdup(r->journal->backup_sha256));
	if (r->staged_ok)
		finish_summary_add(lines, &n, owned,
		    r->opt->dry_run                            ? _("Checked:") :
			r->steps[STEP_4].state == FE_STEP_DONE ? _("Restored:") :
								 _("Checked and staged:"),
		    xasprintf(Q_("%1$" PRIu64 " file, %2$" PRIu64 " bytes",
				  "%1$" PRIu64 " files, %2$" PRIu64 " bytes", r->staged.files),
			r->staged.files, r->staged.bytes));
	if (r->downtime > 0)
		finish_summary_add(lines, &n, owned, _("Service down for:"),
		    xasprintf(_("%.1f seconds"), r->downtime));
	if (quarantine != NULL && code == EXIT_RECOVERED)
		finish_summary_add(lines, &n, owned, _("Quarantine:"), xstrdup(quarantine));
	if (report != NULL)
		finish_summary_add(lines, &n, owned, _("Report:"), xstrdup(report));
	if (r->transcript.path != NULL)
		finish_summary_add(lines, &n, owned, _("Transcript:"), xstrdup(r->transcript.path));
	s.entries = lines;
	s.nentries = n;
	if (code == EXIT_RECOVERED && !r->opt->dry_run && !r->rolled_back)
		s.reminder = _("Store the original startup disk, or the written alpha string, "
			       "somewhere safe: without it these keys cannot be recovered again.");
	r->fe->ops->summary(r->fe, &s);
	for (i = 0; i < n; i++)
		free(owned[i]);
}

/*
 * A run the operator ends before anything changed (Quit or No at step 1,
 * or at step 2's question) leaves nothing behind: the staged copy is
 * removed and the journal closed, so that the next run does not take it
 * for an interrupted recovery.
 */
static void
finish_unstage(struct recovery *r, int code)
{
	/* Interrupted (a signal, a dropped line), the journal stays: rule 4 offers Resume. */
	if (code == EXIT_RECOVERED || r->opt->dry_run || recovery_interrupted ||
	    r->journal == NULL || r->journal->phase != JOURNAL_STAGED || !r->staged_ok)
		return;
	if (rollback_unstage(r) != 0)
		return;
	transcript_write(&r->transcript, "nothing changed: the staged copy is removed");
	recovery_note(r, FE_INFO, NULL, "%s",
	    _("Nothing was changed, and the staged copy of the backup is removed."));
}

/* The end of every run: quarantine choice, report, summary, journal closed when settled. */
int
finish_run(struct recovery *r, int code)
{
	char *quarantine = NULL, *report, *demo_line = NULL, *cause = NULL;

	if (code == EXIT_RECOVERED && !r->opt->dry_run && !r->rolled_back) {
		quarantine = steps_finish_quarantine(r);
		if (r->opt->after != NULL && r->opt->after(r->opt->after_arg, &demo_line) != 0) {
			recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", demo_line);
			code = EXIT_FAILED;
		}
		r->steps[STEP_F].state = FE_STEP_DONE;
	}
	finish_unstage(r, code);
	transcript_write(&r->transcript, "outcome: %s (exit %d)", finish_outcome(r, code), code);
	report = finish_report(r, code, quarantine);
	finish_summary(r, code, quarantine, report, demo_line);
	if (!r->opt->dry_run && (r->journal->phase == JOURNAL_STARTED) &&
	    journal_close(r->journal, &cause) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
		free(cause);
	}
	free(quarantine);
	free(report);
	return code;
}
