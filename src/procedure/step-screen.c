/*
 * What the KB's steps show and ask (steps.c asks, steps-act.c acts): a
 * step put on the screen, its confirmation, and the last question before
 * the service goes down. By default every step is confirmed first and
 * steps 2-7 then run without a pause (the operator's reading is not
 * downtime); with pause-between-steps each is confirmed as it runs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "i18n.h"
#include "xmalloc.h"

void
steps_show(struct recovery *r, int i, const char *action, int confirmed)
{
	struct fe_step_info info = { 0 };

	r->view.current = i;
	r->steps[i].state = FE_STEP_RUNNING;
	info.id = r->table[i].id;
	info.number = r->table[i].number;
	info.title = _(r->table[i].title);
	info.explanation = _(r->table[i].explanation);
	info.action = action;
	info.destructive = r->table[i].destructive;
	info.confirmed = confirmed;
	r->fe->ops->step(r->fe, &info);
}

/* A step's action, kept for the screen it runs under after the confirmations. */
void
steps_set_action(struct recovery *r, int i, char *action)
{
	free(r->actions[i]);
	r->actions[i] = action;
}

/*
 * A confirmation put to the frontend, its answer in the transcript, and what
 * it means for the run: STEP_GO_ON (yes), STEP_GO_BACK (Back, where q offers
 * it), or an exit code (No and Quit end the run, saying where things stand).
 */
static int
steps_ask(struct recovery *r, const struct fe_question *q)
{
	int reply = ask_confirm(r, q);

	transcript_write(&r->transcript, "%s: %s", q->key,
	    reply == FE_OK       ? "yes" :
		reply == FE_NO   ? "no" :
		reply == FE_BACK ? "back" :
				   "quit");
	if (reply == FE_OK)
		return STEP_GO_ON;
	if (reply == FE_BACK && q->can_back)
		return STEP_GO_BACK;
	if (reply == FE_ERROR)
		return EXIT_USAGE;
	r->declined = 1;
	recovery_note(r, FE_WARNING, NULL, "%s", r->state_text);
	return EXIT_FAILED;
}

/*
 * The confirmation of step i. Returns STEP_GO_ON (yes), STEP_GO_BACK (Back,
 * where the step may go back: before anything changed), or an exit code
 * (No and Quit end the run; the journal says where it stands).
 */
int
steps_confirm(struct recovery *r, int i, const char *title, const char *text, int destructive)
{
	struct fe_question q = { 0 };
	char key[16];

	if (r->opt->dry_run)
		return STEP_GO_ON;
	snprintf(key, sizeof key, "confirm-%d", r->table[i].number);
	q.key = key;
	q.title = title;
	q.text = text;
	q.destructive = destructive;
	q.def = !destructive;
	/* Once the service is down (pausing between steps) there is no going back. */
	q.can_back = !r->pausing || i <= STEP_2;
	return steps_ask(r, &q);
}

/*
 * After step 7's confirmation: what now happens without a pause, and how
 * long the service will be down. STEP_GO_ON, STEP_GO_BACK or an exit code.
 */
int
steps_ready(struct recovery *r)
{
	struct fe_question q = { 0 };
	char *text;
	int ret;

	if (r->opt->dry_run)
		return STEP_GO_ON;
	/* TRANSLATORS: %1$s the service, %2$d seconds (its stop and start time-outs together). */
	text = xasprintf(_("Every step is confirmed. They now run one after the other without a "
			   "pause: %1$s is stopped, the files of Kmsdata move into the quarantine, "
			   "the checked copy moves in, and the service starts with the ORIGINAL "
			   "password. The KM Server is down for a few seconds, at most about %2$d "
			   "s (the profile's time-outs for the stop and the start)."),
	    r->profile->service_name, 2 * r->profile->timeout);
	q.key = "confirm-go";
	q.title = _("Recover now?");
	q.text = text;
	q.destructive = 1;
	q.can_back = 1;
	ret = steps_ask(r, &q);
	free(text);
	return ret;
}
