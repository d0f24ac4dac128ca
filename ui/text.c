/*
 * The text frontend: one question per line, for serial consoles, TERM=dumb,
 * screen readers and braille lines (DESIGN.md, "Layers"). Choices are
 * numbered; an empty answer takes the default shown in brackets; "b" goes
 * back where that is offered and "q" quits. Input is read with read(2), a
 * byte at a time, so that a secret goes straight into secure memory and
 * no stdio buffer holds a copy.
 *
 * "?" at any question lists the answers it takes; a refused answer names
 * them too. The letters of the answers are the language's and also the
 * English ones (y, n, b, q), the language's first where the two collide.
 *
 * Prose is word-wrapped to the width of the terminal (of COLUMNS, or 80,
 * when the output is a pipe or a file), one column short so that a full
 * line does not wrap on its own. A path, a word with a '/', is never
 * split, nor is a value printed as a unit (a summary's path, a backup
 * found): copy-paste, grep and screen readers need it whole, so it
 * overflows the line rather than break.
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

struct text {
	int in;
	FILE *out;
	struct line_progress progress;
	const struct fe_view *view;
	char *last_action; /* the step's action, not repeated by the question */
	int yes;           /* --yes: confirmations are answered yes, as apt-get -y does */
	int banner_shown;  /* how to answer is said before the first question asked */
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

	lines = width_wrap_whole(prompt, (size_t)line_columns(t->out) - 2, &n);
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

/* What a typed word answers at a prompt. */
enum text_reply { TEXT_YES, TEXT_NO, TEXT_BACK, TEXT_QUIT };

struct text_word {
	const char *english;
	const char *translated;
	enum text_reply reply;
};

/* The words a prompt takes: yes and no when yes_no, back when can_back, and quit. */
static size_t
text_words(struct text_word *w, int yes_no, int can_back)
{
	size_t n = 0;

	if (yes_no) {
		w[n++] = (struct text_word){ "yes", _("yes"), TEXT_YES };
		w[n++] = (struct text_word){ "no", _("no"), TEXT_NO };
	}
	if (can_back)
		w[n++] = (struct text_word){ "back", _("back"), TEXT_BACK };
	w[n++] = (struct text_word){ "quit", _("quit"), TEXT_QUIT };
	return n;
}

/*
 * Which of the n words the answer is, or -1: a whole word (English or
 * translated), else one letter: the language's first letter of a word
 * before any English one, so that where a language's letter is another
 * answer's English letter (or two of its words share one), the first of
 * the language's words keeps it.
 */
static int
text_match(const char *answer, const struct text_word *w, size_t n)
{
	size_t i, la = 0, lw = 0;
	wint_t first = text_first_char(answer, &la);

	for (i = 0; i < n; i++)
		if (text_same_word(answer, w[i].english) || text_same_word(answer, w[i].translated))
			return (int)w[i].reply;
	if (first == 0 || answer[la] != '\0')
		return -1;
	for (i = 0; i < n; i++)
		if (first == text_first_char(w[i].translated, &lw))
			return (int)w[i].reply;
	for (i = 0; i < n; i++)
		if (first == text_first_char(w[i].english, &lw))
			return (int)w[i].reply;
	return -1;
}

/* Once, before the first question asked: how to answer (a run that asks nothing says nothing). */
static void
text_banner(struct text *t)
{
	char *line;

	if (t->banner_shown)
		return;
	t->banner_shown = 1;
	line = xasprintf("%s %s",
	    _("Answer each question and press Enter. An empty answer takes "
	      "the default in [brackets]; q quits."),
	    _("? at a question lists the answers it takes."));
	line_wrapped(t->out, NULL, line, 0);
	free(line);
	fputc('\n', t->out);
}

/* One line of the help: what to type, and what it does. */
static void
text_help_line(struct text *t, const char *line)
{
	line_wrapped(t->out, "  ", line, 4);
}

/*
 * "?": what the question is about and every answer it takes. what lists
 * the answers of its own kind (yes and no, numbers, a path); def (may be
 * NULL) is what Enter takes; words, whether b and q are answers (not for
 * a secret, which may be any text).
 */
static void
text_help(struct text *t, const struct fe_question *q, const char *const *what, size_t nwhat,
    const char *def, int words)
{
	char *line;
	size_t i;

	fputc('\n', t->out);
	line_wrapped(t->out, NULL, q->title, 0);
	text_paragraphs(t, q->text);
	line_wrapped(t->out, NULL, _("This question takes:"), 0);
	for (i = 0; i < nwhat; i++)
		text_help_line(t, what[i]);
	if (def != NULL) {
		/* TRANSLATORS: a line of the help at a question; %s is the default answer. */
		line = xasprintf(_("Enter: the default (%s)"), def);
		text_help_line(t, line);
		free(line);
	}
	if (words && q->can_back)
		text_help_line(t, _("b: back to the previous question"));
	if (words)
		text_help_line(t, _("q: quit"));
	text_help_line(t, _("?: this help"));
	fflush(t->out);
}

