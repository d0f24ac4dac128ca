/*
 * kmsrecover's command line: the options, the subcommands (recover, verify,
 * demo), the locale and the catalogs, the choice of a frontend, and the
 * process's hardening. Everything else is the engine's (procedure.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "frontends.h"
#include "i18n.h"
#include "languages.h"
#include "procedure.h"
#include "profile.h"
#include "secret.h"
#include "xmalloc.h"

enum command { CMD_RECOVER, CMD_VERIFY, CMD_DEMO, CMD_BACKUP, CMD_STARTUP_DISK, CMD_REHEARSE };

struct cli {
	enum command command;
	const char *profile;
	const char *frontend;
	const char *answers;
	const char *language;
	const char *demo_dir;
	int records;
	int yes;
	int explicit_command;
	struct recovery_options opt;
};

enum {
	OPT_PROFILE = 256,
	OPT_FRONTEND,
	OPT_BACKUP,
	OPT_STARTUP_DISK,
	OPT_ALPHA_FILE,
	OPT_PASSPHRASE_FILE,
	OPT_DRY_RUN,
	OPT_RESUME,
	OPT_ROLLBACK,
	OPT_REMOVE_QUARANTINE,
	OPT_KEEP_QUARANTINE,
	OPT_PAUSE,
	OPT_REPORT_JSON,
	OPT_ANSWERS,
	OPT_LANGUAGE,
	OPT_DIR,
	OPT_RECORDS,
	OPT_HELP,
	OPT_VERSION,
	OPT_ENCRYPT,
	OPT_FORCE
};

static const struct option main_options[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "frontend", required_argument, NULL, OPT_FRONTEND },
	{ "backup", required_argument, NULL, OPT_BACKUP },
	{ "startup-disk", optional_argument, NULL, OPT_STARTUP_DISK },
	{ "alpha-file", required_argument, NULL, OPT_ALPHA_FILE },
	{ "backup-passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
	{ "output", required_argument, NULL, 'o' },
	{ "encrypt", no_argument, NULL, OPT_ENCRYPT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "yes", no_argument, NULL, 'y' },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "rollback", no_argument, NULL, OPT_ROLLBACK },
	{ "remove-quarantine", no_argument, NULL, OPT_REMOVE_QUARANTINE },
	{ "keep-quarantine", no_argument, NULL, OPT_KEEP_QUARANTINE },
	{ "pause-between-steps", no_argument, NULL, OPT_PAUSE },
	{ "report-json", required_argument, NULL, OPT_REPORT_JSON },
	{ "answers", required_argument, NULL, OPT_ANSWERS },
	{ "language", required_argument, NULL, OPT_LANGUAGE },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "records", required_argument, NULL, OPT_RECORDS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
main_usage(FILE *f)
{
	fprintf(f,
	    _("Usage: kmsrecover [recover] [OPTION]...\n"
	      "  or:  kmsrecover verify --backup PATH [OPTION]...\n"
	      "  or:  kmsrecover demo [--dir DIR] [OPTION]...\n"
	      "  or:  kmsrecover backup [-o FILE] [--encrypt] [OPTION]...\n"
	      "  or:  kmsrecover startup-disk [-o PATH] [--force] [OPTION]...\n"
	      "  or:  kmsrecover rehearse --backup PATH [OPTION]...\n"
	      "Recover an Exchange 5.5 Key Management Server after a complete rebuild\n"
	      "(Microsoft KB Q198814), step by step, with a confirmation before each step.\n"
	      "\n"));
	fprintf(f,
	    _("Commands:\n"
	      "  recover       the recovery (the default)\n"
	      "  verify        read a backup through and check it; change nothing\n"
	      "  demo          build a rehearsal world with a stand-in KM Server and\n"
	      "                recover it\n"
	      "  backup        stop the service, archive Kmsdata with a manifest, start\n"
	      "                it again, read the archive back\n"
	      "  startup-disk  write the alpha string to KMSPWD.INI and read it back\n"
	      "  rehearse      restore a backup into a throw-away folder and prove the\n"
	      "                password on it; change nothing\n"
	      "\n"));
	/* TRANSLATORS: keep every line within 79 columns; %s, the default profile's path, on a line
	 * of its own after the 28 columns of indent. */
	fprintf(f,
	    _("Options:\n"
	      "      --profile FILE        the profile; by default\n"
	      "                            %s\n"
	      "      --frontend NAME       curses, text or batch (default: curses on a\n"
	      "                            capable terminal, text otherwise)\n"
	      "      --backup PATH         the backup: an archive, an encrypted archive or\n"
	      "                            a folder\n"
	      "      --startup-disk [PATH] read the alpha string from the startup disk:\n"
	      "                            KMSPWD.INI or its folder; without PATH, search\n"
	      "                            removable media\n"
	      "      --alpha-file FILE     read the alpha string from FILE (- for stdin)\n"
	      "      --backup-passphrase-file FILE\n"
	      "                            the encrypted backup's passphrase, from FILE\n"),
	    PROFILE_DEFAULT_PATH);
	fprintf(f,
	    _("  -y, --yes                 batch: go ahead with the steps that change\n"
	      "                            the service and Kmsdata\n"
	      "      --dry-run             walk every step, say what it would do, change\n"
	      "                            nothing\n"
	      "      --resume              continue an interrupted recovery\n"
	      "      --rollback            undo an interrupted recovery\n"
	      "      --remove-quarantine   remove the moved-aside files at the end\n"
	      "      --keep-quarantine     keep them (the default in batch mode)\n"
	      "      --report-json FILE    also write the report as JSON to FILE\n"
	      "      --answers FILE        batch: answers as key=value lines\n"
	      "  -o, --output FILE         backup: the archive (its extension picks the\n"
	      "                            format; default kmsdata-HOST-TIME.tar.zst);\n"
	      "                            startup-disk: the file or the medium's folder\n"
	      "      --encrypt             backup: encrypt (openssl enc -aes-256-cbc\n"
	      "                            -pbkdf2) and write FILE.hmac beside it\n"
	      "      --passphrase-file FILE\n"
	      "                            the same as --backup-passphrase-file\n"
	      "      --force               startup-disk: overwrite an existing one\n"
	      "      --language LL         the language of the messages (de, fr, ja, ...)\n"
	      "      --dir DIR             demo: the world's folder (default: a new\n"
	      "                            temporary one)\n"
	      "      --records N           demo: key records of the original server\n"
	      "                            (default 250)\n"
	      "  -h, --help                show this help and exit\n"
	      "  -V, --version             show the version and exit\n"
	      "\n"));
	fprintf(f,
	    _("      --pause-between-steps\n"
	      "                            confirm each of steps 2-7 as it runs\n"
	      "\n"
	      "The service goes down only after the last confirmation: every step is\n"
	      "shown and confirmed first, then steps 2 to 7 run without a pause. With\n"
	      "--pause-between-steps (or the profile's pause-between-steps = yes) each\n"
	      "step is confirmed as it runs, and the service stays down meanwhile.\n"
	      "\n"));
	fprintf(f,
	    _("Exit status: 0 recovered (the service runs); 1 the recovery failed or was\n"
	      "abandoned (nothing lost); 2 usage error; 3 the backup is unusable (nothing\n"
	      "changed); 4 the password was refused.\n"
	      "\n"
	      "See kmsrecover(8) for the profile, the safety rules and examples.\n"));
}

