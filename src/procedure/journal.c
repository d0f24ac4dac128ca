/*
 * The journal (see journal.h). Written with the same discipline as the
 * files it protects: a temp file beside it, fsync, rename over, fsync of
 * the folder; so after a power cut it is either the old state or the new.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "i18n.h"
#include "journal.h"
#include "xmalloc.h"

#define JOURNAL_MAX_SIZE 65536

static const char *journal_phases[] = { "staging", "staged", "stopping", "stopped", "quarantining",
	"quarantined", "restoring", "restored", "starting", "started" };

const char *
journal_phase_name(enum journal_phase p)
{
	return journal_phases[p];
}

struct journal *
journal_new(const char *state_dir)
{
	struct journal *j = xcalloc(1, sizeof *j);

	j->path = xasprintf("%s/journal", state_dir);
	return j;
}

void
journal_free(struct journal *j)
{
	if (j == NULL)
		return;
	free(j->path);
	free(j->stamp);
	free(j->kmsdata);
	free(j->staged);
	free(j->quarantine);
	free(j->payload);
	free(j->backup);
	free(j->backup_sha256);
	free(j->transcript);
	free(j->started);
	free(j);
}

/* The string fields, by key, for reading and writing alike. */
static char **
journal_field(struct journal *j, const char *key)
{
	if (strcmp(key, "stamp") == 0)
		return &j->stamp;
	if (strcmp(key, "kmsdata") == 0)
		return &j->kmsdata;
	if (strcmp(key, "staged") == 0)
		return &j->staged;
	if (strcmp(key, "quarantine") == 0)
		return &j->quarantine;
	if (strcmp(key, "payload") == 0)
		return &j->payload;
	if (strcmp(key, "backup") == 0)
		return &j->backup;
	if (strcmp(key, "backup-sha256") == 0)
		return &j->backup_sha256;
	if (strcmp(key, "transcript") == 0)
		return &j->transcript;
	if (strcmp(key, "started") == 0)
		return &j->started;
	return NULL;
}

static const char *journal_keys[] = { "stamp", "kmsdata", "staged", "quarantine", "payload",
	"backup", "backup-sha256", "transcript", "started" };

/* A number of the journal's own: digits only (and one '.' when fraction). */
static int
journal_number(const char *value, int fraction, double *out)
{
	char *end;

	if (*value < '0' || *value > '9' || (!fraction && strchr(value, '.') != NULL))
		return -1;
	errno = 0;
	*out = strtod(value, &end);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static int
journal_set(struct journal *j, const char *key, const char *value)
{
	char **field;
	double number;
	size_t i;

	if (strcmp(key, "phase") == 0) {
		for (i = 0; i < sizeof journal_phases / sizeof journal_phases[0]; i++) {
			if (strcmp(journal_phases[i], value) == 0) {
				j->phase = (enum journal_phase)i;
				return 0;
			}
		}
		return -1;
	}
	if (strcmp(key, "service-was-running") == 0) {
		j->service_was_running = strcmp(value, "yes") == 0;
		return 0;
	}
	if (strcmp(key, "rolling-back") == 0) {
		j->rolling_back = strcmp(value, "yes") == 0;
		return 0;
	}
	if (strcmp(key, "manifest") == 0) {
		j->manifest_found = strcmp(value, "yes") == 0;
		return 0;
	}
	if (strcmp(key, "files") == 0 || strcmp(key, "bytes") == 0) {
		if (journal_number(value, 0, &number) != 0 || number > 1e19)
			return -1;
		*(key[0] == 'f' ? &j->files : &j->bytes) = strtoull(value, NULL, 10);
		return 0;
	}
	if (strcmp(key, "stopped-at") == 0)
		return journal_number(value, 1, &j->stopped_at);
	if (strcmp(key, "version") == 0)
		return strcmp(value, "1") == 0 ? 0 : -1;
	if ((field = journal_field(j, key)) == NULL)
		return -1;
	free(*field);
	*field = xstrdup(value);
	return 0;
}

static int
journal_parse(struct journal *j, char *text, char **cause)
{
	char *line, *next, *eq;
	int lineno = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL)
			goto bad;
		*eq = '\0';
		if (journal_set(j, line, eq + 1) != 0)
			goto bad;
	}
	if (j->stamp == NULL || j->kmsdata == NULL || j->staged == NULL || j->quarantine == NULL) {
		/* TRANSLATORS: %s is the journal's path. */
		*cause = xasprintf(_("%s: the journal is incomplete"), j->path);
		return -1;
	}
	if (j->payload == NULL)
		j->payload = xstrdup("");
	return 0;
