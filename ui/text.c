/*
 * The text frontend: one question per line, for serial consoles, TERM=dumb,
 * screen readers and braille lines (DESIGN.md, "Layers"). Choices are
 * numbered; an empty answer takes the default shown in brackets; "b" goes
 * back where that is offered and "q" quits. Input is read with read(2), a
 * byte at a time, so that a secret goes straight into secure memory and
 * no stdio buffer holds a copy.
 *
 * Output is word-wrapped to 79 columns: a serial console is 80 wide, and
 * a line that fills it breaks where the terminal wants, not between words.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <wchar.h>
#include <wctype.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "frontends.h"
#include "i18n.h"
#include "secret.h"
#include "width.h"
#include "xmalloc.h"

#define TEXT_LINE_MAX 4096
#define TEXT_COLUMNS 79

struct text {
	int in;
	FILE *out;
	struct line_progress progress;
	const struct fe_view *view;
	char *last_action; /* the step's action, not repeated by the question */
	int yes;           /* --yes: confirmations are answered yes, as apt-get -y does */
};

/* Reads a line into buf (at most cap-1 bytes, NUL-terminated). Returns its length, or -1 at end of input. */
static ssize_t
text_read_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			return -1;
		if (n <= 0) {
			if (len == 0)
				return -1;
			break;
		}
		if (c == '\n')
			break;
		if (c != '\r' && len + 1 < cap)
			buf[len++] = c;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

void
line_wrapped(FILE *out, const char *prefix, const char *text, int hang)
{
	char *all = xasprintf("%s%s", prefix != NULL ? prefix : "", text != NULL ? text : ""),
	     **lines;
	size_t n, i;

	lines = width_wrap(all, (size_t)(TEXT_COLUMNS - hang), &n);
	for (i = 0; i < n; i++)
		fprintf(out, "%*s%s\n", i > 0 && *lines[i] != '\0' ? hang : 0, "", lines[i]);
	xfree_argv(lines);
	free(all);
}

/*
 * The prompt, wrapped, the answer to follow on its last line. Where the
 * input is not a terminal nothing echoes the answer's newline: after is
 * then written in its stead.
 */
static void
text_prompt(struct text *t, const char *prompt)
{
	char **lines;
	size_t n, i;

	lines = width_wrap(prompt, TEXT_COLUMNS - 2, &n);
	for (i = 0; i + 1 < n; i++)
		fprintf(t->out, "%s\n", lines[i]);
	fprintf(t->out, "%s ", n > 0 ? lines[n - 1] : "");
	fflush(t->out);
	xfree_argv(lines);
}

