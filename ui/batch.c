/*
 * The batch frontend: unattended runs (DESIGN.md, "Layers"). Every answer
 * comes from the command line or an answers file, looked up by the
 * question's key; a step that changes things goes ahead only with --yes; a
 * missing answer is an error naming the option, raised when the question
 * comes, which for every prerequisite is before anything is changed.
 * Progress is a line now and then, notes go to the output as they come.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontends.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

struct batch {
	const struct batch_answers *answers;
	FILE *out;
	struct line_progress progress;
};

/* The option an operator gives for a question's key, for error messages. */
static const char *
batch_option(const char *key)
{
	static const struct {
		const char *key, *option;
	} map[] = {
		{ "backup", "--backup" },
		{ "backup-passphrase", "--backup-passphrase-file" },
		{ "password-source", "--alpha-file or --startup-disk" },
		{ "alpha", "--alpha-file" },
		{ "startup-disk", "--startup-disk" },
		{ "journal", "--resume or --rollback" },
		{ "start-failed", "--rollback (in a new run)" },
		{ "output", "-o" },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(map[i].key, key) == 0)
			return map[i].option;
	}
	return "--yes";
}

static int
batch_missing(const struct fe_question *q, char **cause)
{
	if (q->retry > 0)
		/* TRANSLATORS: %s names a command-line option. */
		*cause = xasprintf(_("The answer given with %s was refused (see above); nothing "
				     "more can be asked in batch mode."),
		    batch_option(q->key));
	else
		/* TRANSLATORS: %1$s is the question, %2$s the option(s) that answer it. */
		*cause = xasprintf(_("Batch mode needs an answer to \"%1$s\": give %2$s."),
		    q->title, batch_option(q->key));
	return FE_ERROR;
}

static int
batch_begin(struct frontend *fe, struct fe_view *view, char **cause)
{
	struct batch *b = fe->data;

	(void)cause;
	fprintf(b->out, "kmsrecover: %s (%s, %s)\n", view->task_title, view->service_name,
	    view->kmsdata);
	return 0;
}

static void
batch_end(struct frontend *fe)
{
	struct batch *b = fe->data;

	fflush(b->out);
}

static int
batch_welcome(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	(void)fe;
	(void)q;
	(void)cause;
	*choice = 0;
	return FE_OK;
}

static void
batch_step(struct frontend *fe, const struct fe_step_info *info)
{
	struct batch *b = fe->data;

	if (info->number > 0)
		/* TRANSLATORS: %1$d is the step's number, %2$s its title. */
		fprintf(b->out, _("Step %1$d of 7: %2$s\n"), info->number, info->title);
	else
		fprintf(b->out, "%s\n", info->title);
	if (info->action != NULL)
		fprintf(b->out, "  %s\n", info->action);
	fflush(b->out);
}

static int
batch_confirm(struct frontend *fe, const struct fe_question *q, char **cause)
{
	struct batch *b = fe->data;
	const char *answer = batch_answers_get(b->answers, q->key);

	if (answer != NULL)
		return strcmp(answer, "yes") == 0 ? FE_OK : FE_NO;
	if (strcmp(q->key, "remove-quarantine") == 0)
		return FE_NO;
	if (!q->destructive && q->def)
		return FE_OK;
	if (b->answers->yes)
		return FE_OK;
	/* TRANSLATORS: %s is the question. */
	*cause = xasprintf(_("Batch mode changes nothing without --yes: \"%s\"."), q->title);
	return FE_ERROR;
}

static int
batch_choose(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	struct batch *b = fe->data;
	const char *answer = batch_answers_get(b->answers, q->key);
	size_t i;

	if (answer == NULL || q->retry > 0 || q->choice_keys == NULL)
		return batch_missing(q, cause);
	for (i = 0; i < q->nchoices; i++) {
		if (strcmp(q->choice_keys[i], answer) == 0) {
			*choice = (int)i;
			return FE_OK;
		}
	}
	return batch_missing(q, cause);
}

static int
batch_ask_text(struct frontend *fe, const struct fe_question *q, char **answer, char **cause)
{
	struct batch *b = fe->data;
	const char *value = batch_answers_get(b->answers, q->key);

	if (value == NULL || q->retry > 0)
		return batch_missing(q, cause);
	*answer = xstrdup(value);
	return FE_OK;
}

static int
batch_ask_secret(struct frontend *fe, const struct fe_question *q, struct secret **out,
    char **cause)
{
	(void)fe;
	(void)out;
	/* Secrets come only from files (--alpha-file, --startup-disk, --backup-passphrase-file), never from an option's value. */
	return batch_missing(q, cause);
}

static int
batch_progress(struct frontend *fe, const char *label, const struct progress_state *s)
{
	struct batch *b = fe->data;
	int percent;

	if (line_progress_due(&b->progress, s, 25, 10, &percent)) {
		fprintf(b->out, "  %s: %d%%\n", label, percent);
		fflush(b->out);
	}
	return 0;
}

static void
batch_note(struct frontend *fe, enum fe_level level, const char *text, const char *detail)
{
	struct batch *b = fe->data;
	const char *prefix = level == FE_ERROR_LEVEL ? _("error: ") :
	    level == FE_WARNING                      ? _("warning: ") :
						       "";

	fprintf(level == FE_INFO ? b->out : stderr, "%s%s\n", prefix, text);
	if (detail != NULL && *detail != '\0')
		fprintf(level == FE_INFO ? b->out : stderr, "%s\n", detail);
	fflush(b->out);
}

static void
batch_summary(struct frontend *fe, const struct fe_summary *s)
{
	struct batch *b = fe->data;

	line_summary(b->out, s);
}

static void
batch_destroy(struct frontend *fe)
{
	free(fe->data);
	free(fe);
}

static const struct frontend_ops batch_ops = {
	.begin = batch_begin,
	.end = batch_end,
	.welcome = batch_welcome,
	.step = batch_step,
	.confirm = batch_confirm,
	.choose = batch_choose,
	.ask_text = batch_ask_text,
	.ask_secret = batch_ask_secret,
	.progress = batch_progress,
	.note = batch_note,
	.summary = batch_summary,
	.destroy = batch_destroy,
};

struct frontend *
batch_frontend_new(const struct batch_answers *answers, FILE *out)
{
	struct frontend *fe = xcalloc(1, sizeof *fe);
	struct batch *b = xcalloc(1, sizeof *b);

	b->answers = answers;
	b->out = out;
	b->progress.last_percent = -1;
	fe->name = "batch";
	fe->data = b;
	fe->ops = &batch_ops;
	return fe;
}

void
frontend_free(struct frontend *fe)
{
	if (fe != NULL && fe->ops != NULL && fe->ops->destroy != NULL)
		fe->ops->destroy(fe);
}
