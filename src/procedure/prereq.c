/*
 * Step P, the prerequisites: which backup, its passphrase when it is
 * encrypted, and the ORIGINAL alpha string; then the backup read once into
 * the staging folder and checked, and the password tried on the staged
 * copy. Nothing on the server is changed here (DESIGN.md, rule 1): a
 * failure leaves no staging folder and ends with exit 3 or 4.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "handoff.h"
#include "i18n.h"
#include "media.h"
#include "secret.h"
#include "startup-disk.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * The backup's path: the option, or asked with the media's candidates. The
 * field holds what was given before (an answer refused, or the backup of
 * an earlier pass through step P), so that nothing typed is lost.
 */
int
prereq_backup(struct recovery *r, int can_back)
{
	struct fe_question q = { 0 };
	char **found = NULL, *answer = NULL, *cause = NULL, *kept = NULL;
	int reply = FE_OK;

	q.key = "backup";
	q.title = _("Where is the backup of Kmsdata?");
	q.text = _("An archive (tar, tar.gz, zip, 7z, ...; also encrypted with openssl enc) or a "
		   "folder holding the Kmsdata files of the original server.");
	q.can_back = can_back;
	if (r->prereq_again)
		kept = xstrdup(r->backup != NULL ? r->backup : r->opt->backup);
	for (;;) {
		if (r->opt->backup != NULL && q.retry == 0 && !r->prereq_again)
			answer = xstrdup(r->opt->backup);
		else {
			if (found == NULL)
				found = media_find_backups();
			q.suggestions = (const char *const *)found;
			/* One found: an empty answer (Enter) takes it. */
			q.def_text = kept != NULL                ? kept :
			    found[0] != NULL && found[1] == NULL ? found[0] :
								   NULL;
			if ((reply = ask_text(r, &q, &answer)) != FE_OK)
				break;
		}
		if (backup_probe(answer, &r->backup_kind, &cause) == 0)
			break;
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		cause = NULL;
		free(kept);
		kept = answer;
		answer = NULL;
		q.retry++;
	}
	xfree_argv(found);
	free(kept);
	if (reply == FE_BACK)
		return STEP_GO_BACK;
	if (reply != FE_OK)
		return ask_exit(reply, EXIT_BACKUP_UNUSABLE);
	free(r->backup);
	r->backup = answer;
	transcript_write(&r->transcript, "backup: %s", answer);
	return -1;
}

/*
 * A backup passphrase: from --backup-passphrase-file, or asked (with
 * q->twice for a new one). Returns -1 to go on, or an exit code.
 */
int
prereq_passphrase_ask(struct recovery *r, struct fe_question *q)
{
	char *cause = NULL;
	int reply;

	if (r->opt->passphrase_file != NULL) {
		if (secret_read_file(r->opt->passphrase_file, &r->passphrase, &cause) == 0)
			return -1;
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		return EXIT_USAGE;
	}
	q->key = "backup-passphrase";
	q->can_reveal = 1;
	secret_free(r->passphrase);
	r->passphrase = NULL;
	if ((reply = ask_secret(r, q, &r->passphrase)) == FE_BACK)
		return STEP_GO_BACK;
	if (reply != FE_OK)
		return ask_exit(reply, EXIT_USAGE);
	return -1;
}

int
prereq_passphrase(struct recovery *r, int can_back)
{
	struct fe_question q = { 0 };

	if (r->backup_kind != BACKUP_ENCRYPTED)
		return -1;
	q.title = _("The backup is encrypted. Its passphrase:");
	q.can_back = can_back;
	return prereq_passphrase_ask(r, &q);
}