/* A line of input with blanks trimmed, or NULL at end of input. */
static char *
text_ask_line(struct text *t, const char *prompt)
{
	char buf[TEXT_LINE_MAX], *start, *end;

	text_prompt(t, prompt);
	if (text_read_line(t->in, buf, sizeof buf) < 0) {
		fprintf(t->out, "\n");
		return NULL;
	}
	if (!isatty(t->in))
		fprintf(t->out, "\n");
	for (start = buf; *start == ' ' || *start == '\t'; start++)
		;
	for (end = start + strlen(start); end > start && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	return xstrdup(start);
}

/* The first character of s, lower-cased (multibyte-aware); 0 when s is empty or invalid. */
static wint_t
text_first_char(const char *s, size_t *len)
{
	mbstate_t st;
	wchar_t wc;
	size_t n;

	memset(&st, 0, sizeof st);
	n = mbrtowc(&wc, s, strlen(s), &st);
	if (n == 0 || n == (size_t)-1 || n == (size_t)-2)
		return 0;
	*len = n;
	return towlower((wint_t)wc);
}

/* Case-insensitive comparison of whole words, multibyte-aware. */
static int
text_same_word(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	wint_t ca, cb;

	while (*a != '\0' && *b != '\0') {
		ca = text_first_char(a, &la);
		cb = text_first_char(b, &lb);
		if (ca == 0 || ca != cb)
			return 0;
		a += la;
		b += lb;
	}
	return *a == '\0' && *b == '\0';
}

/* The answer is the word (English or translated), or its first letter alone. */
static int
text_is_word(const char *answer, const char *word, const char *translated)
{
	size_t la = 0, lw = 0, lt = 0;
	wint_t first = text_first_char(answer, &la);

	if (text_same_word(answer, word) || text_same_word(answer, translated))
		return 1;
	if (first == 0 || answer[la] != '\0')
		return 0;
	return first == text_first_char(word, &lw) || first == text_first_char(translated, &lt);
}

static int
text_begin(struct frontend *fe, struct fe_view *view, char **cause)
{
	struct text *t = fe->data;
	char *line;

	(void)cause;
	t->view = view;
	line = xasprintf("kmsrecover: %s (%s, %s)", view->task_title, view->service_name,
	    view->kmsdata);
	line_wrapped(t->out, NULL, line, 2);
	free(line);
	line_wrapped(t->out, NULL,
	    _("Answer each question and press Enter. An empty answer takes "
	      "the default in [brackets]; q quits."),
	    0);
	fputc('\n', t->out);
	return 0;
}

static void
text_end(struct frontend *fe)
{
	struct text *t = fe->data;

	fflush(t->out);
}

static void
text_paragraphs(struct text *t, const char *text)
{
	if (text != NULL && *text != '\0')
		line_wrapped(t->out, NULL, text, 0);
}

static int
text_choose_common(struct text *t, const struct fe_question *q, int *choice)
{
	char *answer, *end, prompt[256], *number, *plain, *line;
	size_t i;
	long n;
	int valid;

	for (i = 0; i < q->nchoices; i++) {
		number = xasprintf("  %zu) ", i + 1);
		plain = fe_label_plain(q->choices[i]);
		if (q->choice_help != NULL && q->choice_help[i] != NULL)
			line = xasprintf("%s - %s", plain, q->choice_help[i]);
		else
			line = xstrdup(plain);
		line_wrapped(t->out, number, line, 5);
		free(line);
		free(plain);
		free(number);
	}
	/* TRANSLATORS: the prompt of a numbered choice; %1$zu the count, %2$d the default. */
	snprintf(prompt, sizeof prompt, _("Choose 1-%1$zu [%2$d]:"), q->nchoices, q->def + 1);
	for (;;) {
		if ((answer = text_ask_line(t, prompt)) == NULL)
			return FE_QUIT;
		if (*answer == '\0') {
			*choice = q->def;
			free(answer);
			return FE_OK;
		}
		if (text_is_word(answer, "quit", _("quit"))) {
			free(answer);
			return FE_QUIT;
		}
		if (q->can_back && text_is_word(answer, "back", _("back"))) {
			free(answer);
			return FE_BACK;
		}
		errno = 0;
		n = strtol(answer, &end, 10);
		valid = errno == 0 && *end == '\0' && n >= 1 && (size_t)n <= q->nchoices;
		free(answer);
		if (valid) {
			*choice = (int)n - 1;
			return FE_OK;
		}
		fprintf(t->out, _("Please answer with a number from 1 to %zu.\n"), q->nchoices);
	}
}

static int
text_welcome(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	struct text *t = fe->data;

	(void)cause;
	text_paragraphs(t, q->text);
	fputc('\n', t->out);
	if (q->nchoices == 1) {
		*choice = 0;
		return FE_OK;
	}
	return text_choose_common(t, q, choice);
}

static void
text_step(struct frontend *fe, const struct fe_step_info *info)
{
	struct text *t = fe->data;
	char *title;

	fputc('\n', t->out);
	if (info->number > 0) {
		title = xasprintf(_("Step %1$d of 7: %2$s\n"), info->number, info->title);
		title[strcspn(title, "\n")] = '\0';
		line_wrapped(t->out, NULL, title, 2);
		free(title);
	} else
		line_wrapped(t->out, NULL, info->title, 2);
	text_paragraphs(t, info->explanation);
	if (info->action != NULL) {
		title = xasprintf("%s ", _("What will be done:"));
		line_wrapped(t->out, title, info->action, 2);
		free(title);
	}
	free(t->last_action);
	t->last_action = info->action != NULL ? xstrdup(info->action) : NULL;
	fflush(t->out);
}

static int
text_confirm(struct frontend *fe, const struct fe_question *q, char **cause)
{
	struct text *t = fe->data;
	int def_yes = q->def && !q->destructive;
	char *answer, prompt[512];

	(void)cause;
	if (q->text != NULL && (t->last_action == NULL || strcmp(q->text, t->last_action) != 0))
		text_paragraphs(t, q->text);
	/* TRANSLATORS: %1$s is a question; the brackets show the default answer. */
	snprintf(prompt, sizeof prompt, def_yes ? _("%1$s [Y/n]%2$s") : _("%1$s [y/N]%2$s"),
	    q->title, q->can_back ? _(" (b: back)") : "");
	/* --yes answers for the operator, and says so; the quarantine is kept, as in batch. */
	if (t->yes) {
		fprintf(t->out, "%s %s\n", prompt,
		    strcmp(q->key, "remove-quarantine") == 0 ?
			_("no (kept: --yes removes nothing)") :
			_("yes (--yes)"));
		fflush(t->out);
		return strcmp(q->key, "remove-quarantine") == 0 ? FE_NO : FE_OK;
	}
	for (;;) {
		if ((answer = text_ask_line(t, prompt)) == NULL)
			return FE_QUIT;
		if (*answer == '\0') {
			free(answer);
			return def_yes ? FE_OK : FE_NO;
		}
		if (text_is_word(answer, "yes", _("yes"))) {
			free(answer);
			return FE_OK;
		}
		if (text_is_word(answer, "no", _("no"))) {
			free(answer);
			return FE_NO;
		}
		if (q->can_back && text_is_word(answer, "back", _("back"))) {
			free(answer);
			return FE_BACK;
		}
		if (text_is_word(answer, "quit", _("quit"))) {
			free(answer);
			return FE_QUIT;
		}
		free(answer);
		fprintf(t->out, "%s\n", _("Please answer y or n."));
	}
}

static int
text_choose(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	struct text *t = fe->data;

	(void)cause;
	line_wrapped(t->out, NULL, q->title, 0);
	text_paragraphs(t, q->text);
	return text_choose_common(t, q, choice);
}

static int
text_ask_text(struct frontend *fe, const struct fe_question *q, char **answer, char **cause)
{
	struct text *t = fe->data;
	char *line, *end, *number;
	size_t i, n = 0;
	long pick;

	(void)cause;
	text_paragraphs(t, q->text);
	for (i = 0; q->suggestions != NULL && q->suggestions[i] != NULL; i++) {
		if (i == 0)
			line_wrapped(t->out, NULL, _("Found on removable media:"), 0);
		number = xasprintf("  %zu) ", i + 1);
		line_wrapped(t->out, number, q->suggestions[i], 5);
		free(number);
		n++;
	}
	if ((line = text_ask_line(t, q->title)) == NULL || text_is_word(line, "quit", _("quit"))) {
		free(line);
		return FE_QUIT;
	}
	errno = 0;
	pick = strtol(line, &end, 10);
	if (n > 0 && *line != '\0' && errno == 0 && *end == '\0' && pick >= 1 &&
	    (size_t)pick <= n) {
		free(line);
		line = xstrdup(q->suggestions[pick - 1]);
	} else if (*line == '\0' && q->def_text != NULL) {
		free(line);
		line = xstrdup(q->def_text);
	}
	*answer = line;
	return FE_OK;
}

/* Reads a secret with echo off (when the input is a terminal) into secure memory. */
static int
text_read_secret(struct text *t, const char *prompt, struct secret **out)
{
	struct termios saved, quiet;
	int tty = tcgetattr(t->in, &saved) == 0;
	char *buf = OPENSSL_secure_malloc(TEXT_LINE_MAX);
	ssize_t len;

	text_prompt(t, prompt);
	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(t->in, TCSAFLUSH, &quiet);
	}
	len = text_read_line(t->in, buf, TEXT_LINE_MAX);
	if (tty)
		tcsetattr(t->in, TCSAFLUSH, &saved);
	fputc('\n', t->out);
	if (len >= 0)
		*out = secret_new(buf, (size_t)len);
	OPENSSL_secure_clear_free(buf, TEXT_LINE_MAX);
	return len < 0 ? -1 : 0;
}

