/*
 * The batch frontend: unattended runs (DESIGN.md, "Layers"). Every answer
 * comes from the command line or an answers file, looked up by the
 * question's key; a step that changes things goes ahead only with --yes; a
 * missing answer is an error naming the option, raised when the question
 * comes, which for every prerequisite is before anything is changed.
 * Progress is a line now and then, notes go to the output as they come.
 *
 * The output is read by scripts and people grepping logs: one fact a
 * line, never wrapped; a text of several lines keeps its later lines
 * indented under its first; and each step shown is followed, once it has
 * ended, by a line with its result ("Step 3 done: ...").
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontends.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

/* What was last said of a step. */
enum batch_told { BATCH_UNSEEN, BATCH_SHOWN, BATCH_ENDED };

struct batch {
	const struct batch_answers *answers;
	FILE *out;
	struct line_progress progress;
	const struct fe_view *view;
	enum batch_told *told; /* per step of the view */
	int *numbers;          /* the number each step was shown with (0: none) */
	size_t ntold;
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

/* Writes text, its lines after the first indented by indent blanks (one fact a line, unwrapped). */
static void
batch_lines(FILE *out, const char *first_prefix, const char *text, int indent)
{
	const char *p = text, *nl;
	int line = 0;

	do {
		nl = strchr(p, '\n');
		fprintf(out, "%s%*s%.*s\n", line == 0 ? first_prefix : "", line > 0 ? indent : 0,
		    "", (int)(nl != NULL ? nl - p : (ptrdiff_t)strlen(p)), p);
		line++;
		p = nl + 1;
	} while (nl != NULL && *p != '\0');
}

/* The tracking of the view's steps, grown to its current count. */
static void
batch_track(struct batch *b)
{
	size_t n = b->view != NULL ? b->view->nsteps : 0, i;

	if (n <= b->ntold)
		return;
	b->told = xreallocarray(b->told, n, sizeof *b->told);
	b->numbers = xreallocarray(b->numbers, n, sizeof *b->numbers);
	for (i = b->ntold; i < n; i++) {
		b->told[i] = BATCH_UNSEEN;
		b->numbers[i] = 0;
	}
	b->ntold = n;
}

/* The result line of a step that has ended (translated). */
static void
batch_result(struct batch *b, size_t i)
{
	const struct fe_step *st = &b->view->steps[i];
	const char *title = _(st->title);
	int n = b->numbers[i];

	/*
	 * TRANSLATORS: the result of a step that has ended: %1$d is its
	 * number, %2$s its title; a lone %s is the title of a step without one.
	 */
	if (st->state == FE_STEP_DONE && n > 0)
		fprintf(b->out, _("Step %1$d done: %2$s"), n, title);
	else if (st->state == FE_STEP_DONE)
		fprintf(b->out, _("%s: done"), title);
	else if (st->state == FE_STEP_FAILED && n > 0)
		fprintf(b->out, _("Step %1$d failed: %2$s"), n, title);
	else if (st->state == FE_STEP_FAILED)
		fprintf(b->out, _("%s: failed"), title);
	else if (n > 0)
		fprintf(b->out, _("Step %1$d skipped: %2$s"), n, title);
	else
		fprintf(b->out, _("%s: skipped"), title);
	fputc('\n', b->out);
}

/* Says what came of each step shown that has ended since it was last looked at. */
static void
batch_report(struct batch *b)
{
	size_t i, told = 0;

	batch_track(b);
	for (i = 0; i < b->ntold && i < b->view->nsteps; i++) {
		enum fe_step_state state = b->view->steps[i].state;

		if (b->told[i] != BATCH_SHOWN ||
		    (state != FE_STEP_DONE && state != FE_STEP_FAILED && state != FE_STEP_SKIPPED))
			continue;
		batch_result(b, i);
		b->told[i] = BATCH_ENDED;
		told++;
	}
	if (told > 0)
		fflush(b->out);
}

/* A step shown: its result is to be told when it ends (again, after a Back). */
static void
batch_shown(struct batch *b, const struct fe_step_info *info)
{
	size_t i;

	for (i = 0; i < b->ntold && i < b->view->nsteps; i++) {
		if (b->view->steps[i].id != NULL && strcmp(b->view->steps[i].id, info->id) == 0) {
			b->told[i] = BATCH_SHOWN;
			b->numbers[i] = info->number;
			return;
		}
	}
}

static int
batch_begin(struct frontend *fe, struct fe_view *view, char **cause)
{
	struct batch *b = fe->data;

	(void)cause;
	b->view = view;
	fprintf(b->out, "kmsrecover: %s (%s, %s)\n", view->task_title, view->service_name,
	    view->kmsdata);
	return 0;
}

static void
batch_end(struct frontend *fe)
{
	struct batch *b = fe->data;

	if (b->view != NULL)
		batch_report(b);
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

	batch_report(b);
	batch_shown(b, info);
	/* Confirmed before, said then: it runs now, and its result line follows. */
	if (info->confirmed)
		return;
	if (info->number > 0)
		/* TRANSLATORS: %1$d is the step's number, %2$s its title. */
		fprintf(b->out, _("Step %1$d of 7: %2$s\n"), info->number, info->title);
	else
		fprintf(b->out, "%s\n", info->title);
	if (info->action != NULL && !info->confirmed)
		batch_lines(b->out, "  ", info->action, 2);
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
	FILE *to = level == FE_INFO ? b->out : stderr;

	batch_report(b);
	batch_lines(to, prefix, text, 2);
	if (detail != NULL && *detail != '\0')
		batch_lines(to, "  ", detail, 2);
	fflush(b->out);
}

static void
batch_summary(struct frontend *fe, const struct fe_summary *s)
{
	struct batch *b = fe->data;

	batch_report(b);
	line_summary(b->out, s);
}

static void
batch_destroy(struct frontend *fe)
{
	struct batch *b = fe->data;

	free(b->told);
	free(b->numbers);
	free(b);
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
