/*
 * Moving trees in and out of Kmsdata (see kmsdata.c for the rules they
 * keep): step 3's quarantine and its undo, step 4's swap-in of the staged
 * tree and its undo. Each looks first at where the folders are and what
 * they hold, so that from any state it left behind a second run finishes
 * the job.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "i18n.h"
#include "xmalloc.h"
#include "kmsdata-private.h"

/*
 * Gives folder n the owner and mode of want. No chown when the owner is
 * already right, so that an unprivileged run works wherever nothing needs
 * changing; the mode is set after the owner, which may clear set-id bits.
 */
static int
kmsdata_adopt(const struct kmsdata_node *n, const struct stat *want, char **cause)
{
	struct stat st;
	int fd, chowned = 0, ret = -1;

	if ((fd = kmsdata_open_dir(n->dirfd, n->name, n->path, cause)) == -1)
		return -1;
	if (fstat(fd, &st) != 0) {
		*cause = xasprintf(_("cannot examine %1$s: %2$s"), n->path, strerror(errno));
		goto out;
	}
	if (st.st_uid != want->st_uid || st.st_gid != want->st_gid) {
		if (fault_fail("chown") != 0 || fchown(fd, want->st_uid, want->st_gid) != 0) {
			*cause = xasprintf(_("cannot give %1$s the owner %2$lu:%3$lu: %4$s"),
			    n->path, (unsigned long)want->st_uid, (unsigned long)want->st_gid,
			    strerror(errno));
			goto out;
		}
		chowned = 1;
	}
	if ((chowned || (st.st_mode & 07777) != (want->st_mode & 07777)) &&
	    fchmod(fd, want->st_mode & 07777) != 0) {
		*cause = xasprintf(_("cannot set the mode of %1$s to %2$04o: %3$s"), n->path,
		    (unsigned int)(want->st_mode & 07777), strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Creates folder n (there already is fine) with the owner and mode of want. */
static int
kmsdata_make_dir(const struct kmsdata_node *n, const struct stat *want, char **cause)
{
	if (fault_fail("mkdir") != 0 || mkdirat(n->dirfd, n->name, 0700) != 0) {
		if (errno != EEXIST) {
			*cause = xasprintf(_("cannot create the folder %1$s: %2$s"), n->path,
			    strerror(errno));
			return -1;
		}
	}
	return kmsdata_adopt(n, want, cause);
}

/* Removes the empty folder n; absent is fine. */
static int
kmsdata_remove_empty(const struct kmsdata_node *n, char **cause)
{
	if (fault_fail("unlink") != 0 || unlinkat(n->dirfd, n->name, AT_REMOVEDIR) != 0) {
		if (errno == ENOENT)
			return 0;
		*cause = xasprintf(_("cannot remove the empty folder %1$s: %2$s"), n->path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* renameat() that never replaces anything (EEXIST instead). */
static int
kmsdata_rename_new(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat st;

	if (fault_fail("rename") != 0)
		return -1;
#ifdef RENAME_NOREPLACE
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return -1;
#endif
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(fromfd, from, tofd, to);
}

/* Renames every entry of folder from into folder to; *moved counts them. */
static int
kmsdata_move_entries(const struct kmsdata_node *from, const struct kmsdata_node *to,
    const char *kill_point, size_t *moved, char **cause)
{
	char **names;
	size_t n, i;
	int ffd = -1, tfd = -1, ret = -1;

	*moved = 0;
	if (kmsdata_list(from->dirfd, from->name, from->path, &names, &n, cause) != 0)
		return -1;
	if ((ffd = kmsdata_open_dir(from->dirfd, from->name, from->path, cause)) == -1 ||
	    (tfd = kmsdata_open_dir(to->dirfd, to->name, to->path, cause)) == -1)
		goto out;
	for (i = 0; i < n; i++, (*moved)++) {
		if (kmsdata_rename_new(ffd, names[i], tfd, names[i]) == 0) {
			fault_point(kill_point);
			continue;
		}
		if (errno == EXDEV)
			*cause = xasprintf(
			    _("cannot move %1$s/%2$s into %3$s: they are on different "
			      "file systems (is Kmsdata a mount point?), and kmsrecover "
			      "moves files only by renaming them"),
			    from->path, names[i], to->path);
		else
			*cause = xasprintf(_("cannot move %1$s/%2$s into %3$s: %4$s"), from->path,
			    names[i], to->path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ffd != -1)
		close(ffd);
	if (tfd != -1)
		close(tfd);
	kmsdata_free_names(names, n);
	return ret;
}

/*
 * Moves entry by entry, from a folder that cannot be renamed. When nothing
 * could be moved, a folder made here is removed again: nothing changed.
 */
static int
kmsdata_move_each(struct kmsdata_node *from, struct kmsdata_node *to, const char *kill_point,
    char **cause)
{
	int made = 0;
	size_t moved;
	char *ignored = NULL;

	if (!to->exists) {
		if (kmsdata_make_dir(to, &from->st, cause) != 0) {
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
		made = to->exists = 1;
	}
	if (kmsdata_move_entries(from, to, kill_point, &moved, cause) == 0)
		return 0;
	if (moved == 0 && made && kmsdata_remove_empty(to, &ignored) != 0)
		free(ignored);
	if (moved == 0)
		kmsdata_state(cause, _("nothing has been moved"));
	else
		kmsdata_state(cause,
		    _("part of the files are in %1$s and the rest still in %2$s; "
		      "running this again carries on, rolling back puts them back"),
		    to->path, from->path);
	return -1;
}

/* kmsdata_empty_out's move: from is there and holds files, or to is missing. */
static int
kmsdata_empty_out_move(struct kmsdata_node *from, struct kmsdata_node *to, const char *kill_point,
    char **cause)
{
	if (to->exists && !from->mounted) {
		if (!to->empty) {
			*cause = xasprintf(
			    _("both %1$s and %2$s hold files, which no interrupted run "
			      "leaves behind; both have been left as they are"),
			    from->path, to->path);
			return -1;
		}
		if (kmsdata_remove_empty(to, cause) != 0) {
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
		to->exists = 0;
	}
	if (!from->mounted) {
		if (kmsdata_rename_new(from->dirfd, from->name, to->dirfd, to->name) == 0) {
			fault_point(kill_point);
			return 0;
		}
		if (errno != EBUSY && errno != EXDEV) {
			*cause = xasprintf(_("cannot move %1$s to %2$s: %3$s"), from->path,
			    to->path, strerror(errno));
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
	}
	return kmsdata_move_each(from, to, kill_point, cause);
}

/*
 * kmsdata_empty_out's end: from exists, empty, with the mode and owner it
 * had (which, once renamed, only to still has); all flushed to disk.
 */
static int
kmsdata_empty_out_finish(const struct kmsdata *k, struct kmsdata_node *from,
    struct kmsdata_node *to, int from_adopts, char **cause)
{
	if (kmsdata_look(from, cause) != 0 || kmsdata_look(to, cause) != 0)
		goto fail;
	if (!to->exists) {
		*cause = xasprintf(_("%s has disappeared"), to->path);
		return -1;
	}
	if (!from->exists) {
		if (kmsdata_make_dir(from, &to->st, cause) != 0)
			goto fail;
	} else if (from->mounted) {
		if (kmsdata_adopt(to, &from->st, cause) != 0)
			goto fail;
	} else if (from_adopts) {
		if (kmsdata_adopt(from, &to->st, cause) != 0)
			goto fail;
	}
	if (kmsdata_sync_node(to, cause) != 0 || kmsdata_sync_node(from, cause) != 0 ||
	    kmsdata_sync_fd(k->parent_fd, k->parent, cause) != 0)
		goto fail;
	return 0;
fail:
	kmsdata_state(cause,
	    _("the files of %1$s are all in %2$s; running this again finishes "
	      "the job"),
	    from->path, to->path);
	return -1;
}

/*
 * Moves the tree of folder from (Kmsdata) into folder to (missing, or
 * empty) and leaves from an empty folder with its mode and owner: step 3,
 * and the undo of step 4. When both are there and from is empty, the move
 * is done; from_adopts then says whether to holds from's true mode and
 * owner (the quarantine is Kmsdata itself, renamed).
 */
static int
kmsdata_empty_out(const struct kmsdata *k, struct kmsdata_node *from, struct kmsdata_node *to,
    int from_adopts, const char *kill_point, char **cause)
{
	if (kmsdata_look(from, cause) != 0 || kmsdata_look(to, cause) != 0)
		return -1;
	if (!from->exists && !to->exists) {
		*cause = xasprintf(_("neither %1$s nor %2$s exists; there is nothing to move"),
		    from->path, to->path);
		return -1;
	}
	if (from->exists && (!to->exists || !from->empty)) {
		if (kmsdata_empty_out_move(from, to, kill_point, cause) != 0)
			return -1;
	}
	return kmsdata_empty_out_finish(k, from, to, from_adopts, cause);
}

/*
 * Gives every entry below folder n (and n itself with top) the owner
 * uid:gid, either may be -1 for unchanged, and flushes n to disk. The
 * files themselves are on disk already (staging flushed them, syncfs
 * included), so nothing below n is visited unless an owner is asked, and
 * then only what changed is flushed: step 4 costs a few system calls
 * whatever the number of files.
 */
static int
kmsdata_settle(const struct kmsdata_node *n, uid_t uid, gid_t gid, int top, char **cause)
{
	struct kmsdata_walk w;
	struct stat st;
	int fd, ret = -1;

	memset(&w, 0, sizeof w);
	w.visit = kmsdata_chown_visit;
	w.uid = uid;
	w.gid = gid;
	w.cause = cause;
	if ((fd = kmsdata_open_dir(n->dirfd, n->name, n->path, cause)) == -1)
		return -1;
	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		goto sync;
	if (kmsdata_walk_dir(&w, fd, n->path) != 0)
		goto out;
	if (top && fstat(fd, &st) != 0) {
		*cause = xasprintf(_("cannot examine %1$s: %2$s"), n->path, strerror(errno));
		goto out;
	}
	if (top && kmsdata_chown_visit(&w, n->dirfd, n->name, fd, &st, n->path) != 0)
		goto out;
	if (w.changed > 0 && kmsdata_sync_changes(fd, n->path, cause) != 0)
		goto out;
sync:
	ret = kmsdata_sync_fd(fd, n->path, cause);
out:
	close(fd);
	return ret;
}

/*
 * Step 4, before the tree moves in: its top takes Kmsdata's mode and owner
 * (with no Kmsdata, the owner asked for), every entry the owner asked for,
 * and all is on disk, so what appears in Kmsdata is complete at once.
 */
static int
kmsdata_prepare(const struct kmsdata_node *from, const struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (to->exists && kmsdata_adopt(from, &to->st, cause) != 0)
		return -1;
	return kmsdata_settle(from, f->uid, f->gid, !to->exists, cause);
}

/* kmsdata_fill_in's move: from is there, to is missing, empty or a mount point. */
static int
kmsdata_fill_in_move(struct kmsdata_node *from, struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (f->restore && kmsdata_prepare(from, to, f, cause) != 0) {
		kmsdata_state(cause, _("nothing has been moved"));
		return -1;
	}
	if (!to->mounted) {
		/* Replaces an empty to at once: Kmsdata is never missing. */
		if (fault_fail("rename") == 0 &&
		    renameat(from->dirfd, from->name, to->dirfd, to->name) == 0) {
			fault_point(f->kill_point);
			return 0;
		}
		if (errno != EBUSY && errno != EXDEV) {
			*cause = xasprintf(_("cannot move %1$s to %2$s: %3$s"), from->path,
			    to->path, strerror(errno));
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
	}
	if (kmsdata_move_each(from, to, f->kill_point, cause) != 0)
		return -1;
	if (kmsdata_remove_empty(from, cause) != 0) {
		kmsdata_state(cause,
		    _("all the files are in %s; running this again finishes the job"), to->path);
		return -1;
	}
	return 0;
}

/* kmsdata_fill_in when from is gone: done, if to is there (and, for step 4, holds files). */
static int
kmsdata_fill_in_done(const struct kmsdata_node *from, const struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (!to->exists) {
		*cause = xasprintf(_("neither %1$s nor %2$s exists; there is nothing to move"),
		    from->path, to->path);
		return -1;
	}
	if (f->restore && to->empty) {
		*cause = xasprintf(_("%1$s does not exist and %2$s is empty; there is nothing to "
				     "restore"),
		    from->path, to->path);
		return -1;
	}
	if (f->restore && kmsdata_settle(to, f->uid, f->gid, 0, cause) != 0)
		return -1;
	return 0;
}

/*
 * Moves the tree of folder from into folder to (Kmsdata, missing or
 * empty): the undo of step 3, and step 4. When from is gone and to is
 * there, the move is done. A to holding files is refused, changing
 * nothing; only the undo carries on into a mount point (whose entries an
 * interrupted undo may have moved in part).
 */
static int
kmsdata_fill_in(const struct kmsdata *k, struct kmsdata_node *from, struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (kmsdata_look(from, cause) != 0 || kmsdata_look(to, cause) != 0)
		return -1;
	if (!from->exists) {
		if (kmsdata_fill_in_done(from, to, f, cause) != 0)
			return -1;
	} else if (to->exists && !to->empty && (f->restore || !to->mounted)) {
		*cause = xasprintf(_("%1$s is not empty; moving %2$s into it would mix two trees, "
				     "so nothing has been changed"),
		    to->path, from->path);
		return -1;
	} else if (kmsdata_fill_in_move(from, to, f, cause) != 0)
		return -1;
	if (kmsdata_sync_node(to, cause) != 0 ||
	    kmsdata_sync_fd(k->parent_fd, k->parent, cause) != 0) {
		kmsdata_state(cause,
		    _("all the files are in %s; running this again finishes the job"), to->path);
		return -1;
	}
	return 0;
}

/*
 * The staged tree as a node: the staging folder itself (payload ""), or
 * the folder payload inside it, which create makes when missing (the undo
 * of step 4 puts the tree back there).
 */
static int
kmsdata_staged_open(const struct kmsdata *k, const char *staged, const char *payload, int create,
    struct kmsdata_staged *s, struct kmsdata_node *n, char **cause)
{
	s->fd = -1;
	s->path = NULL;
	if (kmsdata_check_sibling(k, staged, cause) != 0)
		return -1;
	if (*payload != '\0' && !kmsdata_is_entry(payload)) {
		*cause = xasprintf(_("\"%s\" is not the name of a folder in the staging folder"),
		    payload);
		return -1;
	}
	s->path = kmsdata_where(k, staged);
	if (*payload == '\0') {
		kmsdata_node_init(n, k->parent_fd, staged, xstrdup(s->path));
		return 0;
	}
	if (create && (fault_fail("mkdir") != 0 || mkdirat(k->parent_fd, staged, 0700) != 0) &&
	    errno != EEXIST) {
		*cause = xasprintf(_("cannot create the folder %1$s: %2$s"), s->path,
		    strerror(errno));
		return -1;
	}
	s->fd = openat(k->parent_fd, staged, KMSDATA_DIR_FLAGS);
	if (s->fd == -1 && (errno != ENOENT || create)) {
		*cause = xasprintf(_("cannot open the folder %1$s: %2$s"), s->path,
		    strerror(errno));
		return -1;
	}
	kmsdata_node_init(n, s->fd, payload, xasprintf("%s/%s", s->path, payload));
	return 0;
}

static void
kmsdata_staged_close(struct kmsdata_staged *s)
{
	if (s->fd != -1)
		close(s->fd);
	free(s->path);
}

int
kmsdata_quarantine(const struct kmsdata *k, const char *quarantine, char **cause)
{
	struct kmsdata_node from, to;
	int ret;

	if (kmsdata_check_sibling(k, quarantine, cause) != 0)
		return -1;
	kmsdata_node_init(&from, k->parent_fd, k->base, kmsdata_where(k, k->base));
	kmsdata_node_init(&to, k->parent_fd, quarantine, kmsdata_where(k, quarantine));
	ret = kmsdata_empty_out(k, &from, &to, 1, "quarantine-renamed", cause);
	free(from.path);
	free(to.path);
	return ret;
}

int
kmsdata_unquarantine(const struct kmsdata *k, const char *quarantine, char **cause)
{
	struct kmsdata_node from, to;
	struct kmsdata_fill f = { 0, (uid_t)-1, (gid_t)-1, "unquarantine-renamed" };
	int ret;

	if (kmsdata_check_sibling(k, quarantine, cause) != 0)
		return -1;
	kmsdata_node_init(&from, k->parent_fd, quarantine, kmsdata_where(k, quarantine));
	kmsdata_node_init(&to, k->parent_fd, k->base, kmsdata_where(k, k->base));
	ret = kmsdata_fill_in(k, &from, &to, &f, cause);
	free(from.path);
	free(to.path);
	return ret;
}

/* After step 4: the staging folder goes if the tree was all it held; else it is flushed. */
static int
kmsdata_staged_drop(const struct kmsdata *k, const char *staged, struct kmsdata_staged *s,
    char **cause)
{
	if (fault_fail("unlink") == 0 && unlinkat(k->parent_fd, staged, AT_REMOVEDIR) == 0)
		return kmsdata_sync_fd(k->parent_fd, k->parent, cause);
	if (errno == ENOENT)
		return 0;
	if (errno == ENOTEMPTY || errno == EEXIST)
		return kmsdata_sync_fd(s->fd, s->path, cause);
	*cause = xasprintf(_("cannot remove the empty folder %1$s: %2$s"), s->path,
	    strerror(errno));
	return -1;
}

int
kmsdata_settle_staged(const struct kmsdata *k, const char *staged, const char *payload, uid_t uid,
    gid_t gid, char **cause)
{
	struct kmsdata_node n;
	struct kmsdata_staged s;
	int ret;

	if (kmsdata_staged_open(k, staged, payload, 0, &s, &n, cause) != 0) {
		kmsdata_staged_close(&s);
		return -1;
	}
	ret = kmsdata_settle(&n, uid, gid, 1, cause);
	free(n.path);
	kmsdata_staged_close(&s);
	return ret;
}

int
kmsdata_swap_in(const struct kmsdata *k, const char *staged, const char *payload, uid_t uid,
    gid_t gid, char **cause)
{
	struct kmsdata_node from, to;
	struct kmsdata_staged s;
	struct kmsdata_fill f = { 1, uid, gid, "swap-renamed" };
	int ret = -1;

	if (kmsdata_staged_open(k, staged, payload, 0, &s, &from, cause) != 0) {
		kmsdata_staged_close(&s);
		return -1;
	}
	kmsdata_node_init(&to, k->parent_fd, k->base, kmsdata_where(k, k->base));
	if (kmsdata_fill_in(k, &from, &to, &f, cause) != 0)
		goto out;
	if (s.fd != -1 && kmsdata_staged_drop(k, staged, &s, cause) != 0) {
		kmsdata_state(cause, _("%s has been restored; running this again finishes the job"),
		    to.path);
		goto out;
	}
	ret = 0;
out:
	free(from.path);
	free(to.path);
	kmsdata_staged_close(&s);
	return ret;
}

int
kmsdata_swap_out(const struct kmsdata *k, const char *staged, const char *payload, char **cause)
{
	struct kmsdata_node from, to;
	struct kmsdata_staged s;
	int create, ret = -1;

	create = kmsdata_sibling_exists(k, k->base);
	if (kmsdata_staged_open(k, staged, payload, create, &s, &to, cause) != 0) {
		kmsdata_staged_close(&s);
		return -1;
	}
	kmsdata_node_init(&from, k->parent_fd, k->base, kmsdata_where(k, k->base));
	if (kmsdata_empty_out(k, &from, &to, 0, "swap-out-renamed", cause) != 0)
		goto out;
	if (s.fd != -1 && kmsdata_sync_fd(s.fd, s.path, cause) != 0) {
		kmsdata_state(cause,
		    _("the files of %1$s are all in %2$s; running this again "
		      "finishes the job"),
		    from.path, to.path);
		goto out;
	}
	ret = 0;
out:
	free(from.path);
	free(to.path);
	kmsdata_staged_close(&s);
	return ret;
}