/* Says what is wrong with the command line (message is freed) and returns 2. */
static int
main_usage_error(char *message)
{
	fprintf(stderr, "kmsrecover: %s\n", message);
	free(message);
	fprintf(stderr, _("Try 'kmsrecover --help' for more information.\n"));
	return EXIT_USAGE;
}

/* --language LL: one of the catalogs (or en); 0, or a usage error listing them. */
static int
main_language_known(const char *code)
{
	const struct language *l;
	size_t i, n;
	char *list = NULL, *more;

	l = languages_list(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(l[i].code, code) == 0)
			return 0;
	}
	for (i = 0; i < n; i++) {
		more = list == NULL ? xstrdup(l[i].code) : xasprintf("%s, %s", list, l[i].code);
		free(list);
		list = more;
	}
	/* TRANSLATORS: %1$s is the language asked for, %2$s the list of those there are. */
	more = xasprintf(_("unknown language \"%1$s\" for --language; kmsrecover speaks: %2$s"),
	    code, list != NULL ? list : "en");
	free(list);
	return main_usage_error(more);
}

static int
main_parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* One option; returns 0, or an exit code. */
static int
main_option(struct cli *c, int ch, int argc, char **argv)
{
	switch (ch) {
	case OPT_PROFILE:
		c->profile = optarg;
		break;
	case OPT_FRONTEND:
		c->frontend = optarg;
		break;
	case OPT_BACKUP:
		c->opt.backup = optarg;
		break;
	case OPT_STARTUP_DISK:
		/* "--startup-disk PATH" as well as "--startup-disk=PATH"; alone, search the media. */
		if (optarg == NULL && optind < argc && argv[optind][0] != '-')
			optarg = argv[optind++];
		c->opt.startup_disk = optarg != NULL ? optarg : "";
		break;
	case OPT_ALPHA_FILE:
		c->opt.alpha_file = optarg;
		break;
	case OPT_PASSPHRASE_FILE:
		c->opt.passphrase_file = optarg;
		break;
	case 'y':
		c->yes = 1;
		break;
	case 'o':
		c->opt.output = optarg;
		break;
	case OPT_ENCRYPT:
		c->opt.encrypt = 1;
		break;
	case OPT_FORCE:
		c->opt.force = 1;
		break;
	case OPT_DRY_RUN:
		c->opt.dry_run = 1;
		break;
	case OPT_RESUME:
		c->opt.resume = 1;
		break;
	case OPT_ROLLBACK:
		c->opt.rollback = 1;
		break;
	case OPT_REMOVE_QUARANTINE:
		c->opt.remove_quarantine = 1;
		break;
	case OPT_KEEP_QUARANTINE:
		c->opt.remove_quarantine = 0;
		break;
	case OPT_PAUSE:
		c->opt.pause_between_steps = 1;
		break;
	case OPT_REPORT_JSON:
		c->opt.report_json = optarg;
		break;
	case OPT_ANSWERS:
		c->answers = optarg;
		break;
	case OPT_LANGUAGE:
		c->language = optarg;
		return main_language_known(optarg);
	case OPT_DIR:
		c->demo_dir = optarg;
		break;
	case OPT_RECORDS:
		if (main_parse_int(optarg, 1, 9999, &c->records) != 0)
			/* TRANSLATORS: %s is what was given. */
			return main_usage_error(
			    xasprintf(_("--records: expected a number from 1 to "
					"9999, got \"%s\""),
				optarg));
		break;
	case 'h':
		main_usage(stdout);
		return -2;
	case 'V':
		printf("kmsrecover %s\n", PACKAGE_VERSION);
		return -2;
	default:
		fprintf(stderr, _("Try 'kmsrecover --help' for more information.\n"));
		return EXIT_USAGE;
	}
	return 0;
}

