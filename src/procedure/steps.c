/*
 * KB Q198814's steps (see procedure.c for the engine that runs them): each
 * is an entry of steps_table with its title, its explanation in
 * the project's own words, and the function that shows what it will do,
 * asks, records the intent in the journal, acts, and records the result.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "fault.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

static int step_prerequisites(struct recovery *);
static int step1_check(struct recovery *);
static int step2_stop(struct recovery *);
static int step3_clear(struct recovery *);
static int step4_restore(struct recovery *);
static int step5_select(struct recovery *);
static int step6_password(struct recovery *);
static int step7_start(struct recovery *);
static int step_finish(struct recovery *);

const struct step steps_table[STEP_COUNT] = {
	{ "P", 0, N_("Prerequisites"),
	    N_("A recovery needs two things from before the rebuild: a backup of the Kmsdata "
	       "folder of the original KM Server, and the ORIGINAL startup password (the alpha "
	       "string), typed or read from the original startup disk (KMSPWD.INI).\n\n"
	       "The backup is read once, from end to end, into a staging folder beside Kmsdata, "
	       "and every file is checked against the backup's MANIFEST.sha256. Where the profile "
	       "names a verifier, the password is tried on the staged copy. Nothing on the "
	       "server is changed until both have passed."),
	    0, step_prerequisites, JOURNAL_STAGED },
	{ "1", 1, N_("Check the reinstalled KM Server"),
	    N_("The KB's first step is to reinstall Exchange, its service packs and the Key "
	       "Management Server. That has been done already; kmsrecover checks that the "
	       "service and its Kmsdata folder are there."),
	    0, step1_check, -1 },
	{ "2", 2, N_("Stop the KM Server service"),
	    N_("The service must not hold its files while they are replaced. kmsrecover stops "
	       "it through the service manager, waits until it is stopped, and checks that no "
	       "process still has a file open in Kmsdata.\n\n"
	       "From here until step 7 the KM Server is down; because the backup is already "
	       "staged and checked, that is a matter of seconds."),
	    0, step2_stop, JOURNAL_STOPPED },
	{ "3", 3, N_("Clear the Kmsdata folder"),
	    N_("The KB says to delete every file in Kmsdata. kmsrecover does not delete them: "
	       "it moves them into a quarantine folder beside Kmsdata, which is instant and can "
	       "be undone. At the end you choose whether to keep the quarantine or remove it."),
	    1, step3_clear, JOURNAL_QUARANTINED },
	{ "4", 4, N_("Restore Kmsdata from the backup"),
	    N_("The staged copy of the backup, already read and checked, is moved into Kmsdata "
	       "as a whole, with renames on the same file system, so Kmsdata is never half "
	       "restored. Ownership and modes are set as the profile asks, and everything is "
	       "flushed to disk before the next step."),
	    1, step4_restore, JOURNAL_RESTORED },
	{ "5", 5, N_("Select the KM Server service"),
	    N_("This is the service that will be started with the original password."), 0,
	    step5_select, -1 },
	{ "6", 6, N_("Give the original startup password"),
	    N_("The KM Server needs the alpha string at start-up, typed or from the startup "
	       "disk. It must be the ORIGINAL one: a wrong one is refused with Event 5057 "
	       "\"The supplied password is not valid\". The password is handed to the service "
	       "directly, never on a command line, and is not shown or logged."),
	    0, step6_password, -1 },
	{ "7", 7, N_("Start the KM Server service"),
	    N_("kmsrecover starts the service with the original password and waits until it is "
	       "running. If it does not start, its own output is shown and you can try another "
	       "password, roll back to the state before the recovery, or quit."),
	    0, step7_start, JOURNAL_STARTED },
	{ "F", 0, N_("Finish"),
	    N_("The recovery is over. The report records the backup and its SHA-256, what was "
	       "restored and each step's result."),
	    0, step_finish, -1 },
};

void
steps_view(struct recovery *r)
{
	size_t i;

	for (i = 0; i < STEP_COUNT; i++) {
		r->steps[i].id = steps_table[i].id;
		r->steps[i].title = steps_table[i].title;
		r->steps[i].state = FE_STEP_PENDING;
	}
	r->view.steps = r->steps;
	r->view.nsteps = STEP_COUNT;
}

/* Shows step i with the action text, and sets its state in the list. */
static void
steps_show(struct recovery *r, int i, const char *action)
{
	struct fe_step_info info = { 0 };

	r->view.current = i;
	r->steps[i].state = FE_STEP_RUNNING;
	info.id = steps_table[i].id;
	info.number = steps_table[i].number;
	info.title = _(steps_table[i].title);
	info.explanation = _(steps_table[i].explanation);
	info.action = action;
	info.destructive = steps_table[i].destructive;
	r->fe->ops->step(r->fe, &info);
}

