/*
 * The Kmsdata folder and its siblings (see kmsdata.h). Step 3 moves
 * Kmsdata's tree into the quarantine beside it and leaves an empty Kmsdata;
 * step 4 moves the staged tree in; their undos move the trees back. Every
 * change is a rename on one file system, made through the parent folder's
 * descriptor with *at() calls that follow no symlink, so a path swapped
 * under us cannot redirect the work.
 *
 * No operation keeps state of its own: each first looks at where the two
 * folders are and what they hold, and from any state it can have left
 * behind (killed at any instruction, a system call failed) a second run
 * finishes the job (DESIGN.md, safety rules 2 to 4). A rename of a whole
 * folder is atomic; a folder that cannot be renamed (Kmsdata as a mount
 * point: EBUSY) has its entries renamed one by one instead, never
 * replacing anything, which works where the file system allows it (Linux
 * refuses renames between mounts with EXDEV: the operation then stops with
 * nothing moved).
 */
#include "config.h"

#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "xmalloc.h"
#include "kmsdata-private.h"

int
kmsdata_open(struct kmsdata *k, const char *path, char **cause)
{
	struct stat st;
	size_t end, slash, top;
	int error;

	memset(k, 0, sizeof *k);
	k->parent_fd = -1;
	end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	if (path[0] != '/' || end <= 1) {
		*cause = xasprintf(_("the Kmsdata folder must be an absolute path other than /, "
				     "not \"%s\""),
		    path);
		return -1;
	}
	for (slash = end - 1; path[slash] != '/'; slash--)
		;
	for (top = slash; top > 0 && path[top - 1] == '/'; top--)
		;
	k->path = xstrdup(path);
	k->base = xstrndup(path + slash + 1, end - slash - 1);
	k->parent = xstrndup(path, top == 0 ? 1 : top);
	if (!kmsdata_is_entry(k->base)) {
		*cause = xasprintf(_("\"%s\" does not name a folder"), path);
		goto fail;
	}
	if ((k->parent_fd = open(k->parent, KMSDATA_DIR_FLAGS)) == -1) {
		error = errno;
		if (lstat(k->parent, &st) == 0 && S_ISLNK(st.st_mode))
			*cause = xasprintf(
			    _("the folder %s holding Kmsdata is a symbolic link; give "
			      "the real path of Kmsdata"),
			    k->parent);
		else
			*cause = xasprintf(_("cannot open the folder %1$s holding Kmsdata: %2$s"),
			    k->parent, strerror(error));
		goto fail;
	}
	return 0;
fail:
	kmsdata_close(k);
	return -1;
}

void
kmsdata_close(struct kmsdata *k)
{
	if (k->path != NULL && k->parent_fd != -1)
		close(k->parent_fd);
	free(k->path);
	free(k->parent);
	free(k->base);
	memset(k, 0, sizeof *k);
	k->parent_fd = -1;
}

char *
kmsdata_quarantine_name(const struct kmsdata *k, const char *stamp)
{
	return xasprintf("%s.pre-recovery-%s", k->base, stamp);
}

char *
kmsdata_staged_name(const struct kmsdata *k, const char *stamp)
{
	return xasprintf("%s.staged-%s", k->base, stamp);
}

int
kmsdata_survey(const struct kmsdata *k, uint64_t *files, uint64_t *bytes, char **cause)
{
	struct kmsdata_node n;
	int fd = -1, ret = -1;

	kmsdata_node_init(&n, k->parent_fd, k->base, kmsdata_where(k, k->base));
	if (kmsdata_look(&n, cause) != 0)
		goto out;
	if (!n.exists) {
		*cause = xasprintf(_("the Kmsdata folder %s does not exist"), n.path);
		goto out;
	}
	if ((fd = kmsdata_open_dir(n.dirfd, n.name, n.path, cause)) == -1)
		goto out;
	ret = kmsdata_count(fd, n.path, files, bytes, cause);
out:
	if (fd != -1)
		close(fd);
	free(n.path);
	return ret;
}

int
kmsdata_free_space(const struct kmsdata *k, uint64_t *avail, char **cause)
{
	struct statvfs sv;

	if (fstatvfs(k->parent_fd, &sv) != 0) {
		*cause = xasprintf(_("cannot find the free space on the file system of %1$s: %2$s"),
		    k->parent, strerror(errno));
		return -1;
	}
	*avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

/* Whether gid is this process's group or one of its supplementary groups. */
static int
kmsdata_in_group(gid_t gid)
{
	gid_t *groups;
	int n, i, found = 0;

	if (gid == getegid())
		return 1;
	if ((n = getgroups(0, NULL)) <= 0)
		return 0;
	groups = xcalloc((size_t)n, sizeof *groups);
	n = getgroups(n, groups);
	for (i = 0; i < n && !found; i++)
		found = groups[i] == gid;
	free(groups);
	return found;
}

/* Whether this process may give a file the owner uid:gid (either -1 for unchanged). */
static int
kmsdata_may_own(uid_t uid, gid_t gid)
{
	if (geteuid() == 0)
		return 1;
	return (uid == (uid_t)-1 || uid == geteuid()) &&
	    (gid == (gid_t)-1 || kmsdata_in_group(gid));
}

int
kmsdata_check_writable(const struct kmsdata *k, uid_t uid, gid_t gid, char **cause)
{
	struct stat st;
	const char *path = k->parent;
	int error = 0;

	if (faccessat(k->parent_fd, ".", W_OK | X_OK, 0) != 0) {
		error = errno;
	} else if (fstatat(k->parent_fd, k->base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		return 0; /* no Kmsdata to change: step 1 says so */
	} else {
		path = k->path;
		if (faccessat(k->parent_fd, k->base, W_OK | X_OK, 0) != 0)
			error = errno;
		else if (!kmsdata_may_own(st.st_uid, st.st_gid) || !kmsdata_may_own(uid, gid))
			error = EPERM;
	}
	if (error == 0)
		return 0;
	/* TRANSLATORS: %1$s is a folder (Kmsdata or the one holding it), %2$s why (strerror). */
	*cause = xasprintf(_("kmsrecover may not change %1$s: %2$s. Nothing was changed. Run "
			     "kmsrecover as root (or as the owner of Kmsdata and of the folder "
			     "holding it), with that file system mounted read-write."),
	    path, strerror(error));
	return -1;
}