static int
main_command(struct cli *c, const char *word)
{
	if (strcmp(word, "recover") == 0)
		c->command = CMD_RECOVER;
	else if (strcmp(word, "verify") == 0)
		c->command = CMD_VERIFY;
	else if (strcmp(word, "demo") == 0)
		c->command = CMD_DEMO;
	else if (strcmp(word, "backup") == 0)
		c->command = CMD_BACKUP;
	else if (strcmp(word, "startup-disk") == 0)
		c->command = CMD_STARTUP_DISK;
	else if (strcmp(word, "rehearse") == 0)
		c->command = CMD_REHEARSE;
	else
		/* TRANSLATORS: %s is what was typed. */
		return main_usage_error(xasprintf(_("unknown command \"%s\""), word));
	return 0;
}

/* Options and the command. 0 to go on, -2 done (help, version), or an exit code. */
static int
main_parse(struct cli *c, int argc, char **argv)
{
	int ch, ret, first = 1;

	c->opt.remove_quarantine = -1;
	c->records = 250;
	if (argc > 1 && argv[1][0] != '-') {
		if ((ret = main_command(c, argv[1])) != 0)
			return ret;
		first = 2;
		c->explicit_command = 1;
	}
	optind = first;
	while ((ch = getopt_long(argc, argv, "yhVo:", main_options, NULL)) != -1) {
		if ((ret = main_option(c, ch, argc, argv)) != 0)
			return ret;
	}
	if (optind < argc)
		return main_usage_error(xasprintf(_("unexpected argument \"%s\""), argv[optind]));
	if (c->opt.resume && c->opt.rollback)
		return main_usage_error(xstrdup(_("--resume and --rollback exclude each other")));
	if (c->opt.alpha_file != NULL && c->opt.startup_disk != NULL)
		return main_usage_error(
		    xstrdup(_("--alpha-file and --startup-disk exclude each other")));
	if (c->command == CMD_VERIFY && c->opt.backup == NULL)
		return main_usage_error(xstrdup(_("verify needs --backup PATH")));
	c->opt.task = c->command == CMD_BACKUP ? TASK_BACKUP :
	    c->command == CMD_STARTUP_DISK     ? TASK_STARTUP_DISK :
	    c->command == CMD_REHEARSE         ? TASK_REHEARSE :
						 TASK_RECOVER;
	c->opt.choose_task = !c->explicit_command;
	return 0;
}

