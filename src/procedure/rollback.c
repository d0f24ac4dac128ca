/*
 * Resume and roll back (DESIGN.md, rule 4): what the next run does with the
 * journal of an interrupted one. Resume continues with the step after the
 * last durable phase; roll back undoes in reverse, saving the journal after
 * each undo, so that a roll back that is itself interrupted is finished by
 * the run after it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "i18n.h"
#include "xmalloc.h"

/* Removes the staged folder of an abandoned run. 0, or -1 with the cause noted. */
int
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
rollback_undo(struct recovery *r, enum journal_phase remains,
    int (*undo)(const struct kmsdata *, const char *, const char *, char **), const char *name,
    const char *payload)
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

int
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
	char *title, *cause = NULL, *when;
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
	when = journal_stamp_readable(r->journal->stamp);
	title = xasprintf(_("An interrupted recovery (started %1$s) was found. %2$s"), when,
	    r->state_plain);
	free(when);
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

/* A journal was found: resume, roll back or start over. Returns an exit code, or -1 for a new run. */
int
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
