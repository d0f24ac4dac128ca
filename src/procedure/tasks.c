/*
 * Before the disaster: the tasks that make the day of the rebuild hold no
 * surprise. `backup` makes the offline backup the KB assumes (service
 * stopped only while Kmsdata is archived, the archive read back before it
 * takes its name); `startup-disk` writes KMSPWD.INI and reads it back;
 * `rehearse` restores a backup into a throw-away folder and proves the
 * password on it, changing nothing on the live service. They reuse the
 * recovery's modules: service, kmsdata, backup, secret.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "media.h"
#include "mkbackup.h"
#include "engine.h"
#include "i18n.h"
#include "secret.h"
#include "startup-disk.h"
#include "xmalloc.h"

static const char *task_backup_titles[] = { N_("Check the password"), N_("Stop the service"),
	N_("Archive Kmsdata"), N_("Start the service"), N_("Read the archive back") };

static void
task_view_steps(struct recovery *r, const char *title, const char *const *titles, size_t n)
{
	static const char *ids[] = { "1", "2", "3", "4", "5" };
	size_t i;

	for (i = 0; i < n && i < sizeof ids / sizeof ids[0]; i++) {
		r->steps[i].id = ids[i];
		r->steps[i].title = titles[i];
		r->steps[i].state = FE_STEP_PENDING;
	}
	r->view.nsteps = n;
	r->view.task_title = title;
}

static void
task_show(struct recovery *r, int i, const char *explanation, const char *action)
{
	struct fe_step_info info = { 0 };

	if (i >= 0) {
		r->view.current = i;
		r->steps[i].state = FE_STEP_RUNNING;
	}
	info.id = i >= 0 ? r->steps[i].id : "";
	info.title = i >= 0 ? _(r->steps[i].title) : r->view.task_title;
	info.explanation = explanation;
	info.action = action;
	r->fe->ops->step(r->fe, &info);
}

static void
task_done(struct recovery *r, int i, int ok)
{
	r->steps[i].state = ok ? FE_STEP_DONE : FE_STEP_FAILED;
}

static int
task_confirm(struct recovery *r, const char *key, const char *title, int destructive)
{
	struct fe_question q = { 0 };
	int reply;

	q.key = key;
	q.title = title;
	q.destructive = destructive;
	q.def = !destructive;
	reply = ask_confirm(r, &q);
	return reply == FE_OK ? -1 : ask_exit(reply, EXIT_USAGE);
}

/* The password that starts the service again, proven on the live Kmsdata before anything. */
static int
task_alpha_live(struct recovery *r)
{
	int ret, ok;

	if ((ret = prereq_ask_alpha(r, 0)) != -1)
		return ret;
	if (r->profile->verify_argv == NULL)
		return -1;
	while ((ok = prereq_verify_alpha(r, r->kmsdata.path)) == 0) {
		if (prereq_ask_alpha(r, 1) != -1)
			return EXIT_PASSWORD_REFUSED;
	}
	return ok == 1 ? -1 : EXIT_FAILED;
}

static void
task_summary(struct recovery *r, int success, const char *title,
    const struct fe_summary_line *lines, size_t n)
{
	struct fe_summary s = { 0 };

	s.success = success;
	s.title = title;
	s.entries = lines;
	s.nentries = n;
	r->fe->ops->summary(r->fe, &s);
}

/* The backup's default name: kmsdata-<host>-<stamp>.tar.zst[.enc], in the current folder. */
static char *
task_backup_name(struct recovery *r)
{
	char host[128];

	if (r->opt->output != NULL)
		return xstrdup(r->opt->output);
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "host");
	host[sizeof host - 1] = '\0';
	return xasprintf("kmsdata-%s-%s.tar.zst%s", host, r->stamp, r->opt->encrypt ? ".enc" : "");
}

/* The passphrase of a new encrypted backup: from a file, or typed twice. */
static int
task_new_passphrase(struct recovery *r)
{
	struct fe_question q = { 0 };

	if (!r->opt->encrypt)
		return -1;
	q.title = _("A passphrase for the encrypted backup:");
	q.text = _("Without it the backup cannot be opened: keep it with the startup disk.");
	q.twice = 1;
	return prereq_passphrase_ask(r, &q);
}

