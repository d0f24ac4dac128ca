/*
 * The engine (see procedure.h). KB Q198814's steps are a table; recovery_run
 * walks it, showing each step through the frontend, asking before each one
 * that changes something, and recording in the journal, before and after
 * every action, how far it has come. Resume continues from the journal;
 * roll back undoes in reverse. The backend modules do the work: this file
 * only sequences them and talks to the operator.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fault.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

volatile int recovery_interrupted;

void
recovery_note(struct recovery *r, enum fe_level level, const char *detail, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	transcript_write(&r->transcript, "%s%s%s", text, detail != NULL ? "\n" : "",
	    detail != NULL ? detail : "");
	r->fe->note(r->fe, level, text, detail);
	free(text);
}

int
recovery_progress(struct recovery *r, const char *label, const struct progress_state *s)
{
	if (recovery_interrupted)
		return 1;
	return r->fe->progress(r->fe, label, s);
}

int
recovery_progress_cb(void *arg, const struct progress_state *s)
{
	struct progress_ctx *ctx = arg;

	return recovery_progress(ctx->r, ctx->label, s);
}

/* The sentence the quit confirmation shows: where Kmsdata and the service stand. */
void
recovery_set_state(struct recovery *r)
{
	const char *text;
	enum journal_phase phase = r->journal != NULL ? r->journal->phase : JOURNAL_STAGING;
	int unfinished = r->journal != NULL && phase > JOURNAL_STAGED && phase < JOURNAL_STARTED;

	if (r->journal == NULL || phase <= JOURNAL_STAGED)
		text = _("Nothing has been changed yet: the service runs as before and Kmsdata is "
			 "untouched.");
	else if (phase <= JOURNAL_STOPPED)
		text = _("The service is stopped. Kmsdata is untouched.");
	else if (phase <= JOURNAL_QUARANTINED)
		text = _("The service is stopped. Kmsdata's files are in the quarantine folder and "
			 "Kmsdata is empty.");
	else if (phase <= JOURNAL_STARTING)
		text = _("The service is stopped. Kmsdata holds the restored backup.");
	else
		text = _("The service is running on the restored data.");
	if (r->rolled_back) {
		text = _("Rolled back: Kmsdata holds what it held before the recovery.");
		unfinished = 0;
	}
	free(r->state_plain);
	r->state_plain = xstrdup(text);
	free(r->state_text);
	/* The advice is a sentence of its own, after the state. */
	r->state_text = unfinished ?
	    xasprintf("%s %s", text, _("Run kmsrecover again to resume or roll back.")) :
	    xstrdup(text);
	r->view.state_text = r->state_text;
}

