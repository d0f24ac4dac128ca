/*
 * `kmsrecover startup-disk`, and the menu's "Make a startup disk": where to
 * write it (-o, or asked, offering the removable media's folders), the
 * alpha string (from a file, or typed twice), checked against the live
 * Kmsdata where the profile has a verifier, KMSPWD.INI written 0400 from
 * secure memory and read back as a recovery would read it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "engine.h"
#include "fs.h"
#include "i18n.h"
#include "media.h"
#include "secret.h"
#include "startup-disk.h"
#include "xmalloc.h"

const char *const task_disk_titles[TASK_DISK_STEPS] = { N_("Where to write it"),
	N_("The alpha string"), N_("Check it"), N_("Write the startup disk"), N_("Read it back") };

/* NULL when a startup disk can be written at path, else why not (translated). */
static char *
task_disk_refusal(struct recovery *r, const char *path)
{
	char *dir = fs_folder_of(path), *why = NULL;
	struct stat st;

	if (access(path, F_OK) == 0 && !r->opt->force)
		why = xasprintf(_("%s exists already: a startup disk is not overwritten unless "
				  "you give --force."),
		    path);
	else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		/* TRANSLATORS: %s is a folder that does not exist. */
		why = xasprintf(_("%s is not a folder: mount the medium, or name a folder that "
				  "exists."),
		    dir);
	free(dir);
	return why;
}

/*
 * Where the new startup disk goes: -o, else asked, offering the folders of
 * the removable media found. A typed answer that cannot be used is asked
 * again; -o is taken as it is. Returns the path, or NULL with *ret the exit
 * code that ends the task.
 */
static char *
task_disk_path(struct recovery *r, int *ret)
{
	struct fe_question q = { 0 };
	char **found = NULL, *answer = NULL, *path = NULL, *why, *kept = NULL;
	int reply;

	if (r->opt->output != NULL)
		return fs_path_in(r->opt->output, r->profile->startup_disk_name);
	q.key = "output";
	q.title = _("Where should the startup disk be written?");
	q.text = _("A folder on the removable medium (the file KMSPWD.INI is written into it), or "
		   "the file's own path.");
	found = media_find_folders();
	q.suggestions = (const char *const *)found;
	q.def_text = found[0] != NULL && found[1] == NULL ? found[0] : NULL;
	q.can_back = 1;
	while ((reply = ask_text(r, &q, &answer)) == FE_OK) {
		path = fs_path_in(answer, r->profile->startup_disk_name);
		if ((why = task_disk_refusal(r, path)) == NULL)
			break;
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", why);
		free(why);
		free(path);
		path = NULL;
		/* What was typed stays in the field, to be corrected. */
		free(kept);
		q.def_text = kept = answer;
		answer = NULL;
		q.retry++;
	}
	free(answer);
	free(kept);
	xfree_argv(found);
	if (path == NULL)
		*ret = reply == FE_BACK ? RUN_WELCOME : ask_exit(reply, EXIT_USAGE);
	return path;
}

/* The alpha string for a new startup disk: from a file, or typed twice. */
static int
task_disk_alpha(struct recovery *r)
{
	struct fe_question q = { 0 };
	char *cause = NULL;
	int reply;

	for (;;) {
		secret_free(r->alpha);
		r->alpha = NULL;
		if (r->opt->alpha_file != NULL)
			reply = secret_read_file(r->opt->alpha_file, &r->alpha, &cause) == 0 ?
			    FE_OK :
			    FE_ERROR;
		else {
			q.key = "alpha";
			q.title = _("The alpha string of this KM Server:");
			q.twice = 1;
			q.can_reveal = 1;
			reply = r->fe->ops->ask_secret(r->fe, &q, &r->alpha, &cause);
		}
		if (reply == FE_OK &&
		    secret_normalize_alpha(r->alpha, r->profile->secret_case, &cause) == 0)
			return -1;
		if (cause != NULL)
			recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		cause = NULL;
		if (reply != FE_OK || r->opt->alpha_file != NULL)
			return reply == FE_QUIT ? EXIT_FAILED : EXIT_USAGE;
		q.retry++;
	}
}