/* Typed, or the startup disk: asked when no option said. 0 typed, 1 disk, or an exit code. */
static int
prereq_alpha_source(struct recovery *r, int again, int *source)
{
	static const char *labels[] = { N_("&Type the alpha string"),
		N_("Read the &startup disk (KMSPWD.INI)") };
	static const char *keys[] = { "typed", "startup-disk" };
	const char *choices[2], *help[2];
	struct fe_question q = { 0 };
	int reply;

	choices[0] = _(labels[0]);
	choices[1] = _(labels[1]);
	help[0] = _("14 or 15 letters, as written down when the original server was installed.");
	help[1] = _("The original server's disk; it is looked for on removable media.");
	q.key = "password-source";
	q.title = again ? _("Give the ORIGINAL startup password again:") :
			  _("How will you give the ORIGINAL startup password?");
	q.choices = choices;
	q.choice_help = help;
	q.choice_keys = keys;
	q.nchoices = 2;
	q.def = r->alpha_choice;
	q.retry = again;
	q.can_back = r->alpha_can_back;
	reply = ask_choose(r, &q, source);
	if (reply == FE_OK)
		r->alpha_choice = *source;
	if (reply == FE_BACK)
		return STEP_GO_BACK;
	return reply == FE_OK ? -1 : ask_exit(reply, again ? EXIT_FAILED : EXIT_USAGE);
}

/* Where the password came from: kind for machines, text (taken) for people. */
static void
prereq_alpha_from(struct recovery *r, const char *kind, const char *path, char *text)
{
	free(r->alpha_source);
	r->alpha_source = text;
	r->alpha_kind = kind;
	free(r->alpha_path);
	r->alpha_path = path != NULL ? xstrdup(path) : NULL;
}

static int
prereq_typed(struct recovery *r, int retry)
{
	struct fe_question q = { 0 };
	int reply;

	q.key = "alpha";
	q.title = _("The ORIGINAL alpha string:");
	q.text = _("Not the one the reinstall just made: the one from before the rebuild.");
	q.can_reveal = 1;
	q.twice = r->profile->verify_argv == NULL;
	q.retry = retry;
	q.can_back = 1;
	if ((reply = ask_secret(r, &q, &r->alpha)) == FE_BACK)
		return STEP_GO_BACK;
	if (reply != FE_OK)
		return ask_exit(reply, EXIT_USAGE);
	prereq_alpha_from(r, "typed", NULL, xstrdup(_("typed")));
	return -1;
}

static int
prereq_disk(struct recovery *r, const char *path, int ask)
{
	struct fe_question q = { 0 };
	char *found = NULL, *cause = NULL, *answer = NULL, *typed = NULL, *label, *escaped;
	int reply;

	while (secret_from_startup_disk(path, r->profile->startup_disk_name, &r->alpha, &found,
		   &cause) != 0) {
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		cause = NULL;
		if (!ask)
			return EXIT_USAGE;
		q.key = "startup-disk";
		q.title = _("Where is the startup disk (the folder or the KMSPWD.INI file)?");
		q.retry = answer != NULL;
		q.can_back = 1;
		/* What was typed stays in the field, to be corrected. */
		q.def_text = answer;
		reply = ask_text(r, &q, &typed);
		free(answer);
		answer = typed;
		typed = NULL;
		if (reply == FE_BACK)
			return STEP_GO_BACK;
		if (reply != FE_OK)
			return ask_exit(reply, EXIT_USAGE);
		path = answer;
	}
	free(answer);
	if ((label = media_label(found)) != NULL) {
		escaped = utf8_escape(label);
		prereq_alpha_from(r, "startup-disk", found,
		    /* TRANSLATORS: %1$s is the path of the KMSPWD.INI file used, %2$s the medium's label. */
		    xasprintf(_("startup disk %1$s (medium %2$s)"), found, escaped));
		transcript_write(&r->transcript, "password: from the startup disk %s (medium %s)",
		    found, escaped);
		free(escaped);
		free(label);
	} else {
		prereq_alpha_from(r, "startup-disk", found,
		    /* TRANSLATORS: %s is the path of the KMSPWD.INI file used. */
		    xasprintf(_("startup disk %s"), found));
		transcript_write(&r->transcript, "password: from the startup disk %s", found);
	}
	free(found);
	return -1;
}

