/*
 * An interrupted recovery found (DESIGN.md, rule 4): the journal's
 * question (resume, roll back, start over, quit), and the run that follows
 * the answer. Resume continues with the step after the last durable phase.
 */
#include "config.h"

#include <stdlib.h>

#include "engine.h"
#include "i18n.h"
#include "xmalloc.h"

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

/*
 * The facts of the interrupted run that a resumed one reports as its own
 * recovery's: when it began, what was staged (the manifest, the counts).
 */
static void
resume_facts(struct recovery *r)
{
	r->resumed_iso = r->started_iso;
	r->started_iso = xstrdup(r->journal->started != NULL ? r->journal->started : "-");
	r->staged.files = r->journal->files;
	r->staged.bytes = r->journal->bytes;
	r->staged.manifest_found = r->journal->manifest_found;
	r->staged_ok = r->journal->phase >= JOURNAL_STAGED;
}

/* What each answer to the journal question will do, for its help line. */
static int
resume_ask(struct recovery *r, int *choice)
{
	static const char *labels[] = { N_("&Resume"), N_("Roll &back"), N_("&Start over"),
		N_("&Quit") };
	static const char *keys[] = { "resume", "rollback", "start-over", "quit" };
	const char *choices[4], *help[4];
	struct fe_question q = { 0 };
	char *title, *when;
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
	reply = ask_choose(r, &q, choice);
	free(title);
	if (reply == FE_ERROR)
		return EXIT_USAGE;
	if (reply != FE_OK || *choice == 3)
		return EXIT_FAILED;
	return -1;
}

/* A journal was found: resume, roll back or start over. Returns an exit code, or -1 for a new run. */
int
resume_from_journal(struct recovery *r, int *first)
{
	int choice = 0, ret, i;

	recovery_set_state(r);
	if (r->journal->rolling_back || r->opt->rollback)
		choice = 1;
	else if (r->opt->resume)
		choice = 0;
	else if ((ret = resume_ask(r, &choice)) != -1)
		return ret;
	/* This run's report gets a file of its own; the interrupted run's stays. */
	r->resumed_stamp = r->stamp;
	r->stamp = xstrdup(r->journal->stamp);
	if (recovery_open_transcript(r, r->journal->transcript) != 0)
		return EXIT_FAILED;
	transcript_write(&r->transcript, "journal found at phase %s: %s",
	    journal_phase_name(r->journal->phase), choice == 0 ? "resume" : "roll back");
	if (choice == 1)
		return finish_run(r, rollback_as_asked(r));
	if (choice == 2)
		return rollback_undo(r) == 0 ? -1 : finish_run(r, EXIT_FAILED);
	if (r->journal->phase == JOURNAL_STAGING) {
		rollback_discard_staged(r);
		journal_close(r->journal, &r->cause);
		return -1;
	}
	resume_facts(r);
	*first = resume_step(r->journal->phase);
	for (i = 0; i < *first; i++)
		r->steps[i].state = FE_STEP_DONE;
	return finish_run(r, run_steps(r, *first));
}
