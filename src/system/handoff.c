/*
 * Giving the password to others: the profile's verifier (on its standard
 * input) and the file hand-offs a service reads at its start (credential,
 * file:PATH), written afresh from secure memory and wiped when removed
 * (DESIGN.md, rule 6).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "handoff.h"
#include "i18n.h"
#include "secret.h"
#include "spawn.h"
#include "xmalloc.h"

#define SECRET_CREDSTORE "/run/credstore"

/* The verifier. */

int
secret_verify(const struct profile *p, const struct secret *s, const char *dir, char **output,
    char **cause)
{
	struct spawn_result res;
	char **argv, *line, *how;
	size_t len;
	int ret = -1;

	*output = NULL;
	if (p->verify_argv == NULL) {
		*cause = xstrdup(_("the profile names no verifier ([secret] verify)"));
		return -1;
	}
	argv = profile_substitute_argv(p->verify_argv, "%d", dir);
	line = secret_line(s, &len);
	if (spawn_run(argv, line, len, p->timeout, &res, cause) == -1)
		goto out;
	if (res.exited && res.status == 0)
		ret = 1;
	else if (res.exited && !res.timed_out) {
		*output = res.output;
		res.output = NULL;
		ret = 0;
	} else {
		how = spawn_describe(&res);
		/* TRANSLATORS: %1$s is the verifier program, %2$s how it ended. */
		*cause = xasprintf(_("the verifier %1$s did not finish: %2$s"), argv[0], how);
		free(how);
	}
	spawn_result_free(&res);
out:
	secret_release(line, len + 1);
	xfree_argv(argv);
	return ret;
}

/* The file hand-offs. */

/* The credential store folder, made 0700 when it is not there. */
static int
secret_credstore(char **dir, char **cause)
{
	const char *d = getenv("KMSRECOVER_CREDSTORE");
	struct stat st;

	if (d == NULL || *d == '\0')
		d = SECRET_CREDSTORE;
	if (mkdir(d, 0700) == -1 && errno != EEXIST) {
		*cause = xasprintf(_("cannot create the folder %1$s: %2$s"), d, strerror(errno));
		return -1;
	}
	if (lstat(d, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf(_("%s is not a folder"), d);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(d, 0700) == -1) {
		*cause = xasprintf(_("cannot make %1$s private: %2$s"), d, strerror(errno));
		return -1;
	}
	*dir = xstrdup(d);
	return 0;
}

/* Creates path afresh with mode and the secret and a newline in it, synced. */
static int
secret_write_new(const char *path, mode_t mode, const struct secret *s, char **cause)
{
	char *line;
	size_t len;
	int fd, ret = -1;

	if (unlink(path) == -1 && errno != ENOENT) {
		*cause = xasprintf(_("cannot remove the old %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
	if (fd == -1) {
		*cause = xasprintf(_("cannot create %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	line = secret_line(s, &len);
	if (fchmod(fd, mode) == -1 || fs_write_all(fd, line, len) == -1 ||
	    fault_fail("fsync") == -1 || fsync(fd) == -1) {
		*cause = xasprintf(_("cannot write %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	secret_release(line, len + 1);
	close(fd);
	if (ret == -1)
		secret_handoff_remove(path);
	return ret;
}

int
secret_handoff_write(const struct profile *p, const struct secret *s, char **path, char **cause)
{
	char *dir, *file;
	mode_t mode = 0600;

	*path = NULL;
	if (p->handoff == HANDOFF_STDIN)
		return 0;
	if (p->handoff == HANDOFF_CREDENTIAL) {
		if (secret_credstore(&dir, cause) == -1)
			return -1;
		file = xasprintf("%s/%s.alpha", dir, p->service_name);
		free(dir);
		mode = 0400;
	} else
		file = xstrdup(p->handoff_path);
	if (secret_write_new(file, mode, s, cause) == -1) {
		free(file);
		return -1;
	}
	*path = file;
	return 0;
}

void
secret_handoff_remove(const char *path)
{
	static const char zeros[512];
	struct stat st;
	off_t left;
	size_t n = 0;
	int fd;

	if (path == NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) == -1 &&
	    errno == EACCES && chmod(path, 0600) == 0)
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd != -1) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			for (left = st.st_size; left > 0; left -= (off_t)n) {
				n = left > (off_t)sizeof zeros ? sizeof zeros : (size_t)left;
				if (write(fd, zeros, n) != (ssize_t)n)
					break;
			}
			fsync(fd);
		}
		close(fd);
	}
	unlink(path);
}
