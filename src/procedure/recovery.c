/*
 * The recovery's context (struct recovery, engine.h): what every file of
 * the procedure uses. Notes to the operator that the transcript keeps too,
 * a failure kept as the run's cause, progress with the operator's stop
 * heard, the journal saved and the state it leaves put into words, the
 * transcript opened, the context set up and released.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

volatile int recovery_interrupted;

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
	r->fe->ops->note(r->fe, level, text, detail);
	free(text);
}

void
recovery_fail(struct recovery *r, const char *detail, char *cause)
{
	recovery_note(r, FE_ERROR_LEVEL, detail, "%s", cause != NULL ? cause : "");
	free(r->cause);
	r->cause = cause;
}

void
recovery_note_profile(struct recovery *r)
{
	if (r->opt->no_profile == NULL)
		return;
	/* TRANSLATORS: %1$s the default profile's path, %2$s the service, %3$s its manager, %4$s Kmsdata. */
	recovery_note(r, FE_WARNING, NULL,
	    _("No profile was found at %1$s, so the built-in defaults are used: the KM Server "
	      "service %2$s through %3$s, Kmsdata in %4$s. If this server differs, write a "
	      "profile there (kmsrecover(8), PROFILE) or give --profile FILE."),
	    r->opt->no_profile, r->profile->service_name, profile_manager_name(r->profile->manager),
	    r->profile->kmsdata_path);
}

int
recovery_progress(struct recovery *r, const char *label, const struct progress_state *s)
{
	if (recovery_interrupted || r->fe->ops->progress(r->fe, label, s) != 0) {
		r->stopped = 1;
		return 1;
	}
	return 0;
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
	const char *text;
	enum journal_phase phase = r->journal != NULL ? r->journal->phase : JOURNAL_STAGING;
	int unfinished = r->journal != NULL && phase > JOURNAL_STAGED && phase < JOURNAL_STARTED;

	if (r->journal == NULL || phase <= JOURNAL_STAGED)
		text = _("Nothing has been changed yet: the service runs as before and Kmsdata is "
			 "untouched.");
	else if (phase <= JOURNAL_STOPPED)
		text = _("The service is stopped. Kmsdata is untouched.");
	else if (phase <= JOURNAL_QUARANTINED)
		text = _("The service is stopped. Kmsdata's files are in the quarantine folder and "
			 "Kmsdata is empty.");
	else if (phase <= JOURNAL_STARTING)
		text = _("The service is stopped. Kmsdata holds the restored backup.");
	else
		text = _("The service is running on the restored data.");
	if (r->rolled_back) {
		text = _("Rolled back: Kmsdata holds what it held before the recovery.");
		unfinished = 0;
	}
	free(r->state_plain);
	r->state_plain = xstrdup(text);
	free(r->state_text);
	/* The advice is a sentence of its own, after the state. */
	r->state_text = unfinished ?
	    xasprintf("%s %s", text, _("Run kmsrecover again to resume or roll back.")) :
	    xstrdup(text);
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
		recovery_fail(r, NULL, cause);
		return -1;
	}
	transcript_write(&r->transcript, "journal: %s", journal_phase_name(phase));
	recovery_set_state(r);
	return 0;
}

int
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

void
recovery_init(struct recovery *r, struct profile *p, struct frontend *fe,
    const struct recovery_options *o)
{
	memset(r, 0, sizeof *r);
	r->profile = p;
	r->fe = fe;
	r->opt = o;
	r->kmsdata.parent_fd = -1;
	r->downtime = -1;
	r->stamp = log_stamp_now();
	r->started_iso = log_iso_now();
	r->view.task_title = _("Recover the KM Server");
	r->view.service_name = p->service_name;
	r->view.manager = profile_manager_name(p->manager);
	r->view.kmsdata = p->kmsdata_path;
	r->view.steps = r->steps;
	r->view.nsteps = STEP_COUNT;
	r->view.current = -1;
	r->pausing = o->pause_between_steps || p->pause_between_steps;
	recovery_set_state(r);
}

void
recovery_release(struct recovery *r)
{
	secret_free(r->alpha);
	secret_free(r->passphrase);
	free(r->alpha_source);
	free(r->alpha_path);
	free(r->backup);
	backup_result_free(&r->staged);
	journal_free(r->journal);
	transcript_close(&r->transcript);
	kmsdata_close(&r->kmsdata);
	free(r->stamp);
	free(r->started_iso);
	free(r->resumed_iso);
	free(r->resumed_stamp);
	free(r->state_text);
	free(r->state_plain);
	free(r->cause);
	for (size_t i = 0; i < STEP_COUNT; i++)
		free(r->actions[i]);
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