/* The language asked for: LANGUAGE, else LC_ALL, LC_MESSAGES, LANG ("de_DE.UTF-8" -> "de_DE"). */
static char *
main_wanted_language(void)
{
	static const char *vars[] = { "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG" };
	const char *v;
	size_t i;

	for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		v = getenv(vars[i]);
		if (v == NULL || *v == '\0' || strcmp(v, "C") == 0 || strcmp(v, "POSIX") == 0 ||
		    strncmp(v, "C.", 2) == 0)
			continue;
		return xstrndup(v, strcspn(v, ".@:"));
	}
	return NULL;
}

/*
 * Where a language's glyphs cannot be shown (no UTF-8 character set, or a
 * console without CJK fonts) the messages stay in English, and it says so
 * in English rather than drawing garbage (languages.c decides, for the
 * wizard's F3 as well).
 */
static void
main_language_fallback(const char *lang)
{
	char *why = language_unshowable(lang);

	if (why == NULL)
		return;
	fprintf(stderr, "kmsrecover: %s; messages stay in English.\n", why);
	free(why);
	setenv("LANGUAGE", "en", 1);
}

/*
 * The catalogs: KMSRECOVER_LOCALEDIR, else "locale" beside this program in
 * a build tree, else the installed LOCALEDIR. A rebuilt server often runs
 * in the C locale, or names a locale that was never generated: C.UTF-8 is
 * then used, with LANGUAGE carrying the language asked for, so that the
 * catalogs work without generated locales.
 */
