/*
 * The profile (DESIGN.md, "Contracts"): which service, where Kmsdata lives,
 * how the password reaches the service. profile_new() holds the built-in
 * defaults for the Exchange KM Server; profile_load() overlays an INI file,
 * refusing anything it does not understand with the file, the line and the
 * key, because a profile that is half understood is worse than none when
 * the service is about to be stopped.
 *
 * The INI dialect: [section] lines, key = value lines, comments starting
 * with ; or # (also after a value, when preceded by a blank and outside
 * "double quotes"), blanks around keys and values ignored. Section and key
 * names are matched without regard to case.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "i18n.h"
#include "profile.h"
#include "xmalloc.h"

#define PROFILE_TIMEOUT_MAX 3600
#define PROFILE_ITERATIONS_MAX 100000000
/* A profile is a page of text; a larger file is not one (or is /dev/zero). */
#define PROFILE_SIZE_MAX (256 * 1024)

struct profile_key {
	const char *section;
	const char *key;
	/* Parses value into p: 0, or -1 with *why (the reason, without file and line). */
	int (*set)(struct profile *p, const char *value, char **why);
};

static int profile_set_manager(struct profile *, const char *, char **);
static int profile_set_name(struct profile *, const char *, char **);
static int profile_set_start(struct profile *, const char *, char **);
static int profile_set_stop(struct profile *, const char *, char **);
static int profile_set_status(struct profile *, const char *, char **);
static int profile_set_timeout(struct profile *, const char *, char **);
static int profile_set_kmsdata(struct profile *, const char *, char **);
static int profile_set_owner(struct profile *, const char *, char **);
static int profile_set_expect(struct profile *, const char *, char **);
static int profile_set_handoff(struct profile *, const char *, char **);
static int profile_set_verify(struct profile *, const char *, char **);
static int profile_set_disk(struct profile *, const char *, char **);
static int profile_set_case(struct profile *, const char *, char **);
static int profile_set_iterations(struct profile *, const char *, char **);
static int profile_set_state_dir(struct profile *, const char *, char **);
static int profile_set_pause(struct profile *, const char *, char **);

static const struct profile_key profile_keys[] = {
	{ "service", "manager", profile_set_manager },
	{ "service", "name", profile_set_name },
	{ "service", "start", profile_set_start },
	{ "service", "stop", profile_set_stop },
	{ "service", "status", profile_set_status },
	{ "service", "timeout", profile_set_timeout },
	{ "kmsdata", "path", profile_set_kmsdata },
	{ "kmsdata", "owner", profile_set_owner },
	{ "kmsdata", "expect", profile_set_expect },
	{ "secret", "handoff", profile_set_handoff },
	{ "secret", "verify", profile_set_verify },
	{ "secret", "startup-disk", profile_set_disk },
	{ "secret", "case", profile_set_case },
	{ "backup", "iterations", profile_set_iterations },
	{ "recovery", "state-dir", profile_set_state_dir },
	{ "recovery", "pause-between-steps", profile_set_pause },
};
#define PROFILE_NKEYS (sizeof profile_keys / sizeof profile_keys[0])

static const char *profile_sections[] = { "service", "kmsdata", "secret", "backup", "recovery" };
#define PROFILE_NSECTIONS (sizeof profile_sections / sizeof profile_sections[0])

/* The state of one profile_load(). */
struct profile_reader {
	const char *path;
	unsigned int line;
	const char *section;              /* one of profile_sections, NULL before any */
	unsigned int seen[PROFILE_NKEYS]; /* the line each key was set on, 0: not yet */
	unsigned int manager_line;
};

struct profile *
profile_new(void)
{
	struct profile *p = xcalloc(1, sizeof *p);

	p->manager = SERVICE_MANAGER_SYSTEMD;
	p->service_name = xstrdup("MSExchangeKMS");
	p->timeout = 60;
	p->kmsdata_path = xstrdup("/var/lib/exchsrvr/kmsdata");
	p->handoff = HANDOFF_CREDENTIAL; /* systemctl does not pass its stdin to the service */
	p->startup_disk_name = xstrdup("KMSPWD.INI");
	p->expect = xstrdup("Kmsmdb.edb");
	p->secret_case = SECRET_CASE_UPPER;
	p->iterations = 10000;
	p->state_dir = xstrdup(LOCALSTATEDIR "/lib/kmsrecover");
	return p;
}

