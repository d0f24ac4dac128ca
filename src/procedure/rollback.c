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
rollback_discard_staged(struct recovery *r)
{
	struct progress_ctx ctx = { r, _("Removing the staged copy") };
	struct progress progress = { recovery_progress_cb, &ctx };
	char *cause = NULL;

	if (kmsdata_remove_sibling(&r->kmsdata, r->journal->staged, &progress, &cause) != 0) {
		recovery_fail(r, NULL, cause);
		return -1;
	}
	return 0;
}

/* One undo of the roll back, then the journal says what remains. */
static int
rollback_undo_one(struct recovery *r, enum journal_phase remains,
    int (*undo)(const struct kmsdata *, const char *, const char *, char **), const char *name,
    const char *payload)
{
	char *cause = NULL;

	if (undo(&r->kmsdata, name, payload, &cause) != 0) {
		recovery_fail(r, NULL, cause);
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
int
rollback_undo(struct recovery *r)
{
	struct journal *j = r->journal;
	enum journal_phase from = j->phase;
	char *output = NULL, *cause = NULL;

	transcript_write(&r->transcript, "roll back from phase %s", journal_phase_name(j->phase));
	j->rolling_back = 1;
	if (j->phase >= JOURNAL_STARTING && service_stop(r->profile, &output, &cause) != 0) {
		recovery_fail(r, output, cause);
		free(output);
		return -1;
	}
	free(output);
	if (j->phase >= JOURNAL_RESTORING &&
	    rollback_undo_one(r, JOURNAL_QUARANTINED, kmsdata_swap_out, j->staged, j->payload) != 0)
		return -1;
	if (j->phase >= JOURNAL_QUARANTINING &&
	    rollback_undo_one(r, JOURNAL_STOPPED, rollback_unquarantine, j->quarantine, NULL) != 0)
		return -1;
	if (rollback_discard_staged(r) != 0)
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
rollback_recovery(struct recovery *r)
{
	rollback_undo(r);
	return EXIT_FAILED;
}

int
rollback_as_asked(struct recovery *r)
{
	return rollback_undo(r) == 0 ? EXIT_RECOVERED : EXIT_FAILED;
}

int
rollback_unstage(struct recovery *r)
{
	char *cause = NULL;

	if (rollback_discard_staged(r) != 0)
		return -1;
	r->staged_ok = 0;
	if (journal_close(r->journal, &cause) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
		free(cause);
	}
	return 0;
}