/* One attempt at getting the alpha string from the options or the operator. */
static int
prereq_alpha_once(struct recovery *r, int again, int retry)
{
	char *cause = NULL;
	int source = 0, ret;

	if (!again && retry == 0 && r->opt->alpha_file != NULL) {
		if (secret_read_file(r->opt->alpha_file, &r->alpha, &cause) != 0) {
			recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
			free(cause);
			return EXIT_USAGE;
		}
		prereq_alpha_from(r, "file", r->opt->alpha_file,
		    /* TRANSLATORS: %s is a file's path. */
		    xasprintf(_("file %s"), r->opt->alpha_file));
		return -1;
	}
	if (!again && retry == 0 && r->opt->startup_disk != NULL)
		return prereq_disk(r, *r->opt->startup_disk != '\0' ? r->opt->startup_disk : NULL,
		    0);
	for (;;) {
		if ((ret = prereq_alpha_source(r, again || retry > 0, &source)) != -1)
			return ret;
		ret = source == 0 ? prereq_typed(r, retry) : prereq_disk(r, NULL, 1);
		/* Back from the entry: the source is asked again. */
		if (ret != STEP_GO_BACK)
			return ret;
	}
}

/*
 * A startup disk (KMSPWD.INI: "[config]", then "pwd=...") given where a
 * file holding the alpha string alone was expected: *cause says so and
 * names the option that reads it.
 */
