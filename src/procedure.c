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

struct step {
	const char *id;
	int number;
	const char *title;       /* N_() */
	const char *explanation; /* N_() */
	int destructive;
	/* Runs the step; returns -1 to go on, or an exit code to end the run. */
	int (*run)(struct recovery *r);
	/* The phase the journal holds once the step is done (or -1). */
	int done_phase;
};

static int step_p(struct recovery *);
static int step_1(struct recovery *);
static int step_2(struct recovery *);
static int step_3(struct recovery *);
static int step_4(struct recovery *);
static int step_5(struct recovery *);
static int step_6(struct recovery *);
static int step_7(struct recovery *);
static int step_f(struct recovery *);

static const struct step steps[STEP_COUNT] = {
	{ "P", 0, N_("Prerequisites"),
	    N_("A recovery needs two things from before the rebuild: a backup of the Kmsdata "
	       "folder of the original KM Server, and the ORIGINAL startup password (the alpha "
	       "string), typed or read from the original startup disk (KMSPWD.INI).\n\n"
	       "The backup is read once, from end to end, into a staging folder beside Kmsdata, "
	       "and every file is checked against the backup's MANIFEST.sha256. Where the profile "
	       "names a verifier, the password is tried on the staged copy. Nothing on the "
	       "server is changed until both have passed."),
	    0, step_p, JOURNAL_STAGED },
	{ "1", 1, N_("Check the reinstalled KM Server"),
	    N_("The KB's first step is to reinstall Exchange, its service packs and the Key "
	       "Management Server. That has been done already; kmsrecover checks that the "
	       "service and its Kmsdata folder are there."),
	    0, step_1, -1 },
	{ "2", 2, N_("Stop the KM Server service"),
	    N_("The service must not hold its files while they are replaced. kmsrecover stops "
	       "it through the service manager, waits until it is stopped, and checks that no "
	       "process still has a file open in Kmsdata.\n\n"
	       "From here until step 7 the KM Server is down; because the backup is already "
	       "staged and checked, that is a matter of seconds."),
	    0, step_2, JOURNAL_STOPPED },
	{ "3", 3, N_("Clear the Kmsdata folder"),
	    N_("The KB says to delete every file in Kmsdata. kmsrecover does not delete them: "
	       "it moves them into a quarantine folder beside Kmsdata, which is instant and can "
	       "be undone. At the end you choose whether to keep the quarantine or remove it."),
	    1, step_3, JOURNAL_QUARANTINED },
	{ "4", 4, N_("Restore Kmsdata from the backup"),
	    N_("The staged copy of the backup, already read and checked, is moved into Kmsdata "
	       "as a whole, with renames on the same file system, so Kmsdata is never half "
	       "restored. Ownership and modes are set as the profile asks, and everything is "
	       "flushed to disk before the next step."),
	    1, step_4, JOURNAL_RESTORED },
	{ "5", 5, N_("Select the KM Server service"),
	    N_("This is the service that will be started with the original password."), 0,
	    step_5, -1 },
	{ "6", 6, N_("Give the original startup password"),
	    N_("The KM Server needs the alpha string at start-up, typed or from the startup "
	       "disk. It must be the ORIGINAL one: a wrong one is refused with Event 5057 "
	       "\"The supplied password is not valid\". The password is handed to the service "
	       "directly, never on a command line, and is not shown or logged."),
	    0, step_6, -1 },
	{ "7", 7, N_("Start the KM Server service"),
	    N_("kmsrecover starts the service with the original password and waits until it is "
	       "running. If it does not start, its own output is shown and you can try another "
	       "password, roll back to the state before the recovery, or quit."),
	    0, step_7, JOURNAL_STARTED },
	{ "F", 0, N_("Finish"),
	    N_("The recovery is over. The report records the backup and its SHA-256, what was "
	       "restored and each step's result."),
	    0, step_f, -1 },
};

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
	const char *text = _("Nothing has been changed yet.");
	enum journal_phase phase = r->journal != NULL ? r->journal->phase : JOURNAL_STAGING;

	if (r->journal == NULL || phase <= JOURNAL_STAGED)
		text = _("Nothing has been changed yet: the service runs as before and Kmsdata is "
			 "untouched.");
	else if (phase <= JOURNAL_STOPPED)
		text = _("The service is stopped. Kmsdata is untouched. Run kmsrecover again to "
			 "resume or roll back.");
	else if (phase <= JOURNAL_QUARANTINED)
		text = _("The service is stopped. Kmsdata's files are in the quarantine folder and "
			 "Kmsdata is empty. Run kmsrecover again to resume or roll back.");
	else if (phase <= JOURNAL_STARTING)
		text = _("The service is stopped. Kmsdata holds the restored backup. Run kmsrecover "
			 "again to resume or roll back.");
	else if (phase == JOURNAL_STARTED)
		text = _("The service is running on the restored data.");
	if (r->rolled_back)
		text = _("Rolled back: Kmsdata holds what it held before the recovery.");
	free(r->state_text);
	r->state_text = xstrdup(text);
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

