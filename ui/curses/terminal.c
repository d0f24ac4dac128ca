/*
 * Taking the terminal and giving it back sane, whatever happens (the
 * issue's "Terminals"): on end(), on an error, on exit() without end(), on
 * SIGTERM and SIGHUP (a flag: the loop gives the screen back and answers
 * FE_QUIT, so the engine's journal stands), and on a crash (the handler
 * puts back the saved tty modes and the terminal's own reset strings with
 * write(2), which is safe in a signal handler, then re-raises).
 *
 * Ctrl-C only sets a flag: during work the gauge asks whether to stop,
 * elsewhere it is a request to quit.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "i18n.h"
#include "wizard.h"
#include "xmalloc.h"

/* Last: it defines macros named after every terminfo capability ("lines"...). */
#include <term.h>

static volatile sig_atomic_t curses_interrupt_flag;
static volatile sig_atomic_t curses_hangup_flag;
static struct wizard *curses_terminal_owner;
static struct termios curses_saved_tty;
static int curses_saved_tty_ok;
static char curses_reset_seq[512];
static size_t curses_reset_len;

static const int curses_flag_signals[] = { SIGINT, SIGHUP, SIGTERM };
static const int curses_crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT };
#define NFLAG (sizeof curses_flag_signals / sizeof curses_flag_signals[0])
#define NCRASH (sizeof curses_crash_signals / sizeof curses_crash_signals[0])
static struct sigaction curses_old_flag[NFLAG];
static struct sigaction curses_old_crash[NCRASH];

int
curses_terminal_usable(char **cause)
{
	const char *term = getenv("TERM");
	char *cup;
	int err = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		*cause = xstrdup(_("standard input and output are not a terminal"));
		return 0;
	}
	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0) {
		*cause = xstrdup(_("the terminal type (TERM) is not set, or is \"dumb\""));
		return 0;
	}
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK) {
		*cause = xasprintf(_("the terminal type \"%s\" is not known here"), term);
		return 0;
	}
	cup = tigetstr("cup");
	if (cup == NULL || cup == (char *)-1) {
		*cause = xasprintf(_("the terminal \"%s\" cannot move the cursor"), term);
		del_curterm(cur_term);
		return 0;
	}
	del_curterm(cur_term);
	return 1;
}

/* Appends a terminfo string to the reset sequence the crash handler writes. */
static void
curses_terminal_add_reset(const char *cap)
{
	char *s = tigetstr(cap);
	size_t n;

	if (s == NULL || s == (char *)-1)
		return;
	n = strlen(s);
	if (curses_reset_len + n >= sizeof curses_reset_seq)
		return;
	memcpy(curses_reset_seq + curses_reset_len, s, n);
	curses_reset_len += n;
}

static void
curses_terminal_flag_handler(int sig)
{
	size_t i;

	if (sig == SIGINT)
		curses_interrupt_flag = 1;
	else
		curses_hangup_flag = 1;
	/* A handler the engine had before us hears of it too. */
	for (i = 0; i < NFLAG; i++) {
		if (curses_flag_signals[i] == sig && !(curses_old_flag[i].sa_flags & SA_SIGINFO) &&
		    curses_old_flag[i].sa_handler != SIG_DFL &&
		    curses_old_flag[i].sa_handler != SIG_IGN && sig != SIGINT)
			curses_old_flag[i].sa_handler(sig);
	}
}

/* One write, async-signal-safe; a crash handler has no one to tell of a failure. */
static void
curses_terminal_write_raw(const char *buf, size_t len)
{
	ssize_t n = write(STDOUT_FILENO, buf, len);

	(void)n;
}

/* Async-signal-safe: tty modes and reset strings back, then die as asked. */
static void
curses_terminal_crash_handler(int sig)
{
	if (curses_saved_tty_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &curses_saved_tty);
	if (curses_reset_len > 0)
		curses_terminal_write_raw(curses_reset_seq, curses_reset_len);
	curses_terminal_write_raw("\r\n", 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Before newterm: the handlers the program had (curses puts in its own). */
static void
curses_terminal_save_signals(void)
{
	size_t i;

	for (i = 0; i < NFLAG; i++)
		sigaction(curses_flag_signals[i], NULL, &curses_old_flag[i]);
	for (i = 0; i < NCRASH; i++)
		sigaction(curses_crash_signals[i], NULL, &curses_old_crash[i]);
}

static void
curses_terminal_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = curses_terminal_flag_handler;
	for (i = 0; i < NFLAG; i++)
		sigaction(curses_flag_signals[i], &sa, NULL);
	sa.sa_handler = curses_terminal_crash_handler;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < NCRASH; i++)
		sigaction(curses_crash_signals[i], &sa, NULL);
}

