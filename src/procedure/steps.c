/*
 * KB Q198814's steps (run.c runs them): each is an entry of steps_table
 * with its title, its explanation in the project's own words, the function
 * that shows what it will do and asks (here), and the one that acts
 * (steps-act.c).
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
static int step2_ask(struct recovery *);
static int step3_ask(struct recovery *);
static int step4_ask(struct recovery *);
static int step5_select(struct recovery *);
static int step6_ask(struct recovery *);
static int step7_ask(struct recovery *);
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
	    0, NULL, step_prerequisites, JOURNAL_STAGED },
	{ "1", 1, N_("Check the reinstalled KM Server"),
	    N_("The KB's first step is to reinstall Exchange, its service packs and the Key "
	       "Management Server. That has been done already; kmsrecover checks that the "
	       "service and its Kmsdata folder are there."),
	    0, step1_check, NULL, -1 },
	{ "2", 2, N_("Stop the KM Server service"),
	    N_("The service must not hold its files while they are replaced. kmsrecover stops "
	       "it through the service manager, waits until it is stopped, and checks that no "
	       "process still has a file open in Kmsdata.\n\n"
	       "From here until step 7 the KM Server is down; because the backup is already "
	       "staged and checked, that is a matter of seconds."),
	    0, step2_ask, step2_stop, JOURNAL_STOPPED },
	{ "3", 3, N_("Clear the Kmsdata folder"),
	    N_("The KB says to delete every file in Kmsdata. kmsrecover does not delete them: "
	       "it moves them into a quarantine folder beside Kmsdata, which is instant and can "
	       "be undone. At the end you choose whether to keep the quarantine or remove it."),
	    1, step3_ask, step3_clear, JOURNAL_QUARANTINED },
	{ "4", 4, N_("Restore Kmsdata from the backup"),
	    N_("The staged copy of the backup, already read and checked, is moved into Kmsdata "
	       "as a whole, with renames on the same file system, so Kmsdata is never half "
	       "restored. Ownership and modes are set as the profile asks, and everything is "
	       "flushed to disk before the next step."),
	    1, step4_ask, step4_restore, JOURNAL_RESTORED },
	{ "5", 5, N_("Select the KM Server service"),
	    N_("This is the service that will be started with the original password."), 0,
	    step5_select, NULL, -1 },
	{ "6", 6, N_("Give the original startup password"),
	    N_("The KM Server needs the alpha string at start-up, typed or from the startup "
	       "disk. It must be the ORIGINAL one: a wrong one is refused with Event 5057 "
	       "\"The supplied password is not valid\". The password is handed to the service "
	       "directly, never on a command line, and is not shown or logged."),
	    0, step6_ask, step6_check, -1 },
	{ "7", 7, N_("Start the KM Server service"),
	    N_("kmsrecover starts the service with the original password and waits until it is "
	       "running. If it does not start, its own output is shown and you can try another "
	       "password, roll back to the state before the recovery, or quit."),
	    0, step7_ask, step7_start, JOURNAL_STARTED },
	{ "F", 0, N_("Finish"),
	    N_("The recovery is over. The report records the backup and its SHA-256, what was "
	       "restored and each step's result."),
	    0, NULL, step_finish, -1 },
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
	r->table = steps_table;
	r->view.nsteps = STEP_COUNT;
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

	steps_show(r, STEP_P, NULL, 0);
	if ((ret = steps_check_writable(r)) != STEP_GO_ON)
		return ret;
	return prereq_run(r);
}

static int
step1_check(struct recovery *r)
{
	enum service_state state = SERVICE_UNKNOWN;
	char *cause = NULL, *action;

	if (service_status(r->profile, &state, NULL, &cause) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
		free(cause);
		cause = NULL;
	}
	if (kmsdata_survey(&r->kmsdata, &r->files_before, &r->bytes_before, &cause) != 0) {
		recovery_fail(r, NULL, cause);
		return EXIT_FAILED;
	}
	r->surveyed = 1;
	r->journal->service_was_running = state == SERVICE_RUNNING;
	/* TRANSLATORS: %1$s service name, %2$s its state, %3$s the Kmsdata path, %4$s a file count. */
	action = xasprintf(Q_("Service %1$s: %2$s. The folder %3$s holds %4$" PRIu64 " file of "
			      "the new installation.",
			       "Service %1$s: %2$s. The folder %3$s holds %4$" PRIu64 " files of "
			       "the new installation.",
			       r->files_before),
	    r->profile->service_name, service_state_name(state), r->kmsdata.path, r->files_before);
	steps_show(r, STEP_1, action, 0);
	transcript_write(&r->transcript, "step 1: %s", action);
	free(action);
	recovery_note(r, FE_WARNING, NULL, "%s",
	    _("The reinstall made a NEW alpha string. It will not unlock the restored data: "
	      "only the ORIGINAL one, given in the prerequisites, will."));
	return steps_confirm(r, STEP_1,
	    r->pausing ? _("Go on to stop the service?") : _("Go on to the next step?"), NULL, 0);
}