/* Shows step i with the action text, and sets its state in the list. */
static void
recovery_show(struct recovery *r, int i, const char *action)
{
	struct fe_step_info info = { 0 };

	r->view.current = i;
	r->steps[i].state = FE_STEP_RUNNING;
	info.id = steps[i].id;
	info.number = steps[i].number;
	info.title = _(steps[i].title);
	info.explanation = _(steps[i].explanation);
	info.action = action;
	info.destructive = steps[i].destructive;
	r->fe->step(r->fe, &info);
}

/*
 * The confirmation before a step that changes something. Returns -1 to go
 * ahead, or an exit code (FE_NO and FE_QUIT end the run; the journal says
 * where it stands).
 */
static int
recovery_confirm(struct recovery *r, const char *key, const char *title, const char *text,
    int destructive, int can_back, int *back)
{
	struct fe_question q = { 0 };
	char *cause = NULL;
	int reply;

	if (r->opt->dry_run)
		return -1;
	q.key = key;
	q.title = title;
	q.text = text;
	q.destructive = destructive;
	q.def = !destructive;
	q.can_back = can_back;
	reply = r->fe->confirm(r->fe, &q, &cause);
	transcript_write(&r->transcript, "%s: %s", key,
	    reply == FE_OK ? "yes" : reply == FE_NO ? "no" : reply == FE_BACK ? "back" : "quit");
	if (reply == FE_OK)
		return -1;
	if (reply == FE_BACK && back != NULL) {
		*back = 1;
		return -1;
	}
	if (reply == FE_ERROR) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_USAGE;
	}
	recovery_note(r, FE_WARNING, NULL, "%s", r->state_text);
	return EXIT_FAILED;
}

static int
step_p(struct recovery *r)
{
	recovery_show(r, STEP_P, NULL);
	return prereq_run(r);
}

static int
step_1(struct recovery *r)
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
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		r->cause = cause;
		return EXIT_FAILED;
	}
	r->journal->service_was_running = state == SERVICE_RUNNING;
	/* TRANSLATORS: %1$s service name, %2$s its state, %3$s the Kmsdata path, %4$s a file count. */
	action = xasprintf(Q_("Service %1$s: %2$s. The folder %3$s holds %4$" PRIu64 " file of "
			      "the new installation.",
			       "Service %1$s: %2$s. The folder %3$s holds %4$" PRIu64 " files of "
			       "the new installation.",
			       r->files_before),
	    r->profile->service_name, service_state_name(state), r->kmsdata.path,
	    r->files_before);
	recovery_show(r, STEP_1, action);
	transcript_write(&r->transcript, "step 1: %s", action);
	free(action);
	recovery_note(r, FE_WARNING, NULL, "%s",
	    _("The reinstall made a NEW alpha string. It will not unlock the restored data: "
	      "have the ORIGINAL one, or the original startup disk, ready."));
	if ((ret = recovery_confirm(r, "confirm-1", _("Go on to stop the service?"), NULL, 0, 1,
		 &back)) != -1)
		return ret;
	return back ? -2 : -1;
}

