/*
 * What KB Q198814's steps 2-7 do, once confirmed (steps.c shows and asks):
 * each records its intent in the journal, acts, and records the result.
 * After the confirmations they run back to back, each shown as it runs;
 * with pause-between-steps each runs right after its own confirmation.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "fault.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

/* Shows step i as running under its confirmed action (not when it was just confirmed). */
static void
steps_running(struct recovery *r, int i)
{
	if (!r->pausing)
		steps_show(r, i, r->actions[i], 1);
}

/*
 * Before the stop, while the service still runs: the staged tree takes the
 * owner the profile asks for, so that step 4 is only renames, whatever
 * the number of files.
 */
static int
steps_settle_staged(struct recovery *r)
{
	char *cause = NULL;

	if (r->profile->owner == NULL)
		return 0;
	if (kmsdata_settle_staged(&r->kmsdata, r->journal->staged, r->journal->payload,
		r->profile->owner_uid, r->profile->owner_gid, &cause) == 0)
		return 0;
	recovery_fail(r, NULL, cause);
	return -1;
}

static double
steps_elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* Seconds since the epoch: what the journal keeps, across a reboot. */
static double
steps_wall_clock(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int
step2_stop(struct recovery *r)
{
	char *output = NULL, *cause = NULL, *holder = NULL;

	steps_running(r, STEP_2);
	if (r->opt->dry_run)
		return STEP_GO_ON;
	/* Kept in the journal: a run that resumes this one reports the whole downtime. */
	r->journal->stopped_at = steps_wall_clock();
	if (steps_settle_staged(r) != 0 || recovery_save(r, JOURNAL_STOPPING) != 0)
		return EXIT_FAILED;
	fault_point("before-stop");
	clock_gettime(CLOCK_MONOTONIC, &r->down_since);
	if (service_stop(r->profile, &output, &cause) != 0) {
		recovery_fail(r, output, cause);
		free(output);
		return EXIT_FAILED;
	}
	free(output);
	if (service_holders(r->kmsdata.path, &holder, &cause) > 0) {
		/* TRANSLATORS: %1$s is "PID (program)", %2$s the Kmsdata path. */
		r->cause = xasprintf(_("The service is stopped, but process %1$s still uses %2$s. "
				       "Stop it, then run kmsrecover again and choose Resume."),
		    holder, r->kmsdata.path);
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", r->cause);
		free(holder);
		return EXIT_FAILED;
	}
	free(cause);
	transcript_write(&r->transcript, "step 2: service %s stopped", r->profile->service_name);
	if (recovery_save(r, JOURNAL_STOPPED) != 0)
		return EXIT_FAILED;
	fault_point("stopped");
	return STEP_GO_ON;
}

/*
 * What now, once the service is down and something is not as it should be:
 * the first choice (go on, or try again), roll back, or quit. Returns 0, 1
 * or 2, or -1 with *reply when the frontend gave no answer.
 */
static int
steps_what_now(struct recovery *r, const char *key, const char *title, const char *first,
    const char *first_help, const char *first_key, int *reply)
{
	const char *choices[3], *help[3], *keys[3] = { first_key, "rollback", "quit" };
	struct fe_question q = { 0 };
	int choice = 2;

	choices[0] = first;
	choices[1] = _("&Roll back");
	choices[2] = _("&Quit");
	help[0] = first_help;
	help[1] = _("Put back the files that were in Kmsdata before the recovery; remove the "
		    "staged copy.");
	help[2] = _("Leave things as they are; run kmsrecover again later to resume or roll "
		    "back.");
	q.key = key;
	q.title = title;
	q.choices = choices;
	q.choice_help = help;
	q.choice_keys = keys;
	q.nchoices = 3;
	q.def = 0;
	*reply = ask_choose(r, &q, &choice);
	return *reply == FE_OK ? choice : -1;
}

/*
 * After the stop, before the files move: Kmsdata holds what step 3's screen
 * said (the same number of files; their sizes may differ, the service
 * writes its own logs as it stops). Otherwise the run stops and asks.
 */
static int
steps_recheck(struct recovery *r)
{
	uint64_t files = 0, bytes = 0;
	char *cause = NULL, *title;
	int choice, reply;

	if (r->pausing || r->opt->dry_run)
		return STEP_GO_ON;
	if (kmsdata_survey(&r->kmsdata, &files, &bytes, &cause) != 0) {
		recovery_fail(r, NULL, cause);
		return EXIT_FAILED;
	}
	if (files == r->files_before)
		return STEP_GO_ON;
	transcript_write(&r->transcript,
	    "step 3: Kmsdata holds %" PRIu64 " files, %" PRIu64 " when confirmed", files,
	    r->files_before);
	/* TRANSLATORS: %1$s the Kmsdata path, %2$ and %3$ file counts. */
	title = xasprintf(_("%1$s changed after you confirmed: it held %2$" PRIu64 " files, it "
			    "holds %3$" PRIu64 " now. What now?"),
	    r->kmsdata.path, r->files_before, files);
	choice = steps_what_now(r, "kmsdata-changed", title,
	    _("&Go on: move them all into the quarantine"),
	    _("Nothing is deleted: every file there now goes into the quarantine folder."), "go-on",
	    &reply);
	free(title);
	if (choice == 0) {
		r->files_before = files;
		r->bytes_before = bytes;
		return STEP_GO_ON;
	}
	if (choice == 1)
		return rollback_recovery(r);
	recovery_set_state(r);
	recovery_note(r, FE_WARNING, NULL, "%s", r->state_text);
	return reply == FE_ERROR ? EXIT_USAGE : EXIT_FAILED;
}

int
step3_clear(struct recovery *r)
{
	char *qpath, *cause = NULL;
	int ret;

	steps_running(r, STEP_3);
	if (r->opt->dry_run)
		return STEP_GO_ON;
	if ((ret = steps_recheck(r)) != STEP_GO_ON)
		return ret;
	if (recovery_save(r, JOURNAL_QUARANTINING) != 0)
		return EXIT_FAILED;
	fault_point("quarantining");
	qpath = xasprintf("%s/%s", r->kmsdata.parent, r->journal->quarantine);
	if (kmsdata_quarantine(&r->kmsdata, r->journal->quarantine, &cause) != 0) {
		recovery_fail(r, NULL, cause);
		free(qpath);
		return EXIT_FAILED;
	}
	transcript_write(&r->transcript, "step 3: Kmsdata moved to %s", qpath);
	free(qpath);
	ret = recovery_save(r, JOURNAL_QUARANTINED) != 0 ? EXIT_FAILED : STEP_GO_ON;
	fault_point("quarantined");
	return ret;
}

int
step4_restore(struct recovery *r)
{
	char *cause = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int ret;

	steps_running(r, STEP_4);
	if (r->opt->dry_run)
		return STEP_GO_ON;
	/* Step 2 of this run gave the tree its owner before the stop; a resumed run here. */
	if (r->profile->owner != NULL && r->down_since.tv_sec == 0 && r->down_since.tv_nsec == 0) {
		uid = r->profile->owner_uid;
		gid = r->profile->owner_gid;
	}
	if (recovery_save(r, JOURNAL_RESTORING) != 0)
		return EXIT_FAILED;
	fault_point("restoring");
	if (kmsdata_swap_in(&r->kmsdata, r->journal->staged, r->journal->payload, uid, gid,
		&cause) != 0) {
		recovery_fail(r, NULL, cause);
		return EXIT_FAILED;
	}
	transcript_write(&r->transcript, "step 4: %s restored from %s/%s%s%s", r->kmsdata.path,
	    r->kmsdata.parent, r->journal->staged, *r->journal->payload != '\0' ? "/" : "",
	    r->journal->payload);
	ret = recovery_save(r, JOURNAL_RESTORED) != 0 ? EXIT_FAILED : STEP_GO_ON;
	fault_point("restored");
	return ret;
}

int
step6_check(struct recovery *r)
{
	int ok;

	steps_running(r, STEP_6);
	if (r->opt->dry_run || r->profile->verify_argv == NULL)
		return STEP_GO_ON;
	ok = prereq_verify_alpha(r, r->kmsdata.path);
	return ok == 1 ? STEP_GO_ON : ok == 0 ? EXIT_PASSWORD_REFUSED : EXIT_FAILED;
}

/* After a failed start: another password, roll back, or quit. -1 to try again, or an exit code. */
static int
step7_failed(struct recovery *r)
{
	int choice, reply, ret;

	choice = steps_what_now(r, "start-failed", _("The service did not start. What now?"),
	    _("&Try another password"),
	    _("Type the alpha string again, or read another startup disk, and start again."),
	    "retry", &reply);
	if (choice < 0 || choice == 2) {
		recovery_set_state(r);
		recovery_note(r, FE_WARNING, NULL, "%s", r->state_text);
		return EXIT_FAILED;
	}
	if (choice == 1)
		return rollback_recovery(r);
	if ((ret = prereq_ask_alpha(r, 1)) != -1)
		return ret;
	if (r->profile->verify_argv != NULL && prereq_verify_alpha(r, r->kmsdata.path) != 1)
		return step7_failed(r);
	return STEP_GO_ON;
}

int
step7_start(struct recovery *r)
{
	char *output = NULL, *cause = NULL;
	int ret;

	steps_running(r, STEP_7);
	if (r->opt->dry_run)
		return STEP_GO_ON;
	for (;;) {
		if (recovery_save(r, JOURNAL_STARTING) != 0)
			return EXIT_FAILED;
		fault_point("starting");
		if (service_start(r->profile, r->alpha, &output, &cause) == 0)
			break;
		recovery_fail(r, output, cause);
		cause = NULL;
		free(output);
		output = NULL;
		if (recovery_save(r, JOURNAL_RESTORED) != 0)
			return EXIT_FAILED;
		if ((ret = step7_failed(r)) != STEP_GO_ON)
			return ret;
	}
	free(output);
	if (r->down_since.tv_sec != 0)
		r->downtime = steps_elapsed(&r->down_since);
	else if (r->journal->stopped_at > 0)
		/* Resumed: the service has been down since the interrupted run stopped it. */
		r->downtime = steps_wall_clock() - r->journal->stopped_at;
	transcript_write(&r->transcript, "step 7: service %s running", r->profile->service_name);
	free(r->cause);
	r->cause = NULL;
	return recovery_save(r, JOURNAL_STARTED) != 0 ? EXIT_FAILED : STEP_GO_ON;
}

/* Keep or remove the quarantine at the end. Returns its path when kept, else NULL. */
char *
steps_finish_quarantine(struct recovery *r)
{
	struct fe_question q = { 0 };
	struct progress_ctx ctx = { r, _("Removing the quarantine") };
	struct progress progress = { recovery_progress_cb, &ctx };
	char *qpath, *text, *cause = NULL;
	int remove = r->opt->remove_quarantine, reply;

	qpath = xasprintf("%s/%s", r->kmsdata.parent, r->journal->quarantine);
	if (!kmsdata_sibling_exists(&r->kmsdata, r->journal->quarantine) || r->opt->dry_run)
		return qpath;
	if (remove < 0) {
		/* TRANSLATORS: %s is the quarantine folder. */
		text = xasprintf(_("The files of the rebuilt installation are in %s. Keeping them "
				   "costs disk space; removing them cannot be undone."),
		    qpath);
		q.key = "remove-quarantine";
		q.title = _("Remove the quarantine folder?");
		q.text = text;
		q.destructive = 1;
		reply = r->fe->ops->confirm(r->fe, &q, &cause);
		free(cause);
		free(text);
		remove = reply == FE_OK;
	}
	if (!remove)
		return qpath;
	if (kmsdata_remove_sibling(&r->kmsdata, r->journal->quarantine, &progress, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return qpath;
	}
	transcript_write(&r->transcript, "quarantine %s removed", qpath);
	free(qpath);
	return NULL;
}