/* Writes KMSPWD.INI, 0400, from secure memory. */
static int
task_disk_write(struct recovery *r, const char *path, char **cause)
{
	static const char head[] = "[config]\r\npwd=", tail[] = "\r\n";
	size_t len = sizeof head - 1 + r->alpha->len + sizeof tail - 1;
	char *buf = OPENSSL_secure_malloc(len);
	int fd, ret = -1;

	memcpy(buf, head, sizeof head - 1);
	memcpy(buf + sizeof head - 1, r->alpha->data, r->alpha->len);
	memcpy(buf + sizeof head - 1 + r->alpha->len, tail, sizeof tail - 1);
	if (r->opt->force)
		unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd != -1 && write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0)
		ret = 0;
	if (ret != 0)
		*cause = xasprintf(_("cannot write %1$s: %2$s"), path, strerror(errno));
	if (fd != -1)
		close(fd);
	if (ret != 0 && fd != -1)
		unlink(path);
	OPENSSL_secure_clear_free(buf, len);
	return ret;
}

/* Reads the new disk back as a recovery would; 0 when it gives the same string. */
static int
task_disk_readback(struct recovery *r, const char *path, char **cause)
{
	struct secret *back = NULL;
	char *found = NULL;
	int same;

	if (secret_from_startup_disk(path, r->profile->startup_disk_name, &back, &found, cause) !=
	    0)
		return -1;
	same = secret_normalize_alpha(back, r->profile->secret_case, cause) == 0 &&
	    back->len == r->alpha->len && CRYPTO_memcmp(back->data, r->alpha->data, back->len) == 0;
	secret_free(back);
	free(found);
	if (!same && *cause == NULL)
		*cause = xasprintf(_("%s does not read back as written"), path);
	return same ? 0 : -1;
}

int
task_disk_make(struct recovery *r)
{
	struct fe_summary_line line;
	char *path = NULL, *cause = NULL;
	int ret = EXIT_FAILED, ok;

	line.label = _("Startup disk:");
	line.value = "-";
	task_view_show(r, 0,
	    _("The startup disk holds the alpha string the KM Server needs to start "
	      "(KMSPWD.INI). Without it, or the written string, a rebuilt server "
	      "cannot open its keys."),
	    NULL);
	if ((path = task_disk_path(r, &ret)) == NULL) {
		if (ret == RUN_WELCOME)
			return ret;
		goto out;
	}
	line.value = path;
	if ((r->cause = task_disk_refusal(r, path)) != NULL) {
		/* The -o given cannot be used: a usage error, as backup's is. */
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", r->cause);
		ret = EXIT_USAGE;
		goto out;
	}
	task_view_done(r, 0, 1);
	task_view_show(r, 1, NULL, path);
	if ((ret = task_disk_alpha(r)) != -1)
		goto out;
	task_view_done(r, 1, 1);
	task_view_show(r, 2, NULL, NULL);
	if (r->profile->verify_argv != NULL &&
	    (ok = prereq_verify_alpha(r, r->kmsdata.path)) != 1) {
		ret = ok == 0 ? EXIT_PASSWORD_REFUSED : EXIT_FAILED;
		goto out;
	}
	task_view_done(r, 2, 1);
	task_view_show(r, 3, NULL, path);
	ok = task_disk_write(r, path, &cause) == 0;
	task_view_done(r, 3, ok);
	if (ok) {
		task_view_show(r, 4, NULL, path);
		ok = task_disk_readback(r, path, &cause) == 0;
		task_view_done(r, 4, ok);
	}
	if (!ok) {
		recovery_fail(r, NULL, cause);
		ret = EXIT_FAILED;
		goto out;
	}
	transcript_write(&r->transcript, "startup disk written: %s", path);
	ret = 0;
out:
	task_view_summary(r, ret == 0,
	    ret == 0 ? _("The startup disk is written and reads back correctly. Store it safely, "
			 "away from the server.") :
		       _("No startup disk was written."),
	    &line, 1);
	free(path);
	return ret;
}