static void
main_locale(const struct cli *c)
{
	const char *dir = getenv("KMSRECOVER_LOCALEDIR"), *now;
	char self[PATH_MAX], *slash, *built = NULL, *lang;
	ssize_t n;

	if (c->language != NULL)
		setenv("LANGUAGE", c->language, 1);
	lang = main_wanted_language();
	if (setlocale(LC_ALL, "") == NULL || (now = setlocale(LC_CTYPE, NULL)) == NULL ||
	    strcmp(now, "C") == 0 || strcmp(now, "POSIX") == 0) {
		if (setlocale(LC_ALL, "C.UTF-8") != NULL && lang != NULL &&
		    getenv("LANGUAGE") == NULL)
			setenv("LANGUAGE", lang, 1);
	}
	/* What is written for programs (the journal, the JSON report) uses '.' in numbers. */
	setlocale(LC_NUMERIC, "C");
	main_language_fallback(lang);
	if (dir == NULL && (n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		built = xasprintf("%s/locale", self);
		if (access(built, F_OK) == 0)
			dir = built;
	}
	bindtextdomain(PACKAGE, dir != NULL ? dir : LOCALEDIR);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
	free(built);
	free(lang);
}

/* The batch answers from the options and the answers file; the options win. */
static int
main_batch_answers(struct cli *c, struct batch_answers *a)
{
	char *cause = NULL;

	if (c->opt.backup != NULL)
		batch_answers_add(a, "backup", c->opt.backup);
	if (c->opt.resume)
		batch_answers_add(a, "journal", "resume");
	if (c->opt.rollback)
		batch_answers_add(a, "journal", "rollback");
	if (c->answers != NULL && batch_answers_read(a, c->answers, &cause) != 0)
		return main_usage_error(cause);
	if (c->opt.backup == NULL)
		c->opt.backup = batch_answers_get(a, "backup");
	if (c->opt.alpha_file == NULL && c->opt.startup_disk == NULL)
		c->opt.alpha_file = batch_answers_get(a, "alpha-file");
	if (c->opt.alpha_file == NULL && c->opt.startup_disk == NULL)
		c->opt.startup_disk = batch_answers_get(a, "startup-disk");
	if (c->opt.passphrase_file == NULL)
		c->opt.passphrase_file = batch_answers_get(a, "backup-passphrase-file");
	a->yes = c->yes ||
	    (batch_answers_get(a, "yes") != NULL &&
		strcmp(batch_answers_get(a, "yes"), "yes") == 0);
	return 0;
}

/* In batch mode, what a recovery will need is checked before anything happens. */
static int
main_batch_check(const struct cli *c, const struct batch_answers *a)
{
	if (c->command == CMD_BACKUP && !a->yes)
		return main_usage_error(xstrdup(_("batch mode stops the service for a backup only "
						  "with --yes")));
	if ((c->command == CMD_BACKUP || c->command == CMD_STARTUP_DISK ||
		c->command == CMD_REHEARSE) &&
	    c->opt.alpha_file == NULL && c->opt.startup_disk == NULL)
		return main_usage_error(
		    xstrdup(_("batch mode needs the password: --alpha-file FILE "
			      "or --startup-disk [PATH]")));
	if (c->command == CMD_REHEARSE && c->opt.backup == NULL)
		return main_usage_error(xstrdup(_("batch mode needs --backup PATH")));
	if (c->command != CMD_RECOVER || c->opt.rollback)
		return 0;
	if (!a->yes && !c->opt.dry_run)
		return main_usage_error(xstrdup(_("batch mode stops the service and replaces "
						  "Kmsdata only with --yes (or try --dry-run)")));
	if (c->opt.backup == NULL && !c->opt.resume)
		return main_usage_error(xstrdup(_("batch mode needs --backup PATH")));
	if (c->opt.alpha_file == NULL && c->opt.startup_disk == NULL)
		return main_usage_error(xstrdup(_("batch mode needs the original password: "
						  "--alpha-file FILE or --startup-disk [PATH]")));
	return 0;
}

static int
main_terminal_capable(void)
{
	const char *term = getenv("TERM");

	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term != NULL && *term != '\0' &&
	    strcmp(term, "dumb") != 0;
}

/* The frontend the options or the terminal call for. NULL with an exit code in *code. */
static struct frontend *
main_frontend(struct cli *c, struct batch_answers *a, int *code)
{
	struct frontend *fe;
	char *cause = NULL;
	const char *name = c->frontend;

	if (name == NULL)
		name = main_terminal_capable() ? "curses" : "text";
	if (strcmp(name, "curses") == 0 && c->yes) {
		*code = main_usage_error(
		    xstrdup(_("--yes is for unattended runs (--frontend batch, or "
			      "text): the wizard asks before each step itself")));
		return NULL;
	}
	if (strcmp(name, "batch") == 0) {
		if ((*code = main_batch_answers(c, a)) != 0 ||
		    (*code = main_batch_check(c, a)) != 0)
			return NULL;
		return batch_frontend_new(a, stdout);
	}
	if (strcmp(name, "text") == 0)
		return text_frontend_new(stdin, stdout, c->yes);
	if (strcmp(name, "curses") != 0) {
		*code = main_usage_error(xasprintf(_("--frontend: expected curses, text or batch, "
						     "got \"%s\""),
		    name));
		return NULL;
	}
	if ((fe = curses_frontend_new(&cause)) != NULL)
		return fe;
	/* TRANSLATORS: %s says why the terminal cannot carry the wizard. */
	fprintf(stderr, _("kmsrecover: %s; using the text frontend.\n"), cause);
	free(cause);
	return text_frontend_new(stdin, stdout, c->yes);
}

static void
main_signal(int sig)
{
	(void)sig;
	recovery_interrupted = 1;
}

/* Ctrl-C, a dropped line, a kill: stop at the next safe point; the journal says where. */
static void
main_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = main_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Lines for a console of 80 columns: each wrapped, its later lines indented by hang. */
static void
main_print_lines(const char *text, int hang)
{
	char *copy = xstrdup(text), *line, *next;

	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (next == NULL && *line == '\0')
			break;
		line_wrapped(stdout, NULL, line, hang);
	}
	free(copy);
	fflush(stdout);
}

static void
main_demo_report(void *arg, const char *line)
{
	(void)arg;
	main_print_lines(line, 2);
}