void
profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	free(p->path);
	free(p->service_name);
	xfree_argv(p->start_argv);
	xfree_argv(p->stop_argv);
	xfree_argv(p->status_argv);
	free(p->kmsdata_path);
	free(p->owner);
	free(p->handoff_path);
	xfree_argv(p->verify_argv);
	free(p->startup_disk_name);
	free(p->expect);
	free(p->state_dir);
	free(p);
}

const char *
profile_manager_name(enum service_manager m)
{
	switch (m) {
	case SERVICE_MANAGER_SYSTEMD:
		return "systemd";
	case SERVICE_MANAGER_SYSV:
		return "sysv";
	case SERVICE_MANAGER_COMMAND:
		return "command";
	}
	return "?";
}

/* Whole number in [min, max], nothing else; -1 when s is not one. */
static int
profile_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
profile_set_path(char **field, const char *value, char **why)
{
	if (value[0] != '/') {
		*why = xasprintf(_("expected an absolute path (starting with /), got \"%s\""),
		    value);
		return -1;
	}
	free(*field);
	*field = xstrdup(value);
	return 0;
}

/*
 * A command: split like a command line; argv[0] is either a bare name
 * (looked up in PATH) or an absolute path, never relative to wherever
 * kmsrecover happens to be started.
 */
static int
profile_set_command(char ***field, const char *value, char **why)
{
	char **argv;

	if (profile_split_argv(value, &argv, why) != 0)
		return -1;
	if (argv[0][0] == '\0') {
		*why = xstrdup(_("the program's name is empty"));
		xfree_argv(argv);
		return -1;
	}
	if (strchr(argv[0], '/') != NULL && argv[0][0] != '/') {
		*why = xasprintf(
		    _("the program must be a name looked up in PATH or an absolute path, "
		      "got \"%s\""),
		    argv[0]);
		xfree_argv(argv);
		return -1;
	}
	xfree_argv(*field);
	*field = argv;
	return 0;
}

static int
profile_set_manager(struct profile *p, const char *value, char **why)
{
	if (strcmp(value, "systemd") == 0)
		p->manager = SERVICE_MANAGER_SYSTEMD;
	else if (strcmp(value, "sysv") == 0)
		p->manager = SERVICE_MANAGER_SYSV;
	else if (strcmp(value, "command") == 0)
		p->manager = SERVICE_MANAGER_COMMAND;
	else {
		*why = xasprintf(_("expected systemd, sysv or command, got \"%s\""), value);
		return -1;
	}
	return 0;
}

static int
profile_set_name(struct profile *p, const char *value, char **why)
{
	const char *c;

	for (c = value; *c != '\0'; c++) {
		if (*c == '/' || *c == ' ' || *c == '\t' || (unsigned char)*c < 0x20)
			break;
	}
	if (*c != '\0' || value[0] == '-' || value[0] == '.') {
		*why = xasprintf(_("expected a service name without blanks or slashes, got \"%s\""),
		    value);
		return -1;
	}
	free(p->service_name);
	p->service_name = xstrdup(value);
	return 0;
}

static int
profile_set_start(struct profile *p, const char *value, char **why)
{
	return profile_set_command(&p->start_argv, value, why);
}

static int
profile_set_stop(struct profile *p, const char *value, char **why)
{
	return profile_set_command(&p->stop_argv, value, why);
}

static int
profile_set_status(struct profile *p, const char *value, char **why)
{
	return profile_set_command(&p->status_argv, value, why);
}

static int
profile_set_timeout(struct profile *p, const char *value, char **why)
{
	long v;

	if (profile_parse_int(value, 1, PROFILE_TIMEOUT_MAX, &v) != 0) {
		*why = xasprintf(_("expected a whole number of seconds from 1 to %d, got \"%s\""),
		    PROFILE_TIMEOUT_MAX, value);
		return -1;
	}
	p->timeout = (int)v;
	return 0;
}

static int
profile_set_kmsdata(struct profile *p, const char *value, char **why)
{
	return profile_set_path(&p->kmsdata_path, value, why);
}

/* A user or group: a name that resolves, or a numeric id. */
static int
profile_resolve_id(const char *s, int group, unsigned long *id)
{
	struct passwd *pw;
	struct group *gr;
	long v;

	if (profile_parse_int(s, 0, INT_MAX, &v) == 0) {
		*id = (unsigned long)v;
		return 0;
	}
	if (group) {
		if ((gr = getgrnam(s)) == NULL)
			return -1;
		*id = gr->gr_gid;
	} else {
		if ((pw = getpwnam(s)) == NULL)
			return -1;
		*id = pw->pw_uid;
	}
	return 0;
}

