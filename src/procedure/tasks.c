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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "mkbackup.h"
#include "engine.h"
#include "fs.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

static const char *task_backup_titles[] = { N_("Check the password"), N_("Stop the service"),
	N_("Archive Kmsdata"), N_("Start the service"), N_("Read the archive back") };

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
	task_view_show(r, 3, NULL, NULL);
	if (service_start(r->profile, r->alpha, &output, &cause) != 0) {
		recovery_fail(r, output, cause);
		free(output);
		task_view_done(r, 3, 0);
		return -1;
	}
	r->downtime = 0;
	task_view_done(r, 3, 1);
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
	task_view_show(r, 1, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (service_stop(r->profile, &output, &cause) != 0) {
		recovery_fail(r, output, cause);
		free(output);
		task_view_done(r, 1, 0);
		return EXIT_FAILED;
	}
	task_view_done(r, 1, 1);
	transcript_write(&r->transcript, "backup: service stopped");
	task_view_show(r, 2, NULL, NULL);
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
	task_view_done(r, 2, ret == 0);
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

	task_view_show(r, 4, NULL, NULL);
	bo.source = tmp;
	bo.passphrase = r->passphrase;
	bo.iterations = r->profile->iterations;
	bo.expect = r->profile->expect;
	if (backup_validate(&bo, &progress, &r->staged, &cause) != 0 ||
	    (r->passphrase != NULL && !r->staged.hmac_matched)) {
		if (cause == NULL)
			cause = xasprintf(_("%s: the HMAC does not match"), tmp);
		recovery_fail(r, NULL, cause);
		task_view_done(r, 4, 0);
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
	task_view_done(r, 4, ret == 0);
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
	lines[n++].value = final != NULL ? final : r->opt->output != NULL ? r->opt->output : "-";
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
	task_view_summary(r, code == 0,
	    code == 0 ? _("The backup is made and read back: it can be restored.") :
			_("No backup was made; no partial file is left."),
	    lines, n);
	free(counts);
	free(down);
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
	char *final = NULL, *tmp = NULL, *action;
	int ret;

	r->downtime = -1;
	if ((ret = task_backup_has_database(r)) != -1)
		goto out;
	task_view_show(r, -1,
	    _("The offline backup a recovery needs: the service is stopped only while "
	      "Kmsdata is archived, so the copy is consistent."),
	    NULL);
	if ((final = task_backup_where(r, &ret)) == NULL) {
		if (ret == RUN_WELCOME)
			return ret;
		goto out;
	}
	/* TRANSLATORS: %1$s service, %2$s Kmsdata path, %3$s the archive's path. */
	action = xasprintf(_("Stop %1$s, archive %2$s into %3$s with its MANIFEST.sha256, start "
			     "the service again, and read the archive back."),
	    r->profile->service_name, r->kmsdata.path, final);
	task_view_show(r, 0,
	    _("The offline backup a recovery needs: the service is stopped only while "
	      "Kmsdata is archived, so the copy is consistent."),
	    action);
	free(action);
	if ((ret = task_alpha_live(r)) != -1 || (ret = task_new_passphrase(r)) != -1)
		goto out;
	task_view_done(r, 0, 1);
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

	task_view_show(r, 0,
	    _("The backup is restored into a throw-away folder and the password tried "
	      "on it, as a recovery would; the live service and Kmsdata are not "
	      "touched."),
	    NULL);
	do {
		if ((ret = prereq_backup(r, 1)) == RUN_WELCOME)
			return ret;
		/* Back from the passphrase: the backup is asked again, as it was given. */
		r->prereq_again = 1;
	} while (ret == -1 && (ret = prereq_passphrase(r, 1)) == STEP_GO_BACK);
	if (ret != -1 || (ret = prereq_ask_alpha(r, 0)) != -1)
		goto out;
	task_view_done(r, 0, 1);
	task_view_show(r, 1, NULL, r->backup);
	if ((dir = task_rehearse_stage(r, &scratch)) == NULL) {
		task_view_done(r, 1, 0);
		ret = EXIT_BACKUP_UNUSABLE;
		goto out;
	}
	task_view_done(r, 1, 1);
	task_view_show(r, 2, NULL, NULL);
	ret = task_rehearse_verify(r, dir);
	task_view_done(r, 2, ret == -1);
	task_view_show(r, 3, NULL, dir);
	if (kmsdata_remove_sibling(&scratch, "Kmsdata", NULL, &cause) != 0 || rmdir(dir) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause != NULL ? cause : dir);
		free(cause);
	} else
		task_view_done(r, 3, 1);
out:
	if (ret == -1)
		ret = 0;
	lines[0].label = _("Backup:");
	lines[0].value = r->backup != NULL ? r->backup : "-";
	lines[1].label = _("What went wrong:");
	lines[1].value = r->cause != NULL ? r->cause : "";
	task_view_summary(r, ret == 0,
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
		task_view_steps(r, _("Make a startup disk"), task_disk_titles, TASK_DISK_STEPS);
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
		return task_disk_make(r);
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