int
recovery_save(struct recovery *r, enum journal_phase phase)
{
	char *cause = NULL;

	if (r->opt->dry_run)
		return 0;
	r->journal->phase = phase;
	if (journal_save(r->journal, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(r->cause);
		r->cause = cause;
		return -1;
	}
	transcript_write(&r->transcript, "journal: %s", journal_phase_name(phase));
	recovery_set_state(r);
	return 0;
}

static const char *
recovery_step_result(enum fe_step_state s)
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
recovery_outcome(const struct recovery *r, int code)
{
	if (r->opt->dry_run)
		return code == EXIT_RECOVERED ? "dry run" : "dry run failed";
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
recovery_report(struct recovery *r, int code, const char *quarantine)
{
	struct report rep = { 0 };
	struct report_step rs[STEP_COUNT];
	char host[256], *path, *cause = NULL, *finished = log_iso_now();
	size_t i;

	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	for (i = 0; i < STEP_COUNT; i++) {
		rs[i].id = recovery_step_table[i].id;
		rs[i].title = recovery_step_table[i].title;
		rs[i].result = recovery_step_result(r->steps[i].state);
	}
	rep.task = "recover";
	rep.outcome = recovery_outcome(r, code);
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
	path = xasprintf("%s/report-%s.txt", r->profile->state_dir, r->stamp);
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

#define SUMMARY_MAX 10

static void
summary_add(struct fe_summary_line *lines, size_t *n, char **owned, const char *label, char *value)
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
recovery_summary(struct recovery *r, int code, const char *quarantine, const char *report,
    char *demo_line)
{
	struct fe_summary_line lines[SUMMARY_MAX];
	char *owned[SUMMARY_MAX];
	struct fe_summary s = { 0 };
	size_t n = 0, i;

	s.success = code == EXIT_RECOVERED;
	if (r->opt->dry_run)
		s.title = code == EXIT_RECOVERED ? _("Dry run complete: nothing was changed.") :
						   _("Dry run stopped: nothing was changed.");
	else if (code == EXIT_RECOVERED)
		s.title = _("The KM Server is recovered and running on the original data.");
	else
		s.title = _("The recovery did not complete.");
	if (code != EXIT_RECOVERED && r->cause != NULL)
		summary_add(lines, &n, owned, _("What went wrong:"), xstrdup(r->cause));
	if (code != EXIT_RECOVERED && !r->opt->dry_run)
		summary_add(lines, &n, owned, _("State:"), xstrdup(r->state_text));
	if (demo_line != NULL)
		summary_add(lines, &n, owned, _("Keys:"), demo_line);
	if (r->journal->backup != NULL)
		summary_add(lines, &n, owned, _("Backup:"), xstrdup(r->journal->backup));
	if (r->journal->backup_sha256 != NULL && *r->journal->backup_sha256 != '\0')
		summary_add(lines, &n, owned, _("SHA-256:"), xstrdup(r->journal->backup_sha256));
	if (r->staged_ok)
		summary_add(lines, &n, owned,
		    r->steps[STEP_4].state == FE_STEP_DONE ? _("Restored:") :
							     _("Checked and staged:"),
		    xasprintf(Q_("%1$" PRIu64 " file, %2$" PRIu64 " bytes",
				  "%1$" PRIu64 " files, %2$" PRIu64 " bytes", r->staged.files),
			r->staged.files, r->staged.bytes));
	if (r->downtime > 0)
		summary_add(lines, &n, owned, _("Service down for:"),
		    xasprintf(_("%.1f seconds"), r->downtime));
	if (quarantine != NULL && code == EXIT_RECOVERED)
		summary_add(lines, &n, owned, _("Quarantine:"), xstrdup(quarantine));
	if (report != NULL)
		summary_add(lines, &n, owned, _("Report:"), xstrdup(report));
	if (r->transcript.path != NULL)
		summary_add(lines, &n, owned, _("Transcript:"), xstrdup(r->transcript.path));
	s.entries = lines;
	s.nentries = n;
	if (code == EXIT_RECOVERED && !r->opt->dry_run)
		s.reminder = _("Store the original startup disk, or the written alpha string, "
			       "somewhere safe: without it these keys cannot be recovered again.");
	r->fe->summary(r->fe, &s);
	for (i = 0; i < n; i++)
		free(owned[i]);
}

/* The end of every run: quarantine choice, report, summary, journal closed when settled. */
int
recovery_finish(struct recovery *r, int code)
{
	char *quarantine = NULL, *report, *demo_line = NULL, *cause = NULL;

	if (code == EXIT_RECOVERED && !r->opt->dry_run) {
		quarantine = steps_finish_quarantine(r);
		if (r->opt->after != NULL && r->opt->after(r->opt->after_arg, &demo_line) != 0) {
			recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", demo_line);
			code = EXIT_FAILED;
		}
		r->steps[STEP_F].state = FE_STEP_DONE;
	}
	transcript_write(&r->transcript, "outcome: %s (exit %d)", recovery_outcome(r, code), code);
	report = recovery_report(r, code, quarantine);
	recovery_summary(r, code, quarantine, report, demo_line);
	if (!r->opt->dry_run && (r->journal->phase == JOURNAL_STARTED) &&
	    journal_close(r->journal, &cause) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
		free(cause);
	}
	free(quarantine);
	free(report);
	return code;
}
int
recovery_open_transcript(struct recovery *r, const char *path)
{
	char *cause = NULL;

	if (r->opt->dry_run)
		return 0;
	if (transcript_open(&r->transcript, path, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return -1;
	}
	r->view.transcript_path = r->transcript.path;
	return 0;
}

/* Runs the steps from first on. Back (-2) goes one step back; P starts over. */
int
recovery_steps(struct recovery *r, int first)
{
	int i = first, ret;

	while (i < STEP_COUNT) {
		if (recovery_interrupted)
			return EXIT_FAILED;
		ret = recovery_step_table[i].run(r);
		if (ret == -2 && i > STEP_P) {
			r->steps[i].state = FE_STEP_PENDING;
			i--;
			if (i == STEP_P && r->staged_ok && recovery_discard_staged(r) == 0) {
				journal_close(r->journal, &r->cause);
				r->staged_ok = 0;
			}
			continue;
		}
		if (ret != -1) {
			/* A step the operator declined did not fail: it was not run. */
			r->steps[i].state = r->declined ? FE_STEP_PENDING : FE_STEP_FAILED;
			return ret;
		}
		r->steps[i].state = FE_STEP_DONE;
		i++;
	}
	return EXIT_RECOVERED;
}

void
recovery_init(struct recovery *r, struct profile *p, struct frontend *fe,
    const struct recovery_options *o)
{
	size_t i;

	memset(r, 0, sizeof *r);
	r->profile = p;
	r->fe = fe;
	r->opt = o;
	r->kmsdata.parent_fd = -1;
	r->downtime = -1;
	r->stamp = log_stamp_now();
	r->started_iso = log_iso_now();
	for (i = 0; i < STEP_COUNT; i++) {
		r->steps[i].id = recovery_step_table[i].id;
		r->steps[i].title = recovery_step_table[i].title;
		r->steps[i].state = FE_STEP_PENDING;
	}
	r->view.task_title = _("Recover the KM Server");
	r->view.service_name = p->service_name;
	r->view.manager = profile_manager_name(p->manager);
	r->view.kmsdata = p->kmsdata_path;
	r->view.steps = r->steps;
	r->view.nsteps = STEP_COUNT;
	r->view.current = -1;
	recovery_set_state(r);
}

void
recovery_release(struct recovery *r)
{
	secret_free(r->alpha);
	secret_free(r->passphrase);
	free(r->alpha_source);
	free(r->backup);
	backup_result_free(&r->staged);
	journal_free(r->journal);
	transcript_close(&r->transcript);
	kmsdata_close(&r->kmsdata);
	free(r->stamp);
	free(r->started_iso);
	free(r->state_text);
	free(r->state_plain);
	free(r->cause);
}

/* mkdir -p for the state directory, 0700. */
int
recovery_state_dir(const char *dir, char **cause)
{
	char *copy = xstrdup(dir), *p;
	int ret = 0;

	for (p = copy + 1; ret == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		int end = *p == '\0';
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			/* TRANSLATORS: %1$s is a folder, %2$s the system's reason. */
			*cause = xasprintf(_("cannot create the state folder %1$s: %2$s"), dir,
			    strerror(errno));
			ret = -1;
		}
		if (end)
			break;
		*p = '/';
	}
	free(copy);
	return ret;
}

/* The welcome screen; only the recovery is offered here. -1 to go on, or an exit code. */
static int
recovery_welcome(struct recovery *r, int *task)
{
	static const char *keys[] = { "recover", "backup", "startup-disk", "rehearse" };
	const char *choices[4], *help[4];
	struct fe_question q = { 0 };
	char *cause = NULL, *text;
	int choice = 0, reply;

	choices[0] = _("&Recover the KM Server from a backup");
	choices[1] = _("&Back up Kmsdata (before a rebuild)");
	choices[2] = _("Make a &startup disk");
	choices[3] = _("Re&hearse a recovery on a throw-away copy");
	help[0] = _("After a complete rebuild: KB Q198814, step by step.");
	help[1] = _("Stops the service briefly, archives Kmsdata with a manifest, reads it back.");
	help[2] = _("Writes KMSPWD.INI with the alpha string and reads it back.");
	help[3] = _("Proves that a backup and a password recover the server; changes nothing.");
	/* TRANSLATORS: %1$s is the service name, %2$s the Kmsdata path. */
	text = xasprintf(
	    _("kmsrecover restores the Key Management Server (%1$s) after a "
	      "complete rebuild, following Microsoft KB Q198814: it stops the service, "
	      "moves the files in %2$s aside, restores them from your backup, and starts "
	      "the service with the ORIGINAL startup password.\n\n"
	      "You need:\n"
	      "  - the backup of Kmsdata from the original server;\n"
	      "  - the ORIGINAL alpha string, or the original startup disk (KMSPWD.INI).\n\n"
	      "Nothing is changed until the backup and the password have been checked, "
	      "and you confirm every step."),
	    r->profile->service_name, r->kmsdata.path);
	q.key = "task";
	q.title = _("Welcome");
	q.text = text;
	q.choices = choices;
	q.choice_help = help;
	q.choice_keys = keys;
	q.nchoices = r->opt->choose_task ? 4 : 1;
	q.def = *task;
	reply = r->fe->welcome(r->fe, &q, &choice, &cause);
	free(text);
	if (reply == FE_AGAIN) {
		/* Another language: what is on screen is translated anew. */
		r->view.task_title = _("Recover the KM Server");
		recovery_set_state(r);
		*task = choice;
		return recovery_welcome(r, task);
	}
	if (reply == FE_ERROR) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_USAGE;
	}
	*task = choice;
	return reply == FE_OK ? -1 : EXIT_FAILED;
}

/* Two runs in the same second get their own stamps (and so their own folders and files). */
static void
recovery_unique_stamp(struct recovery *r)
{
	char *path, *stamp;
	int n;

	for (n = 2; n < 100; n++) {
		path = xasprintf("%s/transcript-%s.log", r->profile->state_dir, r->stamp);
		if (access(path, F_OK) != 0 &&
		    !kmsdata_sibling_exists(&r->kmsdata, r->journal->staged)) {
			free(path);
			return;
		}
		free(path);
		stamp = xasprintf("%.16s-%d", r->stamp, n);
		free(r->stamp);
		r->stamp = stamp;
		free(r->journal->staged);
		r->journal->staged = kmsdata_staged_name(&r->kmsdata, r->stamp);
	}
}

static int
recovery_new_run(struct recovery *r)
{
	char *path;

	journal_free(r->journal);
	r->journal = journal_new(r->profile->state_dir);
	r->journal->staged = kmsdata_staged_name(&r->kmsdata, r->stamp);
	if (r->transcript.f == NULL)
		recovery_unique_stamp(r);
	r->journal->stamp = xstrdup(r->stamp);
	r->journal->kmsdata = xstrdup(r->kmsdata.path);
	r->journal->quarantine = kmsdata_quarantine_name(&r->kmsdata, r->stamp);
	r->journal->payload = xstrdup("");
	if (r->transcript.f == NULL) {
		path = xasprintf("%s/transcript-%s.log", r->profile->state_dir, r->stamp);
		if (recovery_open_transcript(r, path) != 0) {
			free(path);
			return EXIT_FAILED;
		}
		free(path);
	}
	r->journal->transcript = r->transcript.path != NULL ? xstrdup(r->transcript.path) : NULL;
	transcript_write(&r->transcript, "kmsrecover %s: recovery of %s, Kmsdata %s%s",
	    PACKAGE_VERSION, r->profile->service_name, r->kmsdata.path,
	    r->opt->dry_run ? " (dry run)" : "");
	return recovery_finish(r, recovery_steps(r, STEP_P));
}

static int
recovery_start(struct recovery *r)
{
	char *cause = NULL;
	int ret, first = STEP_P, task = TASK_RECOVER;

	if (kmsdata_open(&r->kmsdata, r->profile->kmsdata_path, &cause) != 0 ||
	    recovery_state_dir(r->profile->state_dir, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_FAILED;
	}
	if ((ret = recovery_welcome(r, &task)) != -1)
		return ret;
	if (task != TASK_RECOVER)
		return task_dispatch(r, (enum recovery_task)task);
	ret = journal_load(r->profile->state_dir, &r->journal, &cause);
	if (ret < 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_FAILED;
	}
	if (ret == 1 && (ret = recovery_from_journal(r, &first)) != -1)
		return ret;
	if (r->opt->resume || r->opt->rollback) {
		if (r->journal == NULL) {
			recovery_note(r, FE_ERROR_LEVEL, NULL, "%s",
			    _("There is no interrupted recovery to resume or roll back."));
			return EXIT_FAILED;
		}
	}
	return recovery_new_run(r);
}

int
recovery_run(struct profile *p, struct frontend *fe, const struct recovery_options *o)
{
	struct recovery r;
	char *cause = NULL;
	int ret;

	recovery_init(&r, p, fe, o);
	if (fe->begin(fe, &r.view, &cause) != 0) {
		free(cause);
		recovery_release(&r);
		return EXIT_FAILED;
	}
	ret = recovery_start(&r);
	fe->end(fe);
	recovery_release(&r);
	return ret;
}