static int
step2_ask(struct recovery *r)
{
	char *action;

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
	steps_set_action(r, STEP_2, action);
	steps_show(r, STEP_2, action, 0);
	return steps_confirm(r, STEP_2, _("Stop the KM Server service?"), NULL, 0);
}

static int
step3_ask(struct recovery *r)
{
	char *action, *qpath, *cause = NULL;

	/* A resumed run did not see step 1: Kmsdata is counted here. */
	if (!r->opt->dry_run && !r->surveyed) {
		if (kmsdata_survey(&r->kmsdata, &r->files_before, &r->bytes_before, &cause) != 0) {
			recovery_fail(r, NULL, cause);
			return EXIT_FAILED;
		}
		r->surveyed = 1;
	}
	qpath = xasprintf("%s/%s", r->kmsdata.parent, r->journal->quarantine);
	action = xasprintf(Q_("Move %1$" PRIu64 " file (%2$" PRIu64 " bytes) from %3$s into %4$s. "
			      "Nothing is deleted.",
			       "Move %1$" PRIu64 " files (%2$" PRIu64
			       " bytes) from %3$s into %4$s. "
			       "Nothing is deleted.",
			       r->files_before),
	    r->files_before, r->bytes_before, r->kmsdata.path, qpath);
	free(qpath);
	steps_set_action(r, STEP_3, action);
	steps_show(r, STEP_3, action, 0);
	return steps_confirm(r, STEP_3, _("Move the files out of Kmsdata?"), action, 1);
}

static int
step4_ask(struct recovery *r)
{
	char *action, *spath;

	spath = xasprintf("%s/%s%s%s", r->kmsdata.parent, r->journal->staged,
	    *r->journal->payload != '\0' ? "/" : "", r->journal->payload);
	if (r->profile->owner != NULL)
		/* TRANSLATORS: %1$s staged folder, %2$s Kmsdata path, %3$s user:group. */
		action = xasprintf(_("Move the checked copy %1$s into %2$s, give it to %3$s, and "
				     "flush it to disk."),
		    spath, r->kmsdata.path, r->profile->owner);
	else
		/* TRANSLATORS: %1$s staged folder, %2$s Kmsdata path. */
		action = xasprintf(_("Move the checked copy %1$s into %2$s and flush it to disk."),
		    spath, r->kmsdata.path);
	free(spath);
	steps_set_action(r, STEP_4, action);
	steps_show(r, STEP_4, action, 0);
	return steps_confirm(r, STEP_4, _("Restore Kmsdata from the backup?"), NULL, 0);
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
	steps_show(r, STEP_5, action, 0);
	free(action);
	return steps_confirm(r, STEP_5, _("Is this the KM Server service to start?"), NULL, 0);
}

static int
step6_ask(struct recovery *r)
{
	char *action;
	int ok;

	if (r->alpha == NULL) {
		/* Resumed: the password is never kept, so it is asked again. */
		steps_show(r, STEP_6, NULL, 0);
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
	steps_set_action(r, STEP_6, action);
	steps_show(r, STEP_6, action, 0);
	return steps_confirm(r, STEP_6, _("Go on with this password?"), NULL, 0);
}

static int
step7_ask(struct recovery *r)
{
	char *action;

	/* TRANSLATORS: %1$s service name, %2$d seconds. */
	action = xasprintf(_("Start %1$s with the original password and wait up to %2$d s until "
			     "it is running."),
	    r->profile->service_name, r->profile->timeout);
	steps_set_action(r, STEP_7, action);
	steps_show(r, STEP_7, action, 0);
	return steps_confirm(r, STEP_7, _("Start the KM Server service?"), NULL, 0);
}

static int
step_finish(struct recovery *r)
{
	steps_show(r, STEP_F, NULL, 0);
	return STEP_GO_ON;
}