/*
 * The confirmation before a step that changes something. Returns -1 to go
 * ahead, or an exit code (FE_NO and FE_QUIT end the run; the journal says
 * where it stands).
 */
static int
steps_confirm(struct recovery *r, const char *key, const char *title, const char *text,
    int destructive, int can_back, int *back)
{
	struct fe_question q = { 0 };
	int reply;

	if (r->opt->dry_run)
		return STEP_GO_ON;
	q.key = key;
	q.title = title;
	q.text = text;
	q.destructive = destructive;
	q.def = !destructive;
	q.can_back = can_back;
	reply = ask_confirm(r, &q);
	transcript_write(&r->transcript, "%s: %s", key,
	    reply == FE_OK       ? "yes" :
		reply == FE_NO   ? "no" :
		reply == FE_BACK ? "back" :
				   "quit");
	if (reply == FE_OK)
		return STEP_GO_ON;
	if (reply == FE_BACK && back != NULL) {
		*back = 1;
		return STEP_GO_ON;
	}
	if (reply == FE_ERROR)
		return EXIT_USAGE;
	r->declined = 1;
	recovery_note(r, FE_WARNING, NULL, "%s", r->state_text);
	return EXIT_FAILED;
}

/*
 * Before the backup is read: a run that may not change Kmsdata (not root,
 * a read-only mount) would fail half way through step 3 with the service
 * stopped; it is told here instead, with nothing done.
 */
static int
steps_check_writable(struct recovery *r)
{
	const struct profile *p = r->profile;
	char *cause = NULL;

	if (kmsdata_check_writable(&r->kmsdata, p->owner != NULL ? p->owner_uid : (uid_t)-1,
		p->owner != NULL ? p->owner_gid : (gid_t)-1, &cause) == 0)
		return STEP_GO_ON;
	recovery_fail(r, NULL, cause);
	return EXIT_FAILED;
}

static int
step_prerequisites(struct recovery *r)
{
	int ret;

	steps_show(r, STEP_P, NULL);
	if ((ret = steps_check_writable(r)) != STEP_GO_ON)
		return ret;
	return prereq_run(r);
}