static void
curses_terminal_atexit(void)
{
	if (curses_terminal_owner != NULL)
		curses_terminal_stop(curses_terminal_owner);
}

/* Colour pairs where the terminal has colour and NO_COLOR is not set. */
static void
curses_terminal_looks(struct wizard *w)
{
	static const struct {
		short fg, bg;
		attr_t extra, mono;
	} l[CL_COUNT] = {
		[CL_NORMAL] = { -1, -1, 0, 0 },
		[CL_TITLE] = { COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE },
		[CL_HEADING] = { -1, -1, A_BOLD, A_BOLD },
		[CL_DIM] = { -1, -1, A_DIM, A_DIM },
		[CL_DONE] = { COLOR_GREEN, -1, 0, 0 },
		[CL_RUNNING] = { COLOR_CYAN, -1, A_BOLD, A_BOLD },
		[CL_FAILED] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
		[CL_BUTTON] = { -1, -1, 0, 0 },
		[CL_BUTTON_FOCUS] = { COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE },
		[CL_HOTKEY] = { -1, -1, A_UNDERLINE | A_BOLD, A_UNDERLINE | A_BOLD },
		[CL_FIELD] = { -1, -1, A_UNDERLINE, A_UNDERLINE },
		[CL_FIELD_FOCUS] = { COLOR_CYAN, -1, A_UNDERLINE | A_BOLD, A_UNDERLINE | A_BOLD },
		[CL_SELECTED] = { COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE },
		[CL_WARNING] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
		[CL_ERROR] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_REVERSE },
		[CL_SUCCESS] = { COLOR_GREEN, -1, A_BOLD, A_BOLD },
		[CL_HINT_KEY] = { -1, -1, A_BOLD, A_BOLD },
		[CL_GAUGE] = { COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE },
		[CL_MATCH] = { COLOR_BLACK, COLOR_YELLOW, 0, A_REVERSE },
	};
	int i;

	w->color = has_colors() && getenv("NO_COLOR") == NULL && start_color() == OK;
	if (w->color && use_default_colors() != OK)
		assume_default_colors(COLOR_WHITE, COLOR_BLACK);
	for (i = 0; i < CL_COUNT; i++) {
		if (!w->color || (l[i].fg == -1 && l[i].bg == -1) || i >= COLOR_PAIRS) {
			w->looks[i] = w->color ? l[i].extra : l[i].mono;
			continue;
		}
		init_pair((short)i, l[i].fg, l[i].bg);
		w->looks[i] = COLOR_PAIR(i) | l[i].extra;
	}
}

int
curses_terminal_start(struct wizard *w, char **cause)
{
	static int atexit_done;

	curses_saved_tty_ok = tcgetattr(STDIN_FILENO, &curses_saved_tty) == 0;
	curses_terminal_save_signals();
	w->screen = newterm(NULL, stdout, stdin);
	if (w->screen == NULL) {
		*cause = xstrdup(_("the terminal could not be set up for the wizard"));
		return -1;
	}
	set_term(w->screen);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	set_escdelay(300);
	curses_terminal_looks(w);
	curses_reset_len = 0;
	curses_terminal_add_reset("sgr0");
	curses_terminal_add_reset("cnorm");
	curses_terminal_add_reset("rmkx");
	curses_terminal_add_reset("rmcup");
	curses_interrupt_flag = curses_hangup_flag = 0;
	curses_terminal_owner = w;
	curses_terminal_signals();
	if (!atexit_done && atexit(curses_terminal_atexit) == 0)
		atexit_done = 1;
	w->active = 1;
	return 0;
}

void
curses_terminal_stop(struct wizard *w)
{
	size_t i;

	if (!w->active)
		return;
	w->active = 0;
	curs_set(1);
	endwin();
	delscreen(w->screen);
	w->screen = NULL;
	for (i = 0; i < NFLAG; i++)
		sigaction(curses_flag_signals[i], &curses_old_flag[i], NULL);
	for (i = 0; i < NCRASH; i++)
		sigaction(curses_crash_signals[i], &curses_old_crash[i], NULL);
	if (curses_saved_tty_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &curses_saved_tty);
	curses_terminal_owner = NULL;
}

/* Whether Ctrl-C was pressed since the last call. */
int
curses_terminal_interrupted(void)
{
	if (!curses_interrupt_flag)
		return 0;
	curses_interrupt_flag = 0;
	return 1;
}

/* Whether SIGHUP or SIGTERM came: the screen is to be given up. */
int
curses_terminal_hung_up(void)
{
	return curses_hangup_flag != 0;
}
