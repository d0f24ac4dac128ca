/*
 * The runner: the only caller of the KB's steps (steps.c). It runs them in
 * the table's order from a given one, goes back a step when the operator
 * asks (dropping the staged copy when that takes it back to the
 * prerequisites), and stops at the first that ends the run.
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
			r->steps[i].state = FE_STEP_PENDING;
			i--;
			if (i == STEP_P && r->staged_ok)
				(void)rollback_unstage(r);
			continue;
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