static int
step_2(struct recovery *r)
{
	char *action, *output = NULL, *cause = NULL, *holder = NULL;
	int ret = -1, back = 0, n;

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
	recovery_show(r, STEP_2, action);
	ret = recovery_confirm(r, "confirm-2", _("Stop the KM Server service?"), NULL, 0, 1,
	    &back);
	free(action);
	if (ret != -1 || back)
		return back ? -2 : ret;
	if (r->opt->dry_run)
		return -1;
	if (recovery_save(r, JOURNAL_STOPPING) != 0)
		return EXIT_FAILED;
	fault_point("before-stop");
	clock_gettime(CLOCK_MONOTONIC, &r->down_since);
	if (service_stop(r->profile, &output, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, output, "%s", cause);
		r->cause = cause;
		free(output);
		return EXIT_FAILED;
	}
	free(output);
	if ((n = service_holders(r->kmsdata.path, &holder, &cause)) > 0) {
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
	return -1;
}

static int
step_3(struct recovery *r)
{
	char *action, *qpath, *cause = NULL;
	int ret;

	qpath = xasprintf("%s/%s", r->kmsdata.parent, r->journal->quarantine);
	action = xasprintf(Q_("Move %1$" PRIu64 " file (%2$" PRIu64 " bytes) from %3$s into %4$s. "
			      "Nothing is deleted.",
			       "Move %1$" PRIu64 " files (%2$" PRIu64 " bytes) from %3$s into %4$s. "
			       "Nothing is deleted.",
			       r->files_before),
	    r->files_before, r->bytes_before, r->kmsdata.path, qpath);
	recovery_show(r, STEP_3, action);
	ret = recovery_confirm(r, "confirm-3", _("Move the files out of Kmsdata?"), action, 1, 0,
	    NULL);
	free(action);
	if (ret != -1 || r->opt->dry_run)
		goto out;
	if (recovery_save(r, JOURNAL_QUARANTINING) != 0) {
		ret = EXIT_FAILED;
		goto out;
	}
	fault_point("quarantining");
	if (kmsdata_quarantine(&r->kmsdata, r->journal->quarantine, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		r->cause = cause;
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
step_4(struct recovery *r)
{
	char *action, *spath, *cause = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int ret;

	spath = xasprintf("%s/%s%s%s", r->kmsdata.parent, r->journal->staged,
	    *r->journal->payload != '\0' ? "/" : "", r->journal->payload);
	if (r->profile->owner != NULL) {
		uid = r->profile->owner_uid;
		gid = r->profile->owner_gid;
		/* TRANSLATORS: %1$s staged folder, %2$s Kmsdata path, %3$s user:group. */
		action = xasprintf(_("Move the checked copy %1$s into %2$s, give it to %3$s, and "
				     "flush it to disk."),
		    spath, r->kmsdata.path, r->profile->owner);
	} else {
		/* TRANSLATORS: %1$s staged folder, %2$s Kmsdata path. */
		action = xasprintf(_("Move the checked copy %1$s into %2$s and flush it to disk."),
		    spath, r->kmsdata.path);
	}
	recovery_show(r, STEP_4, action);
	ret = recovery_confirm(r, "confirm-4", _("Restore Kmsdata from the backup?"), NULL, 0, 0,
	    NULL);
	free(action);
	if (ret != -1 || r->opt->dry_run)
		goto out;
	if (recovery_save(r, JOURNAL_RESTORING) != 0) {
		ret = EXIT_FAILED;
		goto out;
	}
	fault_point("restoring");
	if (kmsdata_swap_in(&r->kmsdata, r->journal->staged, r->journal->payload, uid, gid,
		&cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		r->cause = cause;
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
step_5(struct recovery *r)
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
	recovery_show(r, STEP_5, action);
	free(action);
	return recovery_confirm(r, "confirm-5", _("Is this the KM Server service to start?"), NULL,
	    0, 0, NULL);
}

static int
step_6(struct recovery *r)
{
	char *action;
	int ok;

	if (r->alpha == NULL) {
		/* Resumed: the password is never kept, so it is asked again. */
		recovery_show(r, STEP_6, NULL);
		if ((ok = prereq_ask_alpha(r, 0)) != -1)
			return ok;
	}
	if (r->profile->verify_argv != NULL)
		/* TRANSLATORS: %1$s is where the password came from, %2$s the Kmsdata path. */
		action = xasprintf(_("The password (%1$s) is checked once more against the restored "
				     "%2$s, then handed to the service at start."),
		    r->alpha_source, r->kmsdata.path);
	else
		/* TRANSLATORS: %s is where the password came from. */
		action = xasprintf(_("The password (%s) is handed to the service at start."),
		    r->alpha_source);
	recovery_show(r, STEP_6, action);
	free(action);
	if ((ok = recovery_confirm(r, "confirm-6", _("Go on with this password?"), NULL, 0, 0,
		 NULL)) != -1)
		return ok;
	if (r->opt->dry_run || r->profile->verify_argv == NULL)
		return -1;
	ok = prereq_verify_alpha(r, r->kmsdata.path);
	return ok == 1 ? -1 : ok == 0 ? EXIT_PASSWORD_REFUSED : EXIT_FAILED;
}

static int recovery_rollback(struct recovery *r);

static double
recovery_elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* After a failed start: another password, roll back, or quit. -1 to try again, or an exit code. */
static int
step_7_failed(struct recovery *r)
{
	static const char *labels[] = { N_("&Try another password"), N_("&Roll back"),
		N_("&Quit") };
	static const char *keys[] = { "retry", "rollback", "quit" };
	const char *choices[3], *help[3];
	struct fe_question q = { 0 };
	char *cause = NULL;
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
	reply = r->fe->choose(r->fe, &q, &choice, &cause);
	if (reply == FE_ERROR) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
	}
	if (reply != FE_OK || choice == 2) {
		recovery_set_state(r);
		recovery_note(r, FE_WARNING, NULL, "%s", r->state_text);
		return EXIT_FAILED;
	}
	if (choice == 1)
		return recovery_rollback(r);
	if ((ret = prereq_ask_alpha(r, 1)) != -1)
		return ret;
	if (r->profile->verify_argv != NULL && prereq_verify_alpha(r, r->kmsdata.path) != 1)
		return step_7_failed(r);
	return -1;
}

static int
step_7(struct recovery *r)
{
	char *action, *output = NULL, *cause = NULL;
	int ret;

	/* TRANSLATORS: %1$s service name, %2$d seconds. */
	action = xasprintf(_("Start %1$s with the original password and wait up to %2$d s until "
			     "it is running."),
	    r->profile->service_name, r->profile->timeout);
	recovery_show(r, STEP_7, action);
	ret = recovery_confirm(r, "confirm-7", _("Start the KM Server service?"), NULL, 0, 0,
	    NULL);
	free(action);
	if (ret != -1 || r->opt->dry_run)
		return ret;
	for (;;) {
		if (recovery_save(r, JOURNAL_STARTING) != 0)
			return EXIT_FAILED;
		fault_point("starting");
		if (service_start(r->profile, r->alpha, &output, &cause) == 0)
			break;
		recovery_note(r, FE_ERROR_LEVEL, output, "%s", cause);
		free(r->cause);
		r->cause = cause;
		cause = NULL;
		free(output);
		output = NULL;
		if (recovery_save(r, JOURNAL_RESTORED) != 0)
			return EXIT_FAILED;
		if ((ret = step_7_failed(r)) != -1)
			return ret;
	}
	free(output);
	if (r->down_since.tv_sec != 0)
		r->downtime = recovery_elapsed(&r->down_since);
	transcript_write(&r->transcript, "step 7: service %s running", r->profile->service_name);
	free(r->cause);
	r->cause = NULL;
	return recovery_save(r, JOURNAL_STARTED) != 0 ? EXIT_FAILED : -1;
}

/* Keep or remove the quarantine at the end. Returns its path when kept, else NULL. */
static char *
step_f_quarantine(struct recovery *r)
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
		reply = r->fe->confirm(r->fe, &q, &cause);
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
step_f(struct recovery *r)
{
	recovery_show(r, STEP_F, NULL);
	return -1;
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
recovery_outcome(int code, int dry_run)
{
	if (dry_run)
		return code == EXIT_RECOVERED ? "dry run" : "dry run failed";
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
		rs[i].id = steps[i].id;
		rs[i].title = steps[i].title;
		rs[i].result = recovery_step_result(r->steps[i].state);
	}
	rep.task = "recover";
	rep.outcome = recovery_outcome(code, r->opt->dry_run);
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
	if (r->opt->report_json != NULL && report_write_json(&rep, r->opt->report_json, &cause) != 0)
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
	free(cause);
	free(finished);
	return path;
}

#define SUMMARY_MAX 10

static void
summary_add(struct fe_summary_line *lines, size_t *n, char **owned, const char *label,
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
		summary_add(lines, &n, owned, _("Restored:"),
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
static int
recovery_finish(struct recovery *r, int code)
{
	char *quarantine = NULL, *report, *demo_line = NULL, *cause = NULL;

	if (code == EXIT_RECOVERED && !r->opt->dry_run) {
		quarantine = step_f_quarantine(r);
		if (r->opt->after != NULL && r->opt->after(r->opt->after_arg, &demo_line) != 0) {
			recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", demo_line);
			code = EXIT_FAILED;
		}
		r->steps[STEP_F].state = FE_STEP_DONE;
	}
	transcript_write(&r->transcript, "outcome: %s (exit %d)",
	    recovery_outcome(code, r->opt->dry_run), code);
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

/* Removes the staged folder of an abandoned run. 0, or -1 with the cause noted. */
static int
recovery_discard_staged(struct recovery *r)
{
	struct progress_ctx ctx = { r, _("Removing the staged copy") };
	struct progress progress = { recovery_progress_cb, &ctx };
	char *cause = NULL;

	if (kmsdata_remove_sibling(&r->kmsdata, r->journal->staged, &progress, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(r->cause);
		r->cause = cause;
		return -1;
	}
	return 0;
}

/* One undo of the roll back, then the journal says what remains. */
static int
rollback_undo(struct recovery *r, enum journal_phase remains, int (*undo)(const struct kmsdata *,
    const char *, const char *, char **), const char *name, const char *payload)
{
	char *cause = NULL;

	if (undo(&r->kmsdata, name, payload, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(r->cause);
		r->cause = cause;
		return -1;
	}
	return recovery_save(r, remains);
}

static int
rollback_unquarantine(const struct kmsdata *k, const char *q, const char *unused, char **cause)
{
	(void)unused;
	return kmsdata_unquarantine(k, q, cause);
}

/*
 * Roll back: undo in reverse what the journal says was done. Each undo is
 * idempotent and the journal is saved after each, so a roll back that is
 * itself interrupted is finished by the next run.
 */
static int
recovery_undo(struct recovery *r)
{
	struct journal *j = r->journal;
	enum journal_phase from = j->phase;
	char *output = NULL, *cause = NULL;

	transcript_write(&r->transcript, "roll back from phase %s", journal_phase_name(j->phase));
	j->rolling_back = 1;
	if (j->phase >= JOURNAL_STARTING && service_stop(r->profile, &output, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, output, "%s", cause);
		free(output);
		free(r->cause);
		r->cause = cause;
		return -1;
	}
	free(output);
	if (j->phase >= JOURNAL_RESTORING &&
	    rollback_undo(r, JOURNAL_QUARANTINED, kmsdata_swap_out, j->staged, j->payload) != 0)
		return -1;
	if (j->phase >= JOURNAL_QUARANTINING &&
	    rollback_undo(r, JOURNAL_STOPPED, rollback_unquarantine, j->quarantine, NULL) != 0)
		return -1;
	if (recovery_discard_staged(r) != 0)
		return -1;
	transcript_write(&r->transcript, "rolled back");
	r->rolled_back = 1;
	recovery_set_state(r);
	if (journal_close(j, &cause) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
		free(cause);
	}
	free(r->cause);
	r->cause = xstrdup(_("Rolled back: Kmsdata holds exactly what it held before the recovery, "
			     "and the staged copy is removed."));
	if (j->service_was_running && from >= JOURNAL_STOPPING)
		recovery_note(r, FE_WARNING, NULL, "%s",
		    _("The service was running before the recovery, with the rebuilt "
		      "installation's own password. It is stopped now: start it again with that "
		      "password."));
	recovery_note(r, FE_INFO, NULL, "%s", r->cause);
	return 0;
}

static int
recovery_rollback(struct recovery *r)
{
	recovery_undo(r);
	return EXIT_FAILED;
}

/* The step a resumed run continues with, from the journal's phase. */
static int
resume_step(enum journal_phase phase)
{
	switch (phase) {
	case JOURNAL_STAGED:
		return STEP_1;
	case JOURNAL_STOPPING:
		return STEP_2;
	case JOURNAL_STOPPED:
	case JOURNAL_QUARANTINING:
		return STEP_3;
	case JOURNAL_QUARANTINED:
	case JOURNAL_RESTORING:
		return STEP_4;
	case JOURNAL_RESTORED:
	case JOURNAL_STARTING:
		return STEP_5;
	case JOURNAL_STARTED:
		return STEP_F;
	default:
		return STEP_P;
	}
}

/* What each answer to the journal question will do, for its help line. */
static int
journal_ask(struct recovery *r, int *choice)
{
	static const char *labels[] = { N_("&Resume"), N_("Roll &back"), N_("&Start over"),
		N_("&Quit") };
	static const char *keys[] = { "resume", "rollback", "start-over", "quit" };
	const char *choices[4], *help[4];
	struct fe_question q = { 0 };
	char *title, *cause = NULL;
	int reply;

	choices[0] = _(labels[0]);
	choices[1] = _(labels[1]);
	choices[2] = _(labels[2]);
	choices[3] = _(labels[3]);
	help[0] = _("Go on from where the interrupted recovery stopped (the password is asked "
		    "again).");
	help[1] = _("Undo what it did: Kmsdata back as it was before, the staged copy removed.");
	help[2] = _("Roll back, then begin a new recovery from the prerequisites.");
	help[3] = _("Change nothing now.");
	/* TRANSLATORS: %1$s is a UTC time stamp, %2$s a sentence saying where things stand. */
	title = xasprintf(_("An interrupted recovery (started %1$s) was found. %2$s"),
	    r->journal->stamp, r->state_text);
	q.key = "journal";
	q.title = title;
	q.choices = choices;
	q.choice_help = help;
	q.choice_keys = keys;
	q.nchoices = 4;
	q.def = 0;
	reply = r->fe->choose(r->fe, &q, choice, &cause);
	free(title);
	if (reply == FE_ERROR) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_USAGE;
	}
	if (reply != FE_OK || *choice == 3)
		return EXIT_FAILED;
	return -1;
}

static int
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
static int
recovery_steps(struct recovery *r, int first)
{
	int i = first, ret;

	while (i < STEP_COUNT) {
		if (recovery_interrupted)
			return EXIT_FAILED;
		ret = steps[i].run(r);
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
			r->steps[i].state = FE_STEP_FAILED;
			return ret;
		}
		r->steps[i].state = FE_STEP_DONE;
		i++;
	}
	return EXIT_RECOVERED;
}

/* A journal was found: resume, roll back or start over. Returns an exit code, or -1 for a new run. */
static int
recovery_from_journal(struct recovery *r, int *first)
{
	int choice = 0, ret, i;

	recovery_set_state(r);
	if (r->journal->rolling_back || r->opt->rollback)
		choice = 1;
	else if (r->opt->resume)
		choice = 0;
	else if ((ret = journal_ask(r, &choice)) != -1)
		return ret;
	free(r->stamp);
	r->stamp = xstrdup(r->journal->stamp);
	if (recovery_open_transcript(r, r->journal->transcript) != 0)
		return EXIT_FAILED;
	transcript_write(&r->transcript, "journal found at phase %s: %s",
	    journal_phase_name(r->journal->phase), choice == 0 ? "resume" : "roll back");
	if (choice == 1)
		return recovery_finish(r, recovery_rollback(r));
	if (choice == 2)
		return recovery_undo(r) == 0 ? -1 : recovery_finish(r, EXIT_FAILED);
	if (r->journal->phase == JOURNAL_STAGING) {
		recovery_discard_staged(r);
		journal_close(r->journal, &r->cause);
		return -1;
	}
	*first = resume_step(r->journal->phase);
	for (i = 0; i < *first; i++)
		r->steps[i].state = FE_STEP_DONE;
	return recovery_finish(r, recovery_steps(r, *first));
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
		r->steps[i].id = steps[i].id;
		r->steps[i].title = steps[i].title;
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
	text = xasprintf(_("kmsrecover restores the Key Management Server (%1$s) after a "
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
	reply = r->fe->welcome(r->fe, &q, &choice, &cause);
	free(text);
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