static int
main_demo(struct cli *c, struct profile **profile, struct demo_world *w)
{
	char *cause = NULL, *text;

	printf(_("Building the demo world...\n"));
	if (demo_build(w, c->demo_dir, c->records, main_demo_report, NULL, &cause) != 0) {
		fprintf(stderr, "kmsrecover: %s\n", cause);
		free(cause);
		return EXIT_FAILED;
	}
	setenv("KMSRECOVER_MEDIA_ROOTS", w->media, 1);
	if (profile_load(*profile, w->profile, &cause) != 0) {
		fprintf(stderr, "kmsrecover: %s\n", cause);
		free(cause);
		return EXIT_FAILED;
	}
	/* TRANSLATORS: %s is the demo world's folder. */
	text = xasprintf(_("The demo world is ready in %s.\n\n"), w->dir);
	main_print_lines(text, 2);
	free(text);
	c->opt.after = demo_compare;
	c->opt.after_arg = w;
	if (c->frontend != NULL && strcmp(c->frontend, "batch") == 0) {
		if (c->opt.backup == NULL)
			c->opt.backup = w->backup;
		if (c->opt.alpha_file == NULL && c->opt.startup_disk == NULL)
			c->opt.startup_disk = "";
		c->yes = 1;
	}
	return 0;
}

static void
main_demo_where(const struct demo_world *w)
{
	char *text;

	text = xasprintf(_("\nThe demo world is in %s:\n"
			   "  the server's Kmsdata   %s/server/Kmsdata\n"
			   "  the backup             %s\n"
			   "  the startup disk       %s\n"
			   "  the original keys      %s\n"
			   "  the profile            %s\n"
			   "  transcripts, reports   %s/state\n"),
	    w->dir, w->dir, w->backup, w->startup_disk, w->fingerprints, w->profile, w->dir);
	main_print_lines(text, 4);
	free(text);
	/* The command on a line of its own, never wrapped: it is to be copied. */
	main_print_lines(_("The stand-in KM Server (kmsim) is left running, so that its keys can "
			   "be queried; this stops it:"),
	    0);
	printf("  %s stop --run %s\n", w->kmsim, w->run);
	fflush(stdout);
}

/* The profile: --profile, else the default file when it exists, else the built-in defaults. */
static int
main_profile(struct cli *c, struct profile **out)
{
	char *cause = NULL;
	const char *path = c->profile;

	*out = profile_new();
	if (path == NULL && access(PROFILE_DEFAULT_PATH, F_OK) == 0)
		path = PROFILE_DEFAULT_PATH;
	else if (path == NULL)
		c->opt.no_profile = c->command == CMD_DEMO ? NULL : PROFILE_DEFAULT_PATH;
	if (path != NULL && profile_load(*out, path, &cause) != 0) {
		fprintf(stderr, "kmsrecover: %s\n", cause);
		free(cause);
		return EXIT_USAGE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct batch_answers answers = { 0 };
	struct demo_world world = { 0 };
	struct profile *profile = NULL;
	struct frontend *fe = NULL;
	char *warning = NULL;
	int ret;

	memset(&c, 0, sizeof c);
	for (ret = 1; ret < argc; ret++) {
		if (strncmp(argv[ret], "--language", 10) == 0)
			c.language = argv[ret][10] == '=' ? argv[ret] + 11 :
			    ret + 1 < argc                ? argv[ret + 1] :
							    NULL;
	}
	main_locale(&c);
	if ((ret = main_parse(&c, argc, argv)) != 0)
		return ret == -2 ? 0 : ret;
	if (secret_init_process(&warning) != 0) {
		fprintf(stderr, "kmsrecover: %s\n", warning);
		free(warning);
	}
	main_signals();
	/* Unattended when standard input is not a terminal: no answer is read from it then. */
	if (c.frontend == NULL && !isatty(STDIN_FILENO))
		c.frontend = "batch";
	if ((ret = main_profile(&c, &profile)) != 0)
		goto out;
	if (c.command == CMD_DEMO && (ret = main_demo(&c, &profile, &world)) != 0)
		goto out;
	if ((fe = main_frontend(&c, &answers, &ret)) == NULL)
		goto out;
	if (c.command == CMD_VERIFY)
		ret = verify_run(profile, fe, c.opt.backup, c.opt.passphrase_file);
	else if (c.opt.task != TASK_RECOVER)
		ret = task_run(profile, fe, &c.opt);
	else
		ret = procedure_run(profile, fe, &c.opt);
	if (c.command == CMD_DEMO)
		main_demo_where(&world);
out:
	frontend_free(fe);
	profile_free(profile);
	demo_world_free(&world);
	batch_answers_free(&answers);
	return ret;
}
