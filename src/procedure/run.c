/*
 * The runner: the only caller of the KB's steps (steps.c asks,
 * steps-act.c acts). By default every step is shown and confirmed first,
 * with Back to the one before (back from the prerequisites' first
 * question: the welcome screen, the staged copy dropped); then one last
 * question, and steps 2-7 run back to back, each shown as it runs: the
 * operator's reading is never downtime. With pause-between-steps each step
 * is confirmed as it runs, as the KB has it (Back only before the stop).
 * The first step that ends the run stops it.
 */
#include "config.h"

#include "engine.h"

/* A step's outcome in the list: one the operator declined was not run. */
static int
run_ended(struct recovery *r, int i, int ret)
{
	r->steps[i].state = r->declined ? FE_STEP_PENDING : FE_STEP_FAILED;
	return ret;
}

/* Step P: RUN_WELCOME (Back from its first question), STEP_GO_ON, or an exit code. */
static int
run_prerequisites(struct recovery *r)
{
	int ret = steps_table[STEP_P].act(r);

	if (ret == STEP_GO_BACK) {
		/* Back from step P's first question: nothing is left behind. */
		r->steps[STEP_P].state = FE_STEP_PENDING;
		if (r->staged_ok)
			(void)rollback_unstage(r);
		return RUN_WELCOME;
	}
	if (ret != STEP_GO_ON)
		return run_ended(r, STEP_P, ret);
	r->steps[STEP_P].state = FE_STEP_DONE;
	return STEP_GO_ON;
}

/* Each step confirmed as it runs: ask, act, next. */
static int
run_paused(struct recovery *r, int first)
{
	int i = first, ret;

	while (i < STEP_COUNT) {
		if (recovery_interrupted)
			return EXIT_FAILED;
		if (i == STEP_P) {
			if ((ret = run_prerequisites(r)) != STEP_GO_ON)
				return ret;
			i++;
			continue;
		}
		ret = steps_table[i].ask != NULL ? steps_table[i].ask(r) : STEP_GO_ON;
		if (ret == STEP_GO_BACK) {
			/* The staged copy stays: step P does not read the same backup again. */
			r->steps[i].state = FE_STEP_PENDING;
			i--;
			continue;
		}
		if (ret == STEP_GO_ON && steps_table[i].act != NULL)
			ret = steps_table[i].act(r);
		if (ret != STEP_GO_ON)
			return run_ended(r, i, ret);
		r->steps[i].state = FE_STEP_DONE;
		i++;
	}
	return EXIT_RECOVERED;
}

/*
 * Steps from..7 shown and confirmed in order, then the last question.
 * STEP_GO_ON when all are confirmed, STEP_GO_BACK when the operator went
 * back from the first one, or an exit code.
 */
static int
run_confirm(struct recovery *r, int from)
{
	int i = from, ret;

	for (;;) {
		if (recovery_interrupted)
			return EXIT_FAILED;
		if (i > STEP_7)
			ret = steps_ready(r);
		else
			ret = steps_table[i].ask != NULL ? steps_table[i].ask(r) : STEP_GO_ON;
		if (ret == STEP_GO_BACK) {
			if (i <= STEP_7)
				r->steps[i].state = FE_STEP_PENDING;
			if (i == from)
				return STEP_GO_BACK;
			i--;
			continue;
		}
		if (ret != STEP_GO_ON)
			return run_ended(r, i > STEP_7 ? STEP_7 : i, ret);
		if (i > STEP_7)
			return STEP_GO_ON;
		/* A step with nothing to do is done once confirmed; the others wait their turn. */
		r->steps[i].state = steps_table[i].act == NULL ? FE_STEP_DONE : FE_STEP_PENDING;
		i++;
	}
}

int
run_steps(struct recovery *r, int first)
{
	int i, from, ret;

	if (r->pausing)
		return run_paused(r, first);
	if (first == STEP_F) {
		/* Resumed after the start: only the end is left. */
		steps_table[STEP_F].act(r);
		r->steps[STEP_F].state = FE_STEP_DONE;
		return EXIT_RECOVERED;
	}
	from = first == STEP_P ? STEP_1 : first;
	/*
	 * Back from the first confirmation: step P's questions again (the same
	 * backup kept); a resumed run has nothing before it, and asks again.
	 */
	do {
		if (first == STEP_P && (ret = run_prerequisites(r)) != STEP_GO_ON)
			return ret;
	} while ((ret = run_confirm(r, from)) == STEP_GO_BACK);
	if (ret != STEP_GO_ON)
		return ret;
	for (i = from; i < STEP_COUNT; i++) {
		if (recovery_interrupted)
			return EXIT_FAILED;
		if (steps_table[i].act == NULL)
			continue;
		if ((ret = steps_table[i].act(r)) != STEP_GO_ON)
			return run_ended(r, i, ret);
		r->steps[i].state = FE_STEP_DONE;
	}
	return EXIT_RECOVERED;
}