static int
text_ask_secret(struct frontend *fe, const struct fe_question *q, struct secret **out, char **cause)
{
	struct text *t = fe->data;
	struct secret *first = NULL, *second = NULL;
	int same;

	(void)cause;
	text_paragraphs(t, q->text);
	line_wrapped(t->out, NULL, _("(What you type is not shown.)"), 0);
	for (;;) {
		if (text_read_secret(t, q->title, &first) != 0)
			return FE_QUIT;
		if (!q->twice)
			break;
		if (text_read_secret(t, _("Type it again:"), &second) != 0) {
			secret_free(first);
			return FE_QUIT;
		}
		same = first->len == second->len &&
		    CRYPTO_memcmp(first->data, second->data, first->len) == 0;
		secret_free(second);
		if (same)
			break;
		secret_free(first);
		line_wrapped(t->out, NULL, _("The two entries differ. Please type it again."), 0);
	}
	*out = first;
	return FE_OK;
}

int
line_progress_due(struct line_progress *lp, const struct progress_state *s, int step, int seconds,
    int *percent)
{
	long now = (long)time(NULL);

	if (s->bytes_total == 0)
		return 0;
	*percent = (int)(s->bytes_done * 100 / s->bytes_total);
	if (*percent > 100)
		*percent = 100;
	if (*percent == lp->last_percent ||
	    (*percent / step == lp->last_percent / step && now - lp->last_time < seconds))
		return 0;
	lp->last_percent = *percent;
	lp->last_time = now;
	return 1;
}

