/*
 * `kmsrecover verify`: the fire drill. The backup read once into a
 * throw-away folder and checked as a recovery would, nothing else touched,
 * and a summary of what it holds.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

static void
verify_summary(struct recovery *r, int code)
{
	struct fe_summary_line lines[4];
	struct fe_summary s = { 0 };
	char *files = NULL;
	size_t n = 0;

	s.success = code == EXIT_RECOVERED;
	s.title = s.success ? _("The backup is sound: it can be restored.") :
			      _("The backup cannot be used.");
	lines[n].label = _("Backup:");
	lines[n++].value = r->backup != NULL ? r->backup :
	    r->opt->backup != NULL           ? r->opt->backup :
					       "-";
	if (s.success) {
		files = xasprintf(Q_("%1$llu file, %2$llu bytes", "%1$llu files, %2$llu bytes",
				      r->staged.files),
		    (unsigned long long)r->staged.files, (unsigned long long)r->staged.bytes);
		lines[n].label = _("Contents:");
		lines[n++].value = files;
		/* A folder has no SHA-256 of its own: never an empty line. */
		if (r->staged.sha256[0] != '\0') {
			lines[n].label = _("SHA-256:");
			lines[n++].value = r->staged.sha256;
		}
		lines[n].label = _("Manifest:");
		lines[n++].value = r->staged.manifest_found ?
		    _("every file matches MANIFEST.sha256") :
		    _("none: files not checked one by one");
	} else if (r->cause != NULL) {
		lines[n].label = _("What went wrong:");
		lines[n++].value = r->cause;
	}
	s.entries = lines;
	s.nentries = n;
	r->fe->ops->summary(r->fe, &s);
	free(files);
}

/*
 * A verification writes nothing, but a backup that could not be restored
 * beside Kmsdata is not sound here either, and an entry claiming more than
 * the disk holds is refused before its (possibly endless) data is read.
 */
static void
verify_free_space(struct recovery *r, struct backup_options *bo)
{
	char *cause = NULL;

	if (kmsdata_open(&r->kmsdata, r->profile->kmsdata_path, &cause) != 0 ||
	    kmsdata_free_space(&r->kmsdata, &bo->free_space, &cause) != 0)
		bo->free_space = 0;
	free(cause);
	kmsdata_close(&r->kmsdata);
}

int
verify_run(struct profile *p, struct frontend *fe, const char *backup, const char *passphrase_file)
{
	struct recovery_options o = { 0 };
	struct recovery r = { 0 };
	struct backup_options bo = { 0 };
	struct progress_ctx ctx;
	struct progress progress = { recovery_progress_cb, &ctx };
	char *cause = NULL;
	int code = EXIT_BACKUP_UNUSABLE;

	o.backup = backup;
	o.passphrase_file = passphrase_file;
	o.dry_run = 1;
	r.profile = p;
	r.fe = fe;
	r.opt = &o;
	r.view.task_title = _("Verify a backup");
	r.view.service_name = p->service_name;
	r.view.manager = profile_manager_name(p->manager);
	r.view.kmsdata = p->kmsdata_path;
	r.view.current = -1;
	r.view.state_text = _("Nothing is changed by a verification.");
	prereq_progress_label(&ctx, &r);
	if (fe->ops->begin(fe, &r.view, &cause) != 0) {
		free(cause);
		return EXIT_FAILED;
	}
	if (prereq_backup(&r, 0) == -1 && prereq_passphrase(&r, 0) == -1) {
		bo.source = r.backup;
		bo.passphrase = r.passphrase;
		bo.iterations = p->iterations;
		bo.expect = p->expect;
		verify_free_space(&r, &bo);
		if (backup_validate(&bo, &progress, &r.staged, &cause) == 0)
			code = EXIT_RECOVERED;
		else {
			recovery_note(&r, FE_ERROR_LEVEL, NULL, "%s", cause);
			r.cause = cause;
		}
	}
	for (size_t i = 0; code == 0 && r.staged.warnings != NULL && r.staged.warnings[i]; i++)
		recovery_note(&r, FE_WARNING, NULL, "%s", r.staged.warnings[i]);
	verify_summary(&r, code);
	fe->ops->end(fe);
	free(r.cause);
	free(r.backup);
	secret_free(r.passphrase);
	backup_result_free(&r.staged);
	return code;
}