static char *
task_backup_info(struct recovery *r)
{
	char host[128], *now = log_iso_now(), *info;
	uint64_t files = 0, bytes = 0;
	char *cause = NULL;

	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	if (kmsdata_survey(&r->kmsdata, &files, &bytes, &cause) != 0)
		free(cause);
	info = xasprintf("host=%s\nservice=%s\nkmsdata=%s\ntime=%s\nfiles=%llu\nbytes=%llu\n"
			 "tool=kmsrecover %s\n",
	    host, r->profile->service_name, r->kmsdata.path, now, (unsigned long long)files,
	    (unsigned long long)bytes, PACKAGE_VERSION);
	free(now);
	return info;
}

/* Starts the service again after the archiving, whatever became of it. */
static int
task_restart(struct recovery *r, int was_running)
{
	char *output = NULL, *cause = NULL;

	if (!was_running)
		return 0;
	task_show(r, 3, NULL, NULL);
	if (service_start(r->profile, r->alpha, &output, &cause) != 0) {
		recovery_fail(r, output, cause);
		free(output);
		task_done(r, 3, 0);
		return -1;
	}
	r->downtime = 0;
	task_done(r, 3, 1);
	return 0;
}

/* Stops the service, archives Kmsdata to tmp, starts it again. Returns 0 or an exit code. */
static int
task_backup_archive(struct recovery *r, const char *tmp, const char *final,
    struct mkbackup_result *made)
{
	struct mkbackup_options ao = { 0 };
	struct progress_ctx ctx = { r, _("Archiving Kmsdata") };
	struct progress progress = { recovery_progress_cb, &ctx };
	enum service_state state = SERVICE_UNKNOWN;
	struct timespec t0, t1;
	char *output = NULL, *cause = NULL, *info;
	int ret = 0;