bad:
	/* TRANSLATORS: %1$s is the journal's path, %2$d the line number. */
	*cause = xasprintf(_("%1$s:%2$d: the journal is damaged: unknown key or value"), j->path,
	    lineno);
	return -1;
}

int
journal_load(const char *state_dir, struct journal **out, char **cause)
{
	struct journal *j = journal_new(state_dir);
	char *text = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, ret = -1;

	if ((fd = open(j->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			journal_free(j);
			return 0;
		}
		*cause = xasprintf(_("cannot read %1$s: %2$s"), j->path, strerror(errno));
		goto out;
	}
	text = xmalloc(JOURNAL_MAX_SIZE + 1);
	while ((n = read(fd, text + len, JOURNAL_MAX_SIZE - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), j->path, strerror(errno));
		goto out;
	}
	text[len] = '\0';
	if (journal_parse(j, text, cause) != 0)
		goto out;
	*out = j;
	j = NULL;
	ret = 1;
out:
	if (fd != -1)
		close(fd);
	free(text);
	journal_free(j);
	return ret;
}

static char *
journal_format(struct journal *j)
{
	char *text, *more, **field;
	size_t i;

	text = xasprintf("version=1\nphase=%s\nservice-was-running=%s\nrolling-back=%s\n"
			 "manifest=%s\nfiles=%llu\nbytes=%llu\nstopped-at=%.3f\n",
	    journal_phases[j->phase], j->service_was_running ? "yes" : "no",
	    j->rolling_back ? "yes" : "no", j->manifest_found ? "yes" : "no", j->files, j->bytes,
	    j->stopped_at);
	for (i = 0; i < sizeof journal_keys / sizeof journal_keys[0]; i++) {
		field = journal_field(j, journal_keys[i]);
		if (*field == NULL)
			continue;
		more = xasprintf("%s%s=%s\n", text, journal_keys[i], *field);
		free(text);
		text = more;
	}
	return text;
}

int
journal_save(struct journal *j, char **cause)
{
	char *tmp = xasprintf("%s.tmp", j->path), *text = journal_format(j);
	int fd, ret = -1;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || fs_write_all(fd, text, strlen(text)) != 0 || fault_fail("fsync") != 0 ||
	    fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (fault_fail("rename") != 0 || rename(tmp, j->path) != 0 || fs_sync_parent(j->path) != 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	/* TRANSLATORS: %1$s is the journal's path, %2$s the system's reason. */
	*cause = xasprintf(_("cannot write the journal %1$s: %2$s"), j->path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(text);
	free(tmp);
	return ret;
}

int
journal_close(struct journal *j, char **cause)
{
	char *done = xasprintf("%s.done-%s", j->path, j->stamp != NULL ? j->stamp : "unknown");
	int ret = 0;

	if (rename(j->path, done) != 0 && errno != ENOENT) {
		*cause = xasprintf(_("cannot write the journal %1$s: %2$s"), j->path,
		    strerror(errno));
		ret = -1;
	} else
		fs_sync_parent(j->path);
	free(done);
	return ret;
}

char *
journal_stamp_readable(const char *stamp)
{
	if (stamp == NULL || strlen(stamp) < 16 || stamp[8] != 'T' || stamp[15] != 'Z')
		return xstrdup(stamp != NULL ? stamp : "");
	return xasprintf("%.4s-%.2s-%.2s %.2s:%.2s:%.2s UTC", stamp, stamp + 4, stamp + 6,
	    stamp + 9, stamp + 11, stamp + 13);
}
