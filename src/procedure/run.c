/*
 * The runner: the only caller of the KB's steps (steps.c). It runs them in
 * the table's order from a given one, goes back a step when the operator
 * asks (back from the prerequisites' first question: to the welcome screen,
 * the staged copy dropped), and stops at the first that ends the run.
 */
#include "config.h"

#include "engine.h"

/* Runs the steps from first on. STEP_GO_BACK goes one step back; P starts over. */
int
run_steps(struct recovery *r, int first)
{
	int i = first, ret;

	while (i < STEP_COUNT) {
		if (recovery_interrupted)
			return EXIT_FAILED;
		ret = steps_table[i].run(r);
		if (ret == STEP_GO_BACK && i > STEP_P) {
			/* The staged copy stays: step P does not read the same backup again. */
			r->steps[i].state = FE_STEP_PENDING;
			i--;
			continue;
		}
		if (ret == STEP_GO_BACK) {
			/* Back from step P's first question: nothing is left behind. */
			r->steps[i].state = FE_STEP_PENDING;
			if (r->staged_ok)
				(void)rollback_unstage(r);
			return RUN_WELCOME;
		}
		if (ret != STEP_GO_ON) {
			/* A step the operator declined did not fail: it was not run. */
			r->steps[i].state = r->declined ? FE_STEP_PENDING : FE_STEP_FAILED;
			return ret;
		}
		r->steps[i].state = FE_STEP_DONE;
		i++;
	}
	return EXIT_RECOVERED;
}