/* The numbered choices, with their one-line help. */
static void
text_choices(struct text *t, const struct fe_question *q)
{
	char *number, *plain, *line;
	size_t i;

	for (i = 0; i < q->nchoices; i++) {
		number = xasprintf("  %zu) ", i + 1);
		plain = fe_label_words(q->choices[i]);
		if (q->choice_help != NULL && q->choice_help[i] != NULL)
			line = xasprintf("%s - %s", plain, q->choice_help[i]);
		else
			line = xstrdup(plain);
		line_wrapped(t->out, number, line, 5);
		free(line);
		free(plain);
		free(number);
	}
}

/* "?" at a numbered choice: the help, then the choices again. */
static void
text_choose_help(struct text *t, const struct fe_question *q)
{
	char *numbers, *def = fe_label_words(q->choices[q->def]);
	const char *what[1];

	/* TRANSLATORS: a line of the help at a numbered choice; %zu is the number of choices. */
	numbers = xasprintf(_("1-%zu: the choice with that number"), q->nchoices);
	what[0] = numbers;
	text_help(t, q, what, 1, def, 1);
	text_choices(t, q);
	free(numbers);
	free(def);
}

/* A number of the choices, 0-based, or -1. */
static int
text_choice_number(const struct fe_question *q, const char *answer)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(answer, &end, 10);
	if (errno != 0 || end == answer || *end != '\0' || n < 1 || (size_t)n > q->nchoices)
		return -1;
	return (int)n - 1;
}

static void
text_choose_refused(struct text *t, const struct fe_question *q)
{
	char *line;

	if (q->can_back)
		line = xasprintf(_("Please answer with a number from 1 to %zu, b (back) or q "
				   "(quit); ? shows help."),
		    q->nchoices);
	else
		line = xasprintf(_("Please answer with a number from 1 to %zu, or q (quit); ? "
				   "shows help."),
		    q->nchoices);
	line_wrapped(t->out, NULL, line, 0);
	free(line);
}

static int
text_choose_common(struct text *t, const struct fe_question *q, int *choice)
{
	struct text_word w[4];
	size_t nw = text_words(w, 0, q->can_back);
	char *answer, prompt[256];
	int reply;

	text_choices(t, q);
	/* TRANSLATORS: the prompt of a numbered choice; %1$zu the count, %2$d the default. */
	snprintf(prompt, sizeof prompt, _("Choose 1-%1$zu [%2$d]:"), q->nchoices, q->def + 1);
	for (;;) {
		if ((answer = text_ask_line(t, prompt)) == NULL)
			return FE_QUIT;
		if (strcmp(answer, "?") == 0) {
			free(answer);
			text_choose_help(t, q);
			continue;
		}
		*choice = *answer == '\0' ? q->def : text_choice_number(q, answer);
		reply = text_match(answer, w, nw);
		free(answer);
		if (*choice >= 0)
			return FE_OK;
		if (reply == TEXT_QUIT)
			return FE_QUIT;
		if (reply == TEXT_BACK)
			return FE_BACK;
		text_choose_refused(t, q);
	}
}