static int
text_progress(struct frontend *fe, const char *label, const struct progress_state *s)
{
	struct text *t = fe->data;
	int percent;

	if (line_progress_due(&t->progress, s, 10, 5, &percent)) {
		/* TRANSLATORS: progress line: %1$s what is being done, %2$d percent. */
		fprintf(t->out, _("%1$s: %2$d%%\n"), label, percent);
		fflush(t->out);
	}
	return 0;
}

static void
text_note(struct frontend *fe, enum fe_level level, const char *text, const char *detail)
{
	struct text *t = fe->data;
	const char *prefix = level == FE_ERROR_LEVEL ? _("Error: ") :
	    level == FE_WARNING                      ? _("Warning: ") :
						       "";

	line_wrapped(t->out, prefix, text, 0);
	if (detail != NULL && *detail != '\0')
		fprintf(t->out, "%s\n%s\n", _("Output:"), detail);
	fflush(t->out);
}

void
line_summary(FILE *out, const struct fe_summary *s)
{
	size_t i;
	char *label;

	fputc('\n', out);
	line_wrapped(out, NULL, s->title, 0);
	for (i = 0; i < s->nentries; i++) {
		label = xasprintf("  %s ", s->entries[i].label);
		line_wrapped(out, label, s->entries[i].value, 4);
		free(label);
	}
	if (s->reminder != NULL) {
		fputc('\n', out);
		line_wrapped(out, NULL, s->reminder, 0);
	}
	fflush(out);
}

static void
text_summary(struct frontend *fe, const struct fe_summary *s)
{
	struct text *t = fe->data;

	line_summary(t->out, s);
}

static void
text_destroy(struct frontend *fe)
{
	struct text *t = fe->data;

	free(t->last_action);
	free(fe->data);
	free(fe);
}

static const struct frontend_ops text_ops = {
	.begin = text_begin,
	.end = text_end,
	.welcome = text_welcome,
	.step = text_step,
	.confirm = text_confirm,
	.choose = text_choose,
	.ask_text = text_ask_text,
	.ask_secret = text_ask_secret,
	.progress = text_progress,
	.note = text_note,
	.summary = text_summary,
	.destroy = text_destroy,
};

struct frontend *
text_frontend_new(FILE *in, FILE *out, int yes)
{
	struct frontend *fe = xcalloc(1, sizeof *fe);
	struct text *t = xcalloc(1, sizeof *t);

	t->in = fileno(in);
	t->out = out;
	t->yes = yes;
	t->progress.last_percent = -1;
	fe->name = "text";
	fe->data = t;
	fe->ops = &text_ops;
	return fe;
}