static int
profile_set_owner(struct profile *p, const char *value, char **why)
{
	const char *colon = strchr(value, ':');
	unsigned long uid, gid;
	char *user;
	int ret = -1;

	if (colon == NULL || colon == value || colon[1] == '\0') {
		*why = xasprintf(_("expected user:group, got \"%s\""), value);
		return -1;
	}
	user = xstrndup(value, (size_t)(colon - value));
	if (profile_resolve_id(user, 0, &uid) != 0) {
		*why = xasprintf(_("there is no user \"%s\" on this system"), user);
		goto out;
	}
	if (profile_resolve_id(colon + 1, 1, &gid) != 0) {
		*why = xasprintf(_("there is no group \"%s\" on this system"), colon + 1);
		goto out;
	}
	free(p->owner);
	p->owner = xstrdup(value);
	p->owner_uid = (uid_t)uid;
	p->owner_gid = (gid_t)gid;
	ret = 0;
out:
	free(user);
	return ret;
}

static int
profile_set_handoff(struct profile *p, const char *value, char **why)
{
	if (strcmp(value, "stdin") == 0)
		p->handoff = HANDOFF_STDIN;
	else if (strcmp(value, "credential") == 0)
		p->handoff = HANDOFF_CREDENTIAL;
	else if (strncmp(value, "file:", 5) == 0 && value[5] == '/') {
		p->handoff = HANDOFF_FILE;
		free(p->handoff_path);
		p->handoff_path = xstrdup(value + 5);
	} else {
		*why = xasprintf(_("expected stdin, credential or file:/absolute/path, got \"%s\""),
		    value);
		return -1;
	}
	return 0;
}

static int
profile_set_verify(struct profile *p, const char *value, char **why)
{
	return profile_set_command(&p->verify_argv, value, why);
}

/* A path inside the restored tree: relative, no "." or ".." component. */
static int
profile_set_expect(struct profile *p, const char *value, char **why)
{
	const char *c = value;
	size_t n;

	for (; *c != '\0'; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			*why = xasprintf(_("expected a file's path inside Kmsdata (such as "
					   "Kmsmdb.edb), got \"%s\""),
			    value);
			return -1;
		}
	}
	free(p->expect);
	p->expect = xstrdup(value);
	return 0;
}

static int
profile_set_disk(struct profile *p, const char *value, char **why)
{
	if (strchr(value, '/') != NULL || strcmp(value, ".") == 0 || strcmp(value, "..") == 0) {
		*why = xasprintf(_("expected a file name without a folder, got \"%s\""), value);
		return -1;
	}
	free(p->startup_disk_name);
	p->startup_disk_name = xstrdup(value);
	return 0;
}

static int
profile_set_case(struct profile *p, const char *value, char **why)
{
	if (strcmp(value, "upper") == 0)
		p->secret_case = SECRET_CASE_UPPER;
	else if (strcmp(value, "exact") == 0)
		p->secret_case = SECRET_CASE_EXACT;
	else {
		*why = xasprintf(_("expected upper or exact, got \"%s\""), value);
		return -1;
	}
	return 0;
}

static int
profile_set_iterations(struct profile *p, const char *value, char **why)
{
	long v;

	if (profile_parse_int(value, 1, PROFILE_ITERATIONS_MAX, &v) != 0) {
		*why = xasprintf(_("expected a whole number from 1 to %d, got \"%s\""),
		    PROFILE_ITERATIONS_MAX, value);
		return -1;
	}
	p->iterations = (int)v;
	return 0;
}

static int
profile_set_state_dir(struct profile *p, const char *value, char **why)
{
	return profile_set_path(&p->state_dir, value, why);
}

static int
profile_set_pause(struct profile *p, const char *value, char **why)
{
	if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
		*why = xasprintf(_("expected yes or no, got \"%s\""), value);
		return -1;
	}
	p->pause_between_steps = strcmp(value, "yes") == 0;
	return 0;
}

/* Reading the file. */

static char *
profile_trim(char *s)
{
	size_t len;

	while (profile_is_blank(*s))
		s++;
	len = strlen(s);
	while (
	    len > 0 && (profile_is_blank(s[len - 1]) || s[len - 1] == '\r' || s[len - 1] == '\n'))
		s[--len] = '\0';
	return s;
}