static void
prereq_alpha_file_is_disk(struct recovery *r, char **cause)
{
	const char *line = r->alpha->data;

	if (r->opt->alpha_file == NULL || r->alpha->data == NULL)
		return;
	if (strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	while (*line == ' ' || *line == '\t')
		line++;
	if (strncasecmp(line, "[config]", 8) != 0)
		return;
	free(*cause);
	/* TRANSLATORS: %1$s is the file given with --alpha-file. */
	*cause = xasprintf(_("%1$s is a startup disk (its first line is [config]), not a file "
			     "holding the alpha string alone: give it with --startup-disk %1$s."),
	    r->opt->alpha_file);
}

int
prereq_ask_alpha(struct recovery *r, int again)
{
	char *cause = NULL;
	int ret, retry;

	for (retry = 0;; retry++) {
		secret_free(r->alpha);
		r->alpha = NULL;
		if ((ret = prereq_alpha_once(r, again, retry)) != -1)
			return ret;
		if (secret_normalize_alpha(r->alpha, r->profile->secret_case, &cause) == 0)
			return -1;
		prereq_alpha_file_is_disk(r, &cause);
		if (r->opt->alpha_file != NULL || r->opt->startup_disk != NULL) {
			recovery_fail(r, NULL, cause);
			return EXIT_USAGE;
		}
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
		free(cause);
		cause = NULL;
	}
}

int
prereq_verify_alpha(struct recovery *r, const char *dir)
{
	char *output = NULL, *cause = NULL;
	int ok;

	ok = secret_verify(r->profile, r->alpha, dir, &output, &cause);
	if (ok == 1) {
		free(r->cause);
		r->cause = NULL;
		transcript_write(&r->transcript, "password: unlocks %s", dir);
	} else if (ok == 0) {
		free(r->cause);
		/* TRANSLATORS: %s is a folder. */
		r->cause = xasprintf(_("The password does not unlock the key database in %s. It is "
				       "not the ORIGINAL alpha string (Event 5057)."),
		    dir);
		recovery_note(r, FE_ERROR_LEVEL, output, "%s", r->cause);
	} else {
		recovery_fail(r, output, cause);
	}
	free(output);
	return ok;
}

void
prereq_progress_label(struct progress_ctx *ctx, struct recovery *r)
{
	ctx->r = r;
	ctx->label = _("Reading and checking the backup");
}

/* Reads the backup into the staging folder (or, in a dry run, only through). */
static int
prereq_stage(struct recovery *r)
{
	struct backup_options bo = { 0 };
	struct progress_ctx ctx;
	struct progress progress = { recovery_progress_cb, &ctx };
	char *cause = NULL;
	size_t i;
	int ret;

	prereq_progress_label(&ctx, r);
	bo.source = r->backup;
	bo.passphrase = r->passphrase;
	bo.iterations = r->profile->iterations;
	bo.expect = r->profile->expect;
	if (kmsdata_free_space(&r->kmsdata, &bo.free_space, &cause) != 0) {
		free(cause);
		cause = NULL;
		bo.free_space = 0;
	}
	free(r->journal->backup);
	r->journal->backup = xstrdup(r->backup);
	backup_result_free(&r->staged); /* staged again after going back */
	if (r->opt->dry_run)
		ret = backup_validate(&bo, &progress, &r->staged, &cause);
	else if (recovery_save(r, JOURNAL_STAGING) != 0)
		return EXIT_FAILED;
	else
		ret = backup_stage(&bo, r->kmsdata.parent_fd, r->journal->staged, &progress,
		    &r->staged, &cause);
	if (ret != 0) {
		recovery_fail(r, NULL, cause);
		/* Stopped by the operator: the backup was not found wanting. */
		return r->stopped ? EXIT_FAILED : EXIT_BACKUP_UNUSABLE;
	}
	for (i = 0; r->staged.warnings != NULL && r->staged.warnings[i] != NULL; i++)
		recovery_note(r, FE_WARNING, NULL, "%s", r->staged.warnings[i]);
	r->staged_ok = 1;
	if (r->staged.hmac_matched)
		transcript_write(&r->transcript, "backup: HMAC matches");
	free(r->journal->payload);
	r->journal->payload = xstrdup(r->staged.payload != NULL ? r->staged.payload : "");
	free(r->journal->backup_sha256);
	r->journal->backup_sha256 = xstrdup(r->staged.sha256);
	r->journal->files = r->staged.files;
	r->journal->bytes = r->staged.bytes;
	r->journal->manifest_found = r->staged.manifest_found;
	transcript_write(&r->transcript, "backup staged: %llu files, %llu bytes, sha256 %s",
	    (unsigned long long)r->staged.files, (unsigned long long)r->staged.bytes,
	    r->staged.sha256);
	return recovery_save(r, JOURNAL_STAGED) != 0 ? EXIT_FAILED : -1;
}

/* The password tried on the staged copy; another one may be tried. */
static int
prereq_check_staged(struct recovery *r)
{
	char *dir;
	int ok;

	if (r->profile->verify_argv == NULL || r->opt->dry_run)
		return -1;
	dir = xasprintf("%s/%s%s%s", r->kmsdata.parent, r->journal->staged,
	    *r->journal->payload != '\0' ? "/" : "", r->journal->payload);
	/* Refused: another password may be tried; giving up leaves it refused (exit 4). */
	while ((ok = prereq_verify_alpha(r, dir)) == 0) {
		if (prereq_ask_alpha(r, 1) != -1)
			break;
	}
	free(dir);
	return ok == 1 ? -1 : ok == 0 ? EXIT_PASSWORD_REFUSED : EXIT_FAILED;
}

/* Undoes the staging after a refusal: nothing is left changed. */
static void
prereq_abandon(struct recovery *r)
{
	char *cause = NULL;

	if (r->opt->dry_run || r->journal->phase > JOURNAL_STAGED)
		return;
	if (kmsdata_remove_sibling(&r->kmsdata, r->journal->staged, NULL, &cause) != 0) {
		recovery_note(r, FE_WARNING, NULL, "%s", cause);
		free(cause);
		return;
	}
	r->staged_ok = 0;
	journal_close(r->journal, &cause);
	free(cause);
}

/*
 * The staged tree is moved in with renames, which cannot cross file systems:
 * a Kmsdata that is a mount point is refused before anything is done.
 */
static int
prereq_check_kmsdata(struct recovery *r)
{
	struct stat here, parent;

	if (fstat(r->kmsdata.parent_fd, &parent) != 0 ||
	    fstatat(r->kmsdata.parent_fd, r->kmsdata.base, &here, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISDIR(here.st_mode) || here.st_dev == parent.st_dev)
		return -1;
	free(r->cause);
	/* TRANSLATORS: %1$s is the Kmsdata path, %2$s its parent folder. */
	r->cause = xasprintf(_("%1$s is a mount point. kmsrecover restores by renaming folders "
			       "beside it, which cannot cross file systems. Nothing was changed. "
			       "Set the profile's [kmsdata] path to a folder on the same file "
			       "system as %2$s."),
	    r->kmsdata.path, r->kmsdata.parent);
	recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", r->cause);
	return EXIT_FAILED;
}

/*
 * The questions of step P in order, each with Back to the one before (the
 * first one's Back leaves step P: the welcome screen again). An option that
 * answered a question is not asked, until the operator comes back to it.
 */
static int
prereq_questions(struct recovery *r)
{
	enum { AT_BACKUP, AT_PASSPHRASE, AT_ALPHA, AT_DONE } at = AT_BACKUP;
	int ret = -1;

	while (at != AT_DONE) {
		switch (at) {
		case AT_BACKUP:
			if ((ret = prereq_backup(r, 1)) == -1)
				at = AT_PASSPHRASE;
			break;
		case AT_PASSPHRASE:
			if ((ret = prereq_passphrase(r, 1)) == -1)
				at = AT_ALPHA;
			else if (ret == STEP_GO_BACK) {
				r->prereq_again = 1;
				at = AT_BACKUP;
				ret = -1;
			}
			break;
		default:
			r->alpha_can_back = 1;
			ret = prereq_ask_alpha(r, 0);
			r->alpha_can_back = 0;
			if (ret == -1)
				at = AT_DONE;
			else if (ret == STEP_GO_BACK) {
				r->prereq_again = 1;
				at = r->backup_kind == BACKUP_ENCRYPTED &&
					r->opt->passphrase_file == NULL ?
				    AT_PASSPHRASE :
				    AT_BACKUP;
				ret = -1;
			}
			break;
		}
		if (ret != -1)
			return ret;
	}
	return -1;
}

/*
 * Whether the backup staged by an earlier pass through step P is the one
 * named now, unchanged (a file: same inode, size and time of change; a
 * folder is read again, its files may have changed), and still staged.
 */
static int
prereq_staged_already(struct recovery *r)
{
	struct stat st;

	if (!r->staged_ok || r->opt->dry_run || stat(r->backup, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_dev != r->staged_from.st_dev || st.st_ino != r->staged_from.st_ino ||
	    st.st_size != r->staged_from.st_size ||
	    st.st_mtim.tv_sec != r->staged_from.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != r->staged_from.st_mtim.tv_nsec)
		return 0;
	return kmsdata_sibling_exists(&r->kmsdata, r->journal->staged);
}

int
prereq_run(struct recovery *r)
{
	int ret;

	if ((ret = prereq_check_kmsdata(r)) != -1 || (ret = prereq_questions(r)) != -1)
		return ret;
	r->prereq_again = 1;
	if (prereq_staged_already(r)) {
		transcript_write(&r->transcript,
		    "backup: staged already, unchanged: not read again");
		if ((ret = prereq_check_staged(r)) != -1)
			prereq_abandon(r);
		return ret;
	}
	/* Another backup than the one staged: the old copy goes first. */
	if (r->staged_ok)
		prereq_abandon(r);
	if ((ret = prereq_stage(r)) != -1 || (ret = prereq_check_staged(r)) != -1) {
		prereq_abandon(r);
		return ret;
	}
	if (stat(r->backup, &r->staged_from) != 0)
		memset(&r->staged_from, 0, sizeof r->staged_from);
	return -1;
}
