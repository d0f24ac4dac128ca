/*
 * The engine (see procedure.h). KB Q198814's steps are a table; procedure_run
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

/* The welcome screen; only the recovery is offered here. -1 to go on, or an exit code. */
static int
procedure_welcome(struct recovery *r, int *task)
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
	reply = r->fe->ops->welcome(r->fe, &q, &choice, &cause);
	free(text);
	if (reply == FE_AGAIN) {
		/* Another language: what is on screen is translated anew. */
		r->view.task_title = _("Recover the KM Server");
		recovery_set_state(r);
		*task = choice;
		return procedure_welcome(r, task);
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
procedure_unique_stamp(struct recovery *r)
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
procedure_new_run(struct recovery *r)
{
	char *path;
	int ret;

	journal_free(r->journal);
	r->journal = journal_new(r->profile->state_dir);
	r->journal->staged = kmsdata_staged_name(&r->kmsdata, r->stamp);
	if (r->transcript.f == NULL)
		procedure_unique_stamp(r);
	r->journal->stamp = xstrdup(r->stamp);
	r->journal->started = xstrdup(r->started_iso);
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
	if ((ret = run_steps(r, STEP_P)) == RUN_WELCOME)
		return ret;
	return finish_run(r, ret);
}

/* The recovery chosen: an interrupted one first (resume, roll back), else a new run. */
static int
procedure_recover(struct recovery *r)
{
	char *cause = NULL;
	int ret, first = STEP_P;

	/* (Back at the welcome screen: the journal of the run left is closed.) */
	journal_free(r->journal);
	r->journal = NULL;
	ret = journal_load(r->profile->state_dir, &r->journal, &cause);
	if (ret < 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_FAILED;
	}
	if (ret == 1 && (ret = resume_from_journal(r, &first)) != -1)
		return ret;
	if ((r->opt->resume || r->opt->rollback) && r->journal == NULL) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s",
		    _("There is no interrupted recovery to resume or roll back."));
		return EXIT_FAILED;
	}
	return procedure_new_run(r);
}

static int
procedure_start(struct recovery *r)
{
	char *cause = NULL;
	int ret, task = TASK_RECOVER;

	recovery_note_profile(r);
	if (kmsdata_open(&r->kmsdata, r->profile->kmsdata_path, &cause) != 0 ||
	    recovery_state_dir(r->profile->state_dir, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_FAILED;
	}
	/* Back from a task's first question comes here, to the welcome screen. */
	do {
		steps_view(r);
		r->view.task_title = _("Recover the KM Server");
		r->view.current = -1;
		if ((ret = procedure_welcome(r, &task)) != -1)
			return ret;
		ret = task != TASK_RECOVER ? task_dispatch(r, (enum recovery_task)task) :
					     procedure_recover(r);
	} while (ret == RUN_WELCOME);
	return ret;
}

int
procedure_run(struct profile *p, struct frontend *fe, const struct recovery_options *o)
{
	struct recovery r;
	char *cause = NULL;
	int ret;

	recovery_init(&r, p, fe, o);
	steps_view(&r);
	if (fe->ops->begin(fe, &r.view, &cause) != 0) {
		free(cause);
		recovery_release(&r);
		return EXIT_FAILED;
	}
	ret = procedure_start(&r);
	fe->ops->end(fe);
	recovery_release(&r);
	return ret;
}