/* Cuts a trailing " ; comment" or " # comment" off a value, outside quotes. */
static void
profile_cut_comment(char *s)
{
	int quoted = 0;
	char *c;

	for (c = s; *c != '\0'; c++) {
		if (quoted && *c == '\\' && c[1] != '\0')
			c++;
		else if (*c == '"')
			quoted = !quoted;
		else if (!quoted && (*c == ';' || *c == '#') && c > s && profile_is_blank(c[-1])) {
			*c = '\0';
			return;
		}
	}
}

static char *
profile_known_keys(const char *section)
{
	char *list = xstrdup(""), *next;
	size_t i;

	for (i = 0; i < PROFILE_NKEYS; i++) {
		if (strcmp(profile_keys[i].section, section) != 0)
			continue;
		next = xasprintf("%s%s%s", list, *list == '\0' ? "" : ", ", profile_keys[i].key);
		free(list);
		list = next;
	}
	return list;
}

static int
profile_section_line(struct profile_reader *r, char *s, char **cause)
{
	char *end = strchr(s, ']'), *name, *rest = NULL;
	size_t i;

	if (end != NULL)
		rest = profile_trim(end + 1);
	if (end == NULL || (*rest != '\0' && *rest != ';' && *rest != '#')) {
		*cause = xasprintf(_("%1$s:%2$u: expected a [section] line, got \"%3$s\""), r->path,
		    r->line, s);
		return -1;
	}
	*end = '\0';
	name = profile_trim(s + 1);
	for (i = 0; i < PROFILE_NSECTIONS; i++) {
		if (strcasecmp(name, profile_sections[i]) == 0) {
			r->section = profile_sections[i];
			return 0;
		}
	}
	/* TRANSLATORS: %4$s is the list of sections, not translated. */
	*cause = xasprintf(_("%1$s:%2$u: unknown section [%3$s] (known: %4$s)"), r->path, r->line,
	    name, "service, kmsdata, secret, backup, recovery");
	return -1;
}

static int
profile_find_key(struct profile_reader *r, const char *key, char **cause)
{
	char *known;
	size_t i;

	for (i = 0; i < PROFILE_NKEYS; i++) {
		if (strcmp(profile_keys[i].section, r->section) == 0 &&
		    strcasecmp(profile_keys[i].key, key) == 0)
			return (int)i;
	}
	known = profile_known_keys(r->section);
	/* TRANSLATORS: %5$s is the list of keys of that section, not translated. */
	*cause = xasprintf(_("%1$s:%2$u: [%3$s] %4$s: unknown key (known: %5$s)"), r->path, r->line,
	    r->section, key, known);
	free(known);
	return -1;
}

static int
profile_key_line(struct profile *p, struct profile_reader *r, char *s, char **cause)
{
	char *eq = strchr(s, '='), *key, *value, *why = NULL;
	int i;

	if (eq == NULL || eq == s) {
		*cause = xasprintf(_("%1$s:%2$u: expected key = value, got \"%3$s\""), r->path,
		    r->line, s);
		return -1;
	}
	*eq = '\0';
	key = profile_trim(s);
	value = eq + 1;
	profile_cut_comment(value);
	value = profile_trim(value);
	if (r->section == NULL) {
		*cause = xasprintf(_("%1$s:%2$u: %3$s: a key before any [section]"), r->path,
		    r->line, key);
		return -1;
	}
	if ((i = profile_find_key(r, key, cause)) < 0)
		return -1;
	if (r->seen[i] != 0) {
		*cause = xasprintf(_("%1$s:%2$u: [%3$s] %4$s: given twice (first on line %5$u)"),
		    r->path, r->line, r->section, profile_keys[i].key, r->seen[i]);
		return -1;
	}
	r->seen[i] = r->line;
	if (profile_keys[i].set == profile_set_manager)
		r->manager_line = r->line;
	if (*value == '\0')
		why = xstrdup(_("a value is needed"));
	else if (profile_keys[i].set(p, value, &why) == 0)
		return 0;
	/* TRANSLATORS: file:line: [section] key: what is wrong with the value. */
	*cause = xasprintf(_("%1$s:%2$u: [%3$s] %4$s: %5$s"), r->path, r->line, r->section,
	    profile_keys[i].key, why);
	free(why);
	return -1;
}

