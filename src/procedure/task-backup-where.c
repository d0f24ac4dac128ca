/*
 * Where `kmsrecover backup` (and the menu's "Back up Kmsdata") writes the
 * archive, decided and checked before the service stops: -o as given, else
 * asked, offering the removable media's folders (a folder gets the
 * archive's usual name inside it); batch without -o keeps the usual name in
 * the current folder. A name that names no format, a folder that is not
 * there or cannot be written, too little room for the live Kmsdata, a file
 * that exists: -o ends the task (exit 2, or 1 for room), a typed answer is
 * asked again. A folder on Kmsdata's own file system is warned about.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "engine.h"
#include "fs.h"
#include "i18n.h"
#include "media.h"
#include "mkbackup.h"
#include "xmalloc.h"

/* kmsdata-<host>-<stamp>.tar.zst[.enc]: the archive's usual name. */
static char *
task_where_name(struct recovery *r)
{
	char host[128];

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "host");
	host[sizeof host - 1] = '\0';
	return xasprintf("kmsdata-%s-%s.tar.zst%s", host, r->stamp, r->opt->encrypt ? ".enc" : "");
}

/* A path given: a folder holds the usual name; a relative path is made absolute. */
static char *
task_where_resolve(struct recovery *r, const char *given)
{
	char *name = task_where_name(r), *path = fs_path_in(given, name), cwd[4096];

	free(name);
	if (path[0] != '/' && getcwd(cwd, sizeof cwd) != NULL) {
		name = xasprintf("%s/%s", cwd, path);
		free(path);
		path = name;
	}
	return path;
}

/* NULL when the archive can be written at final, else why not (translated), with *code. */
static char *
task_where_refusal(struct recovery *r, const char *final, int from_option, int *code)
{
	char *dir = fs_folder_of(final), *why = NULL, *formats = mkbackup_name_refused(final);
	uint64_t files = 0, bytes = 0;
	struct statvfs vfs;
	struct stat st;

	*code = EXIT_USAGE;
	if (access(final, F_OK) == 0)
		why = from_option ?
		    xasprintf(_("%s exists already; choose another name with -o."), final) :
		    /* TRANSLATORS: %s is a file the operator named. */
		    xasprintf(_("%s exists already; choose another name."), final);
	else if (formats != NULL)
		/* TRANSLATORS: %1$s the archive's name, %2$s the extensions kmsrecover writes. */
		why = xasprintf(_("%1$s: its extension names no format kmsrecover writes; use one "
				  "of %2$s (with .enc after it when encrypted)."),
		    final, formats);
	else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		why = xasprintf(_("%s is not a folder: mount the medium, or name a folder that "
				  "exists."),
		    dir);
	else if (access(dir, W_OK) != 0)
		/* TRANSLATORS: %1$s a folder, %2$s the system's reason. */
		why = xasprintf(_("cannot write into %1$s: %2$s"), dir, strerror(errno));
	else if (kmsdata_survey(&r->kmsdata, &files, &bytes, &why) == 0 &&
	    statvfs(dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < bytes) {
		/* TRANSLATORS: %1$s a folder, %2$llu and %3$llu sizes in bytes. */
		why = xasprintf(_("%1$s has %2$llu bytes free; Kmsdata holds %3$llu: the backup "
				  "would not fit. Nothing was stopped."),
		    dir, (unsigned long long)vfs.f_bavail * vfs.f_frsize,
		    (unsigned long long)bytes);
		*code = EXIT_FAILED;
	} else {
		free(why);
		why = NULL;
	}
	free(formats);
	free(dir);
	return why;
}

/* A backup on the disk it protects is lost with that disk: said, not refused. */
static void
task_where_warn(struct recovery *r, const char *final)
{
	char *dir = fs_folder_of(final);
	struct stat out, kms;

	if (stat(dir, &out) == 0 && fstat(r->kmsdata.parent_fd, &kms) == 0 &&
	    out.st_dev == kms.st_dev)
		recovery_note(r, FE_WARNING, NULL,
		    /* TRANSLATORS: %1$s the backup's folder, %2$s the Kmsdata path. */
		    _("%1$s is on the same file system as %2$s: a backup there is lost with the "
		      "server's disk. Copy it to removable media, or write it there."),
		    dir, r->kmsdata.path);
	free(dir);
}

/* The question, and its answer checked; NULL with *ret when the task ends. */
static char *
task_where_ask(struct recovery *r, int *ret)
{
	struct fe_question q = { 0 };
	char **found = media_find_folders(), *answer = NULL, *final = NULL, *why, *def,
	     *cause = NULL;
	int reply, code;

	def = task_where_resolve(r, found[0] != NULL ? found[0] : ".");
	q.key = "output";
	q.title = _("Where should the backup be written?");
	q.text = _("A folder on a removable medium (the archive is named for you), or the "
		   "archive's own path: .tar.zst, .tar.gz, .tar.xz, .tar or .zip.");
	q.suggestions = (const char *const *)found;
	q.def_text = def;
	q.can_back = 1;
	while ((reply = r->fe->ops->ask_text(r->fe, &q, &answer, &cause)) == FE_OK) {
		final = task_where_resolve(r, answer);
		free(answer);
		if ((why = task_where_refusal(r, final, 0, &code)) == NULL)
			break;
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", why);
		free(why);
		/* What was given stays in the field, to be corrected. */
		free(def);
		q.def_text = def = final;
		final = NULL;
		q.retry++;
	}
	if (reply == FE_BACK)
		*ret = RUN_WELCOME;
	if (reply == FE_ERROR && q.retry == 0) {
		/* Batch without -o: the usual name, in the current folder. */
		free(cause);
		cause = NULL;
		answer = task_where_name(r);
		final = task_where_resolve(r, answer);
		free(answer);
		if ((why = task_where_refusal(r, final, 1, &code)) != NULL) {
			recovery_fail(r, NULL, why);
			free(final);
			final = NULL;
			*ret = code;
		}
	} else if (final == NULL && reply != FE_BACK) {
		if (reply == FE_ERROR && cause != NULL)
			recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		*ret = ask_exit(reply, EXIT_USAGE);
	}
	free(cause);
	free(def);
	xfree_argv(found);
	return final;
}

char *
task_backup_where(struct recovery *r, int *ret)
{
	char *final, *why;
	int code;

	if (r->opt->output == NULL)
		final = task_where_ask(r, ret);
	else if ((why = task_where_refusal(r, final = task_where_resolve(r, r->opt->output), 1,
		      &code)) != NULL) {
		recovery_fail(r, NULL, why);
		free(final);
		final = NULL;
		*ret = code;
	}
	if (final != NULL)
		task_where_warn(r, final);
	return final;
}