	service_status(r->profile, &state, NULL, &cause);
	free(cause);
	cause = NULL;
	task_show(r, 1, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (service_stop(r->profile, &output, &cause) != 0) {
		recovery_fail(r, output, cause);
		free(output);
		task_done(r, 1, 0);
		return EXIT_FAILED;
	}
	task_done(r, 1, 1);
	transcript_write(&r->transcript, "backup: service stopped");
	task_show(r, 2, NULL, NULL);
	info = task_backup_info(r);
	ao.kmsdata_fd = openat(r->kmsdata.parent_fd, r->kmsdata.base,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ao.output = tmp;
	ao.final_name = final;
	ao.passphrase = r->passphrase;
	ao.iterations = r->profile->iterations;
	ao.info = info;
	if (ao.kmsdata_fd == -1) {
		cause = xasprintf(_("cannot read %1$s: %2$s"), r->kmsdata.path, strerror(errno));
		ret = EXIT_FAILED;
	} else if (mkbackup_write(&ao, &progress, made, &cause) != 0)
		ret = EXIT_FAILED;
	task_done(r, 2, ret == 0);
	if (ret != 0) {
		recovery_fail(r, NULL, cause);
	}
	if (ao.kmsdata_fd != -1)
		close(ao.kmsdata_fd);
	free(info);
	if (task_restart(r, state != SERVICE_STOPPED) != 0 && ret == 0)
		ret = EXIT_FAILED;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->downtime = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	transcript_write(&r->transcript, "backup: service down for %.1f s", r->downtime);
	return ret;
}

/* Reads the new archive back as a recovery would; only then does it take its name. */
static int
task_backup_verify(struct recovery *r, const char *tmp, const char *final)
{
	struct backup_options bo = { 0 };
	struct progress_ctx ctx = { r, _("Reading the archive back") };
	struct progress progress = { recovery_progress_cb, &ctx };
	char *cause = NULL, *side_tmp, *side;
	int ret = EXIT_FAILED;

	task_show(r, 4, NULL, NULL);
	bo.source = tmp;
	bo.passphrase = r->passphrase;
	bo.iterations = r->profile->iterations;
	bo.expect = r->profile->expect;
	if (backup_validate(&bo, &progress, &r->staged, &cause) != 0 ||
	    (r->passphrase != NULL && !r->staged.hmac_matched)) {
		if (cause == NULL)
			cause = xasprintf(_("%s: the HMAC does not match"), tmp);
		recovery_fail(r, NULL, cause);
		task_done(r, 4, 0);
		return EXIT_FAILED;
	}
	side_tmp = backup_hmac_path(tmp);
	side = backup_hmac_path(final);
	if (link(tmp, final) != 0 || (r->passphrase != NULL && rename(side_tmp, side) != 0)) {
		/* TRANSLATORS: %1$s is a file, %2$s the system's reason. */
		r->cause = xasprintf(_("cannot create %1$s: %2$s"), final, strerror(errno));
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", r->cause);
	} else
		ret = 0;
	unlink(tmp);
	free(side_tmp);
	free(side);
	task_done(r, 4, ret == 0);
	return ret;
}

static void
task_backup_summary(struct recovery *r, int code, const char *final,
    const struct mkbackup_result *made)
{
	struct fe_summary_line lines[5];
	char *counts, *down;
	size_t n = 0;

	counts = xasprintf(Q_("%1$llu file, %2$llu bytes", "%1$llu files, %2$llu bytes",
			       made->files),
	    (unsigned long long)made->files, (unsigned long long)made->bytes);
	down = xasprintf(_("%.1f seconds"), r->downtime > 0 ? r->downtime : 0.0);
	lines[n].label = _("Backup:");
	lines[n++].value = final;
	if (code == 0) {
		lines[n].label = _("SHA-256:");
		lines[n++].value = made->sha256;
		lines[n].label = _("Contents:");
		lines[n++].value = counts;
	} else if (r->cause != NULL) {
		lines[n].label = _("What went wrong:");
		lines[n++].value = r->cause;
	}
	if (r->downtime >= 0) {
		lines[n].label = _("Service down for:");
		lines[n++].value = down;
	}
	task_summary(r, code == 0,
	    code == 0 ? _("The backup is made and read back: it can be restored.") :
			_("No backup was made; no partial file is left."),
	    lines, n);
	free(counts);
	free(down);
}

/*
 * Where the archive goes, checked before the service stops: a name whose
 * extension says a format kmsrecover writes, and a folder that exists, may
 * be written and has room for the live Kmsdata. -1 to go on, or an exit code.
 */
static int
task_backup_output_ok(struct recovery *r, const char *final)
{
	char *dir = xstrdup(final), *slash = strrchr(dir, '/');
	const char *formats = mkbackup_name_refused(final);
	uint64_t files = 0, bytes = 0;
	struct statvfs vfs;
	struct stat st;
	char *why = NULL;
	int ret = -1;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	if (formats != NULL)
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
	if (why != NULL)
		ret = EXIT_USAGE;
	else if (kmsdata_survey(&r->kmsdata, &files, &bytes, &why) == 0 &&
	    statvfs(dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < bytes) {
		/* TRANSLATORS: %1$s a folder, %2$llu and %3$llu sizes in bytes. */
		why = xasprintf(_("%1$s has %2$llu bytes free; Kmsdata holds %3$llu: the backup "
				  "would not fit. Nothing was stopped."),
		    dir, (unsigned long long)vfs.f_bavail * vfs.f_frsize,
		    (unsigned long long)bytes);
		ret = EXIT_FAILED;
	} else {
		free(why);
		why = NULL;
	}
	if (why != NULL)
		recovery_fail(r, NULL, why);
	free(dir);
	return ret;
}

/*
 * A backup of a Kmsdata without its key database could never recover the
 * server (the read-back would refuse it): said before the service stops.
 */
static int
task_backup_has_database(struct recovery *r)
{
	struct stat st;
	char *path;
	int ok;

	if (r->profile->expect == NULL || *r->profile->expect == '\0')
		return -1;
	path = xasprintf("%s/%s", r->kmsdata.path, r->profile->expect);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	if (ok)
		return -1;
	/* TRANSLATORS: %1$s is the Kmsdata folder, %2$s the key database's name (Kmsmdb.edb). */
	recovery_fail(r, NULL,
	    xasprintf(_("%1$s holds no %2$s: there is no key database to back up. Nothing was "
			"stopped; check [kmsdata] path in the profile."),
		r->kmsdata.path, r->profile->expect));
	return EXIT_FAILED;
}

static int
task_backup(struct recovery *r)
{
	struct mkbackup_result made = { 0 };
	char *final = task_backup_name(r), *tmp = NULL, *action;
	int ret;

	r->downtime = -1;
	if (access(final, F_OK) == 0) {
		r->cause = xasprintf(_("%s exists already; choose another name with -o."), final);
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", r->cause);
		ret = EXIT_USAGE;
		goto out;
	}
	if ((ret = task_backup_has_database(r)) != -1 ||
	    (ret = task_backup_output_ok(r, final)) != -1)
		goto out;
	/* TRANSLATORS: %1$s service, %2$s Kmsdata path, %3$s the archive's path. */
	action = xasprintf(_("Stop %1$s, archive %2$s into %3$s with its MANIFEST.sha256, start "
			     "the service again, and read the archive back."),
	    r->profile->service_name, r->kmsdata.path, final);
	task_show(r, 0,
	    _("The offline backup a recovery needs: the service is stopped only while "
	      "Kmsdata is archived, so the copy is consistent."),
	    action);
	free(action);
	if ((ret = task_alpha_live(r)) != -1 || (ret = task_new_passphrase(r)) != -1)
		goto out;
	task_done(r, 0, 1);
	if ((ret = task_confirm(r, "confirm-backup", _("Stop the service and back up Kmsdata?"),
		 1)) != -1)
		goto out;
	tmp = xasprintf("%s.partial-%ld", final, (long)getpid());
	if ((ret = task_backup_archive(r, tmp, final, &made)) == 0)
		ret = task_backup_verify(r, tmp, final);
	unlink(tmp);
	action = backup_hmac_path(tmp);
	unlink(action);
	free(action);
out:
	if (ret == -1)
		ret = EXIT_FAILED;
	task_backup_summary(r, ret, final, &made);
	free(tmp);
	free(final);
	return ret;
}

static const char *task_disk_titles[] = { N_("Where to write it"), N_("The alpha string"),
	N_("Check it"), N_("Write the startup disk"), N_("Read it back") };

/* A path named by -o or typed: the file itself, or a folder (a mounted medium) to hold it. */
static char *
task_disk_resolve(struct recovery *r, const char *given)
{
	struct stat st;

	if (stat(given, &st) == 0 && S_ISDIR(st.st_mode))
		return xasprintf("%s/%s", given, r->profile->startup_disk_name);
	return xstrdup(given);
}

/* NULL when a startup disk can be written at path, else why not (translated). */
static char *
task_disk_refusal(struct recovery *r, const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *why = NULL;
	struct stat st;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
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
	char **found = NULL, *answer = NULL, *path = NULL, *why;
	int reply;

	if (r->opt->output != NULL)
		return task_disk_resolve(r, r->opt->output);
	q.key = "output";
	q.title = _("Where should the startup disk be written?");
	q.text = _("A folder on the removable medium (the file KMSPWD.INI is written into it), or "
		   "the file's own path.");
	found = media_find_folders();
	q.suggestions = (const char *const *)found;
	q.def_text = found[0] != NULL && found[1] == NULL ? found[0] : NULL;
	while ((reply = ask_text(r, &q, &answer)) == FE_OK) {
		path = task_disk_resolve(r, answer);
		free(answer);
		if ((why = task_disk_refusal(r, path)) == NULL)
			break;
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", why);
		free(why);
		free(path);
		path = NULL;
		q.retry++;
	}
	xfree_argv(found);
	if (path == NULL)
		*ret = ask_exit(reply, EXIT_USAGE);
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

static int
task_startup_disk(struct recovery *r)
{
	struct fe_summary_line line;
	char *path = NULL, *cause = NULL;
	int ret = EXIT_FAILED, ok;

	line.label = _("Startup disk:");
	line.value = "-";
	task_show(r, 0,
	    _("The startup disk holds the alpha string the KM Server needs to start "
	      "(KMSPWD.INI). Without it, or the written string, a rebuilt server "
	      "cannot open its keys."),
	    NULL);
	if ((path = task_disk_path(r, &ret)) == NULL)
		goto out;
	line.value = path;
	if ((r->cause = task_disk_refusal(r, path)) != NULL) {
		/* The -o given cannot be used: a usage error, as backup's is. */
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", r->cause);
		ret = EXIT_USAGE;
		goto out;
	}
	task_done(r, 0, 1);
	task_show(r, 1, NULL, path);
	if ((ret = task_disk_alpha(r)) != -1)
		goto out;
	task_done(r, 1, 1);
	task_show(r, 2, NULL, NULL);
	if (r->profile->verify_argv != NULL &&
	    (ok = prereq_verify_alpha(r, r->kmsdata.path)) != 1) {
		ret = ok == 0 ? EXIT_PASSWORD_REFUSED : EXIT_FAILED;
		goto out;
	}
	task_done(r, 2, 1);
	task_show(r, 3, NULL, path);
	ok = task_disk_write(r, path, &cause) == 0;
	task_done(r, 3, ok);
	if (ok) {
		task_show(r, 4, NULL, path);
		ok = task_disk_readback(r, path, &cause) == 0;
		task_done(r, 4, ok);
	}
	if (!ok) {
		recovery_fail(r, NULL, cause);
		ret = EXIT_FAILED;
		goto out;
	}
	transcript_write(&r->transcript, "startup disk written: %s", path);
	ret = 0;
out:
	task_summary(r, ret == 0,
	    ret == 0 ? _("The startup disk is written and reads back correctly. Store it safely, "
			 "away from the server.") :
		       _("No startup disk was written."),
	    &line, 1);
	free(path);
	return ret;
}

static const char *task_rehearse_titles[] = { N_("Prerequisites"), N_("Restore a throw-away copy"),
	N_("Try the password on it"), N_("Remove the copy") };

/* Stages the backup in a new folder under $TMPDIR; returns its path, or NULL (noted). */
static char *
task_rehearse_stage(struct recovery *r, struct kmsdata *scratch)
{
	struct backup_options bo = { 0 };
	struct progress_ctx ctx = { r, _("Restoring a throw-away copy") };
	struct progress progress = { recovery_progress_cb, &ctx };
	const char *tmpdir = getenv("TMPDIR");
	char *dir, *cause = NULL, *inside;

	dir = xasprintf("%s/kmsrecover-rehearse.XXXXXX", tmpdir != NULL ? tmpdir : "/tmp");
	if (mkdtemp(dir) == NULL) {
		cause = xasprintf(_("cannot create %1$s: %2$s"), dir, strerror(errno));
		goto fail;
	}
	inside = xasprintf("%s/placeholder", dir);
	if (kmsdata_open(scratch, inside, &cause) != 0) {
		free(inside);
		goto fail;
	}
	free(inside);
	bo.source = r->backup;
	bo.passphrase = r->passphrase;
	bo.iterations = r->profile->iterations;
	bo.expect = r->profile->expect;
	if (kmsdata_free_space(scratch, &bo.free_space, &cause) != 0)
		goto fail;
	if (backup_stage(&bo, scratch->parent_fd, "Kmsdata", &progress, &r->staged, &cause) != 0)
		goto fail;
	return dir;
fail:
	recovery_fail(r, NULL, cause);
	rmdir(dir);
	free(dir);
	return NULL;
}

static int
task_rehearse_verify(struct recovery *r, const char *dir)
{
	char *tree = xasprintf("%s/Kmsdata%s%s", dir, *r->staged.payload != '\0' ? "/" : "",
	    r->staged.payload);
	int ok;

	if (r->profile->verify_argv == NULL) {
		recovery_note(r, FE_WARNING, NULL, "%s",
		    _("The profile names no verifier, so the password cannot be tried on the copy: "
		      "only the backup was proven."));
		free(tree);
		return -1;
	}
	ok = prereq_verify_alpha(r, tree);
	free(tree);
	return ok == 1 ? -1 : ok == 0 ? EXIT_PASSWORD_REFUSED : EXIT_FAILED;
}

static int
task_rehearse(struct recovery *r)
{
	struct kmsdata scratch = { .parent_fd = -1 };
	struct fe_summary_line lines[2];
	char *dir = NULL, *cause = NULL;
	int ret;

	task_show(r, 0,
	    _("The backup is restored into a throw-away folder and the password tried "
	      "on it, as a recovery would; the live service and Kmsdata are not "
	      "touched."),
	    NULL);
	if ((ret = prereq_backup(r)) != -1 || (ret = prereq_passphrase(r)) != -1 ||
	    (ret = prereq_ask_alpha(r, 0)) != -1)
		goto out;
	task_done(r, 0, 1);
	task_show(r, 1, NULL, r->backup);
	if ((dir = task_rehearse_stage(r, &scratch)) == NULL) {
		task_done(r, 1, 0);
		ret = EXIT_BACKUP_UNUSABLE;
		goto out;
	}
	task_done(r, 1, 1);
	task_show(r, 2, NULL, NULL);
	ret = task_rehearse_verify(r, dir);
	task_done(r, 2, ret == -1);
	task_show(r, 3, NULL, dir);
	if (kmsdata_remove_sibling(&scratch, "Kmsdata", NULL, &cause) != 0 || rmdir(dir) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause != NULL ? cause : dir);
		free(cause);
	} else
		task_done(r, 3, 1);
out:
	if (ret == -1)
		ret = 0;
	lines[0].label = _("Backup:");
	lines[0].value = r->backup != NULL ? r->backup : "-";
	lines[1].label = _("What went wrong:");
	lines[1].value = r->cause != NULL ? r->cause : "";
	task_summary(r, ret == 0,
	    ret == 0 ? _("Rehearsal passed: this backup and this password recover the server.") :
		ret == EXIT_USAGE ?
		       _("The rehearsal could not start: nothing was tried.") :
		       _("Rehearsal failed: this backup or this password would not recover the "
			 "server."),
	    lines, ret == 0 || r->cause == NULL ? 1 : 2);
	kmsdata_close(&scratch);
	free(dir);
	return ret;
}

/* The step list and title of a task, before the frontend shows anything of it. */
static void
task_setup_view(struct recovery *r, enum recovery_task task)
{
	if (task == TASK_BACKUP)
		task_view_steps(r, _("Back up Kmsdata"), task_backup_titles, 5);
	else if (task == TASK_STARTUP_DISK)
		task_view_steps(r, _("Make a startup disk"), task_disk_titles, 5);
	else if (task == TASK_REHEARSE)
		task_view_steps(r, _("Rehearse a recovery"), task_rehearse_titles, 4);
}

int
task_dispatch(struct recovery *r, enum recovery_task task)
{
	char *cause = NULL, *path;

	if ((r->kmsdata.parent_fd == -1 &&
		kmsdata_open(&r->kmsdata, r->profile->kmsdata_path, &cause) != 0) ||
	    recovery_state_dir(r->profile->state_dir, &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_FAILED;
	}
	task_setup_view(r, task);
	if (r->transcript.f == NULL && task != TASK_REHEARSE) {
		path = xasprintf("%s/%s-%s.log", r->profile->state_dir,
		    task == TASK_BACKUP ? "backup" : "startup-disk", r->stamp);
		if (transcript_open(&r->transcript, path, &cause) != 0) {
			recovery_note(r, FE_WARNING, NULL, "%s", cause);
			free(cause);
		}
		r->view.transcript_path = r->transcript.path;
		free(path);
	}
	switch (task) {
	case TASK_BACKUP:
		return task_backup(r);
	case TASK_STARTUP_DISK:
		return task_startup_disk(r);
	case TASK_REHEARSE:
		return task_rehearse(r);
	default:
		return EXIT_USAGE;
	}
}

int
task_run(struct profile *p, struct frontend *fe, const struct recovery_options *o)
{
	struct recovery r;
	char *cause = NULL;
	int ret;

	recovery_init(&r, p, fe, o);
	task_setup_view(&r, o->task);
	if (fe->ops->begin(fe, &r.view, &cause) != 0) {
		free(cause);
		recovery_release(&r);
		return EXIT_FAILED;
	}
	recovery_note_profile(&r);
	ret = task_dispatch(&r, o->task);
	fe->ops->end(fe);
	recovery_release(&r);
	return ret;
}