static int
profile_parse_line(struct profile *p, struct profile_reader *r, char *line, char **cause)
{
	char *s;

	if (r->line == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	s = profile_trim(line);
	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;
	if (*s == '[')
		return profile_section_line(r, s, cause);
	return profile_key_line(p, r, s, cause);
}

/* manager=command needs its three commands. */
static int
profile_check(const struct profile *p, const struct profile_reader *r, char **cause)
{
	const char *missing = NULL;

	if (p->manager != SERVICE_MANAGER_COMMAND)
		return 0;
	if (p->start_argv == NULL)
		missing = "start";
	else if (p->stop_argv == NULL)
		missing = "stop";
	else if (p->status_argv == NULL)
		missing = "status";
	if (missing == NULL)
		return 0;
	/* TRANSLATORS: %3$s is a key name: start, stop or status. */
	*cause = xasprintf(_("%1$s:%2$u: [service] manager: \"command\" needs start, stop and "
			     "status in [service]; %3$s is missing"),
	    r->path, r->manager_line, missing);
	return -1;
}

/*
 * The hand-off, when the file does not say: a systemd unit reads a
 * credential (systemctl does not pass its stdin on); a sysv script or the
 * profile's own start command reads its standard input.
 */
static void
profile_default_handoff(struct profile *p, const struct profile_reader *r)
{
	size_t i;

	for (i = 0; i < PROFILE_NKEYS; i++) {
		if (strcmp(profile_keys[i].key, "handoff") == 0 && r->seen[i] != 0)
			return;
	}
	p->handoff = p->manager == SERVICE_MANAGER_SYSTEMD && p->start_argv == NULL ?
	    HANDOFF_CREDENTIAL :
	    HANDOFF_STDIN;
}

/*
 * The next line of buf from *pos into *line (grown as needed): its bytes up
 * to and including the '\n', NUL-terminated, as getline(3) gives them (a
 * NUL byte inside ends the line's text there).
 */
static void
profile_next_line(const char *buf, size_t len, size_t *pos, char **line, size_t *cap)
{
	const char *nl = memchr(buf + *pos, '\n', len - *pos);
	size_t n = nl != NULL ? (size_t)(nl - (buf + *pos)) + 1 : len - *pos;

	if (*line == NULL || n + 1 > *cap) {
		*cap = n + 1;
		*line = xreallocarray(*line, *cap, 1);
	}
	memcpy(*line, buf + *pos, n);
	(*line)[n] = '\0';
	*pos += n;
}

int
profile_load_buffer(struct profile *p, const char *name, const char *buf, size_t len, char **cause)
{
	struct profile_reader r;
	char *line = NULL;
	size_t cap = 0, pos = 0;
	int ret = -1;

	memset(&r, 0, sizeof r);
	r.path = name;
	while (pos < len) {
		profile_next_line(buf, len, &pos, &line, &cap);
		r.line++;
		if (profile_parse_line(p, &r, line, cause) != 0)
			goto out;
	}
	if (profile_check(p, &r, cause) != 0)
		goto out;
	profile_default_handoff(p, &r);
	free(p->path);
	p->path = xstrdup(name);
	ret = 0;
out:
	free(line);
	return ret;
}

/* The whole file, at most PROFILE_SIZE_MAX bytes: 0, or -1 with *cause. */
static int
profile_read_file(const char *path, char **buf, size_t *len, char **cause)
{
	FILE *f;
	size_t n;
	int ret = -1;

	*buf = xmalloc(PROFILE_SIZE_MAX + 1);
	*len = 0;
	if ((f = fopen(path, "re")) == NULL) {
		*cause = xasprintf(_("cannot read the profile %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	while (errno = 0, (n = fread(*buf + *len, 1, PROFILE_SIZE_MAX + 1 - *len, f)) > 0) {
		*len += n;
		if (*len > PROFILE_SIZE_MAX) {
			/* TRANSLATORS: %2$d is a number of kibibytes. */
			*cause = xasprintf(_("the profile %1$s is larger than %2$d KiB"), path,
			    PROFILE_SIZE_MAX / 1024);
			goto out;
		}
	}
	if (ferror(f)) {
		*cause = xasprintf(_("cannot read the profile %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	if (ret != 0) {
		free(*buf);
		*buf = NULL;
	}
	return ret;
}

int
profile_load(struct profile *p, const char *path, char **cause)
{
	char *buf;
	size_t len;
	int ret;

	if (profile_read_file(path, &buf, &len, cause) != 0)
		return -1;
	ret = profile_load_buffer(p, path, buf, len, cause);
	free(buf);
	return ret;
}