static int
step1_check(struct recovery *r)
{
	enum service_state state = SERVICE_UNKNOWN;
	char *cause = NULL, *action;
	int ret, back = 0;

	if (service_status(r->profile, &state, NULL, &cause) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
		free(cause);
		cause = NULL;
	}
	if (kmsdata_survey(&r->kmsdata, &r->files_before, &r->bytes_before, &cause) != 0) {
		recovery_fail(r, NULL, cause);
		return EXIT_FAILED;
	}
	r->journal->service_was_running = state == SERVICE_RUNNING;
	/* TRANSLATORS: %1$s service name, %2$s its state, %3$s the Kmsdata path, %4$s a file count. */
	action = xasprintf(Q_("Service %1$s: %2$s. The folder %3$s holds %4$" PRIu64 " file of "
			      "the new installation.",
			       "Service %1$s: %2$s. The folder %3$s holds %4$" PRIu64 " files of "
			       "the new installation.",
			       r->files_before),
	    r->profile->service_name, service_state_name(state), r->kmsdata.path, r->files_before);
	steps_show(r, STEP_1, action);
	transcript_write(&r->transcript, "step 1: %s", action);
	free(action);
	recovery_note(r, FE_WARNING, NULL, "%s",
	    _("The reinstall made a NEW alpha string. It will not unlock the restored data: "
	      "only the ORIGINAL one, given in the prerequisites, will."));
	if ((ret = steps_confirm(r, "confirm-1", _("Go on to stop the service?"), NULL, 0, 1,
		 &back)) != STEP_GO_ON)
		return ret;
	return back ? STEP_GO_BACK : STEP_GO_ON;
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

static int
step2_stop(struct recovery *r)
{
	char *action, *output = NULL, *cause = NULL, *holder = NULL;
	int ret = -1, back = 0;

	if (r->profile->manager == SERVICE_MANAGER_COMMAND)
		/* TRANSLATORS: %1$s service name, %2$d seconds, %3$s Kmsdata path. */
		action = xasprintf(_("Stop %1$s with the profile's stop command, wait up to %2$d s "
				     "until it is stopped, and check that no process still uses "
				     "%3$s."),
		    r->profile->service_name, r->profile->timeout, r->kmsdata.path);
	else
		/* TRANSLATORS: %1$s service name, %2$s systemd or sysv, %3$d seconds, %4$s Kmsdata path. */
		action = xasprintf(_("Stop %1$s through %2$s, wait up to %3$d s until it is "
				     "stopped, and check that no process still uses %4$s."),
		    r->profile->service_name, profile_manager_name(r->profile->manager),
		    r->profile->timeout, r->kmsdata.path);
	steps_show(r, STEP_2, action);
	ret = steps_confirm(r, "confirm-2", _("Stop the KM Server service?"), NULL, 0, 1, &back);
	free(action);
	if (ret != STEP_GO_ON || back)
		return back ? STEP_GO_BACK : ret;
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

static int
step3_clear(struct recovery *r)
{
	char *action, *qpath, *cause = NULL;
	int ret;

	/*
	 * Counted before the stop by step 1 (a walk of Kmsdata, whatever it
	 * holds, has no place in the downtime); a resumed run skips it.
	 */
	if (!r->opt->dry_run && r->down_since.tv_sec == 0 && r->down_since.tv_nsec == 0 &&
	    kmsdata_survey(&r->kmsdata, &r->files_before, &r->bytes_before, &cause) != 0) {
		recovery_fail(r, NULL, cause);
		return EXIT_FAILED;
	}
	qpath = xasprintf("%s/%s", r->kmsdata.parent, r->journal->quarantine);
	action = xasprintf(Q_("Move %1$" PRIu64 " file (%2$" PRIu64 " bytes) from %3$s into %4$s. "
			      "Nothing is deleted.",
			       "Move %1$" PRIu64 " files (%2$" PRIu64
			       " bytes) from %3$s into %4$s. "
			       "Nothing is deleted.",
			       r->files_before),
	    r->files_before, r->bytes_before, r->kmsdata.path, qpath);
	steps_show(r, STEP_3, action);
	ret = steps_confirm(r, "confirm-3", _("Move the files out of Kmsdata?"), action, 1, 0,
	    NULL);
	free(action);
	if (ret != STEP_GO_ON || r->opt->dry_run)
		goto out;
	if (recovery_save(r, JOURNAL_QUARANTINING) != 0) {
		ret = EXIT_FAILED;
		goto out;
	}
	fault_point("quarantining");
	if (kmsdata_quarantine(&r->kmsdata, r->journal->quarantine, &cause) != 0) {
		recovery_fail(r, NULL, cause);
		ret = EXIT_FAILED;
		goto out;
	}
	transcript_write(&r->transcript, "step 3: Kmsdata moved to %s", qpath);
	ret = recovery_save(r, JOURNAL_QUARANTINED) != 0 ? EXIT_FAILED : -1;
	fault_point("quarantined");
out:
	free(qpath);
	return ret;
}

static int
step4_restore(struct recovery *r)
{
	char *action, *spath, *cause = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int ret;

	spath = xasprintf("%s/%s%s%s", r->kmsdata.parent, r->journal->staged,
	    *r->journal->payload != '\0' ? "/" : "", r->journal->payload);
	if (r->profile->owner != NULL) {
		/* Step 2 of this run gave the tree its owner before the stop; a resumed run here. */
		if (r->down_since.tv_sec == 0 && r->down_since.tv_nsec == 0) {
			uid = r->profile->owner_uid;
			gid = r->profile->owner_gid;
		}
		/* TRANSLATORS: %1$s staged folder, %2$s Kmsdata path, %3$s user:group. */
		action = xasprintf(_("Move the checked copy %1$s into %2$s, give it to %3$s, and "
				     "flush it to disk."),
		    spath, r->kmsdata.path, r->profile->owner);
	} else {
		/* TRANSLATORS: %1$s staged folder, %2$s Kmsdata path. */
		action = xasprintf(_("Move the checked copy %1$s into %2$s and flush it to disk."),
		    spath, r->kmsdata.path);
	}
	steps_show(r, STEP_4, action);
	ret = steps_confirm(r, "confirm-4", _("Restore Kmsdata from the backup?"), NULL, 0, 0,
	    NULL);
	free(action);
	if (ret != STEP_GO_ON || r->opt->dry_run)
		goto out;
	if (recovery_save(r, JOURNAL_RESTORING) != 0) {
		ret = EXIT_FAILED;
		goto out;
	}
	fault_point("restoring");
	if (kmsdata_swap_in(&r->kmsdata, r->journal->staged, r->journal->payload, uid, gid,
		&cause) != 0) {
		recovery_fail(r, NULL, cause);
		ret = EXIT_FAILED;
		goto out;
	}
	transcript_write(&r->transcript, "step 4: %s restored from %s", r->kmsdata.path, spath);
	ret = recovery_save(r, JOURNAL_RESTORED) != 0 ? EXIT_FAILED : -1;
	fault_point("restored");
out:
	free(spath);
	return ret;
}

static int
step5_select(struct recovery *r)
{
	enum service_state state = SERVICE_UNKNOWN;
	char *action, *cause = NULL;

	if (!r->opt->dry_run && service_status(r->profile, &state, NULL, &cause) != 0)
		free(cause);
	/* TRANSLATORS: %1$s service name, %2$s manager, %3$s state. */
	action = xasprintf(_("Service: %1$s (Microsoft Exchange Key Management Server)\n"
			     "Managed by: %2$s\nState: %3$s"),
	    r->profile->service_name, profile_manager_name(r->profile->manager),
	    service_state_name(state));
	steps_show(r, STEP_5, action);
	free(action);
	return steps_confirm(r, "confirm-5", _("Is this the KM Server service to start?"), NULL, 0,
	    0, NULL);
}

static int
step6_password(struct recovery *r)
{
	char *action;
	int ok;

	if (r->alpha == NULL) {
		/* Resumed: the password is never kept, so it is asked again. */
		steps_show(r, STEP_6, NULL);
		if ((ok = prereq_ask_alpha(r, 0)) != -1)
			return ok;
	}
	if (r->profile->verify_argv != NULL)
		/* TRANSLATORS: %1$s is where the password came from, %2$s the Kmsdata path. */
		action = xasprintf(
		    _("The password (%1$s) is checked once more against the restored "
		      "%2$s, then handed to the service at start."),
		    r->alpha_source, r->kmsdata.path);
	else
		/* TRANSLATORS: %s is where the password came from. */
		action = xasprintf(_("The password (%s) is handed to the service at start."),
		    r->alpha_source);
	steps_show(r, STEP_6, action);
	free(action);
	if ((ok = steps_confirm(r, "confirm-6", _("Go on with this password?"), NULL, 0, 0,
		 NULL)) != STEP_GO_ON)
		return ok;
	if (r->opt->dry_run || r->profile->verify_argv == NULL)
		return STEP_GO_ON;
	ok = prereq_verify_alpha(r, r->kmsdata.path);
	return ok == 1 ? STEP_GO_ON : ok == 0 ? EXIT_PASSWORD_REFUSED : EXIT_FAILED;
}

/* After a failed start: another password, roll back, or quit. -1 to try again, or an exit code. */
static int
step7_failed(struct recovery *r)
{
	static const char *labels[] = { N_("&Try another password"), N_("&Roll back"),
		N_("&Quit") };
	static const char *keys[] = { "retry", "rollback", "quit" };
	const char *choices[3], *help[3];
	struct fe_question q = { 0 };
	int choice = 2, reply, ret;

	choices[0] = _(labels[0]);
	choices[1] = _(labels[1]);
	choices[2] = _(labels[2]);
	help[0] = _("Type the alpha string again, or read another startup disk, and start again.");
	help[1] = _("Put back the files that were in Kmsdata before the recovery; remove the "
		    "staged copy.");
	help[2] = _("Leave things as they are; run kmsrecover again later to resume or roll "
		    "back.");
	q.key = "start-failed";
	q.title = _("The service did not start. What now?");
	q.choices = choices;
	q.choice_help = help;
	q.choice_keys = keys;
	q.nchoices = 3;
	q.def = 0;
	reply = ask_choose(r, &q, &choice);
	if (reply != FE_OK || choice == 2) {
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

static int
step7_start(struct recovery *r)
{
	char *action, *output = NULL, *cause = NULL;
	int ret;

	/* TRANSLATORS: %1$s service name, %2$d seconds. */
	action = xasprintf(_("Start %1$s with the original password and wait up to %2$d s until "
			     "it is running."),
	    r->profile->service_name, r->profile->timeout);
	steps_show(r, STEP_7, action);
	ret = steps_confirm(r, "confirm-7", _("Start the KM Server service?"), NULL, 0, 0, NULL);
	free(action);
	if (ret != STEP_GO_ON || r->opt->dry_run)
		return ret;
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
	return recovery_save(r, JOURNAL_STARTED) != 0 ? EXIT_FAILED : -1;
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

static int
step_finish(struct recovery *r)
{
	steps_show(r, STEP_F, NULL);
	return STEP_GO_ON;
}