static int
text_welcome(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	struct text *t = fe->data;

	(void)cause;
	if (q->nchoices > 1)
		text_banner(t);
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
	if (info->confirmed) {
		/* Confirmed before: it runs now; what it does was said then. */
		fflush(t->out);
		return;
	}
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
text_confirm_auto(struct text *t, const struct fe_question *q, const char *prompt)
{
	int keep = strcmp(q->key, "remove-quarantine") == 0;

	fprintf(t->out, "%s %s\n", prompt,
	    keep ? _("no (kept: --yes removes nothing)") : _("yes (--yes)"));
	fflush(t->out);
	return keep ? FE_NO : FE_OK;
}

static int
text_confirm(struct frontend *fe, const struct fe_question *q, char **cause)
{
	static const int replies[] = { FE_OK, FE_NO, FE_BACK, FE_QUIT };
	struct text *t = fe->data;
	int def_yes = q->def && !q->destructive, reply;
	struct text_word w[4];
	size_t nw = text_words(w, 1, q->can_back);
	const char *what[2] = { _("y: yes"), _("n: no") };
	char *answer, prompt[512];

	(void)cause;
	if (!t->yes)
		text_banner(t);
	if (q->text != NULL && (t->last_action == NULL || strcmp(q->text, t->last_action) != 0))
		text_paragraphs(t, q->text);
	/* TRANSLATORS: %1$s is a question; the brackets show the default answer. */
	snprintf(prompt, sizeof prompt, def_yes ? _("%1$s [Y/n]%2$s") : _("%1$s [y/N]%2$s"),
	    q->title, q->can_back ? _(" (b: back)") : "");
	/* --yes answers for the operator, and says so; the quarantine is kept, as in batch. */
	if (t->yes)
		return text_confirm_auto(t, q, prompt);
	for (;;) {
		if ((answer = text_ask_line(t, prompt)) == NULL)
			return FE_QUIT;
		if (strcmp(answer, "?") == 0) {
			free(answer);
			text_help(t, q, what, 2, def_yes ? _("yes") : _("no"), 1);
			continue;
		}
		reply = *answer == '\0' ? (int)(def_yes ? TEXT_YES : TEXT_NO) :
					  text_match(answer, w, nw);
		free(answer);
		if (reply >= 0)
			return replies[reply];
		line_wrapped(t->out, NULL,
		    q->can_back ? _("Please answer y (yes), n (no), b (back) or q (quit); ? shows "
				    "help.") :
				  _("Please answer y (yes), n (no) or q (quit); ? shows help."),
		    0);
	}
}

static int
text_choose(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	struct text *t = fe->data;

	(void)cause;
	text_banner(t);
	line_wrapped(t->out, NULL, q->title, 0);
	text_paragraphs(t, q->text);
	return text_choose_common(t, q, choice);
}

/* The candidates of a question (backups found on media), each whole on its line; their count. */
static size_t
text_suggestions(struct text *t, const struct fe_question *q)
{
	char *number;
	size_t i;

	for (i = 0; q->suggestions != NULL && q->suggestions[i] != NULL; i++) {
		if (i == 0)
			line_wrapped(t->out, NULL, _("Found on removable media:"), 0);
		number = xasprintf("  %zu) ", i + 1);
		line_value(t->out, number, q->suggestions[i], 5);
		free(number);
	}
	return i;
}

/* "?" at a question typed in: the help, then the candidates again. */
static void
text_ask_text_help(struct text *t, const struct fe_question *q, size_t n)
{
	const char *what[2];
	char *numbers = NULL;
	size_t nwhat = 0;

	if (n == 1)
		what[nwhat++] = _("1: the one found");
	if (n > 1) {
		/* TRANSLATORS: a line of the help at a question; %zu is how many were found. */
		numbers = xasprintf(_("1-%zu: the one found with that number"), n);
		what[nwhat++] = numbers;
	}
	what[nwhat++] = _("Anything else: the answer itself, as typed");
	text_help(t, q, what, nwhat, q->def_text, 1);
	text_suggestions(t, q);
	free(numbers);
}

static int
text_ask_text(struct frontend *fe, const struct fe_question *q, char **answer, char **cause)
{
	struct text *t = fe->data;
	struct text_word w[4];
	size_t nw = text_words(w, 0, q->can_back), n;
	char *line, *end;
	long pick;
	int reply;

	(void)cause;
	text_banner(t);
	text_paragraphs(t, q->text);
	n = text_suggestions(t, q);
	while ((line = text_ask_line(t, q->title)) != NULL && strcmp(line, "?") == 0) {
		free(line);
		text_ask_text_help(t, q, n);
	}
	if (line == NULL || (reply = text_match(line, w, nw)) == TEXT_QUIT) {
		free(line);
		return FE_QUIT;
	}
	if (reply == TEXT_BACK) {
		free(line);
		return FE_BACK;
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

/* Reads the first entry of a secret; "?" alone shows the help and asks again. */
static int
text_read_secret_first(struct text *t, const struct fe_question *q, struct secret **out)
{
	const char *what[1] = { _("Type it and press Enter; what you type is not shown.") };

	for (;;) {
		if (text_read_secret(t, q->title, out) != 0)
			return -1;
		if ((*out)->len != 1 || (*out)->data[0] != '?')
			return 0;
		secret_free(*out);
		text_help(t, q, what, 1, NULL, 0);
	}
}

static int
text_ask_secret(struct frontend *fe, const struct fe_question *q, struct secret **out, char **cause)
{
	struct text *t = fe->data;
	struct secret *first = NULL, *second = NULL;
	int same;

	(void)cause;
	text_banner(t);
	text_paragraphs(t, q->text);
	line_wrapped(t->out, NULL, _("(What you type is not shown.)"), 0);
	for (;;) {
		if (text_read_secret_first(t, q, &first) != 0)
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
