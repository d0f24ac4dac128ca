/*
 * kmsrecover demo (see demo.h): builds a rehearsal world with kmsim so that
 * a whole recovery can be tried, for real and without root: real files, a
 * real archive, a real service started and stopped, real keys compared.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo.h"
#include "fs.h"
#include "mkbackup.h"
#include "i18n.h"
#include "spawn.h"
#include "xmalloc.h"

#define DEMO_MARKER ".kmsrecover-demo"

char *
demo_find_kmsim(void)
{
	const char *env = getenv("KMSRECOVER_KMSIM");
	char self[PATH_MAX], *slash, *path;
	ssize_t n;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		path = xasprintf("%s/sandbox/kmsim/kmsim", self);
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return xstrdup(PKGLIBEXECDIR "/kmsim");
}

/* Runs kmsim with the given arguments; -1 with *cause (its output) when it fails. */
static int
demo_kmsim(struct demo_world *w, const char *const *args, char **output, char **cause)
{
	struct spawn_result res = { 0 };
	char *argv[16], *desc;
	size_t i;
	int ret = -1;

	argv[0] = w->kmsim;
	for (i = 0; i < 14 && args[i] != NULL; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	if (spawn_run(argv, NULL, 0, 60, &res, cause) != 0)
		return -1;
	if (res.exited && res.status == 0) {
		ret = 0;
		if (output != NULL)
			*output = xstrdup(res.output != NULL ? res.output : "");
	} else {
		desc = spawn_describe(&res);
		/* TRANSLATORS: %1$s program, %2$s its subcommand, %3$s how it ended, %4$s its output. */
		*cause = xasprintf(_("%1$s %2$s failed (%3$s): %4$s"), w->kmsim, args[0], desc,
		    res.output != NULL ? res.output : "");
		free(desc);
	}
	spawn_result_free(&res);
	return ret;
}

static int
demo_mkdirs(const char *dir, const char *sub, char **cause)
{
	char *path = xasprintf("%s/%s", dir, sub);
	int ret = 0;

	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		/* TRANSLATORS: %1$s is a folder, %2$s the system's reason. */
		*cause = xasprintf(_("cannot create %1$s: %2$s"), path, strerror(errno));
		ret = -1;
	}
	free(path);
	return ret;
}

/* A folder the demo may (re)build in: absent, empty, or an earlier demo world. */
static int
demo_prepare_dir(struct demo_world *w, char **cause)
{
	char *marker = xasprintf("%s/%s", w->dir, DEMO_MARKER);
	const char *stop[] = { "stop", "--run", w->run, NULL };
	DIR *d;
	struct dirent *de;
	int entries = 0, ret = 0;

	if ((d = opendir(w->dir)) == NULL) {
		if (errno != ENOENT || mkdir(w->dir, 0700) != 0) {
			*cause = xasprintf(_("cannot create %1$s: %2$s"), w->dir, strerror(errno));
			ret = -1;
		}
		goto out;
	}
	while ((de = readdir(d)) != NULL)
		entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	if (entries > 0 && access(marker, F_OK) != 0) {
		/* TRANSLATORS: %s is a folder. */
		*cause = xasprintf(_("%s is not empty and is not a demo world: choose another "
				     "folder with --dir."),
		    w->dir);
		ret = -1;
		goto out;
	}
	if (entries > 0) {
		char *ignored = NULL;

		demo_kmsim(w, stop, NULL, &ignored);
		free(ignored);
		if ((d = opendir(w->dir)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
					continue;
				char *child = xasprintf("%s/%s", w->dir, de->d_name);
				(void)fs_remove_tree(AT_FDCWD, child);
				free(child);
			}
			closedir(d);
		}
	}
out:
	if (ret == 0) {
		int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd != -1)
			close(fd);
	}
	free(marker);
	return ret;
}

static char *
demo_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *data;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st) != 0) {
		if (fd != -1)
			close(fd);
		return NULL;
	}
	data = xmalloc((size_t)st.st_size + 1);
	*len = 0;
	while (*len < (size_t)st.st_size) {
		ssize_t n = read(fd, data + *len, (size_t)st.st_size - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return data;
}

/* The original server's offline backup, made as `kmsrecover backup` makes one. */
static int
demo_backup(struct demo_world *w, const char *kmsdata, char **cause)
{
	struct mkbackup_options opt = { 0 };
	struct mkbackup_result made;
	int ret;

	opt.kmsdata_fd = open(kmsdata, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (opt.kmsdata_fd == -1) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), kmsdata, strerror(errno));
		return -1;
	}
	opt.output = w->backup;
	opt.final_name = w->backup;
	opt.info = "host=demo\nservice=MSExchangeKMS\ntool=kmsrecover demo\n";
	ret = mkbackup_write(&opt, NULL, &made, cause);
	close(opt.kmsdata_fd);
	return ret;
}

static int
demo_write_text(const char *path, const char *text, char **cause)
{
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		goto fail;
	}
	fputs(text, f);
	if (fclose(f) == 0)
		return 0;
fail:
	*cause = xasprintf(_("cannot write %1$s: %2$s"), path, strerror(errno));
	return -1;
}

static int
demo_write_profile(struct demo_world *w, char **cause)
{
	char *text;
	int ret;

	text = xasprintf("; The demo world's profile: kmsim stands in for the KM Server.\n"
			 "[service]\nmanager = command\nname = MSExchangeKMS\n"
			 "start = \"%1$s\" start --data \"%2$s/server/Kmsdata\" --run \"%3$s\"\n"
			 "stop = \"%1$s\" stop --run \"%3$s\"\n"
			 "status = \"%1$s\" status --run \"%3$s\"\n"
			 "timeout = 30\n"
			 "[kmsdata]\npath = %2$s/server/Kmsdata\n"
			 "[secret]\nhandoff = stdin\n"
			 "verify = \"%1$s\" check --data %%d\n"
			 "startup-disk = KMSPWD.INI\ncase = upper\n"
			 "[recovery]\nstate-dir = %2$s/state\n",
	    w->kmsim, w->dir, w->run);
	ret = demo_write_text(w->profile, text, cause);
	free(text);
	return ret;
}

static void
demo_paths(struct demo_world *w)
{
	w->kmsim = demo_find_kmsim();
	w->profile = xasprintf("%s/kmsrecover.conf", w->dir);
	w->media = xasprintf("%s/media", w->dir);
	w->backup = xasprintf("%s/media/backup-disk/kmsdata-backup.tar.gz", w->dir);
	w->startup_disk = xasprintf("%s/media/startup-disk/KMSPWD.INI", w->dir);
	w->fingerprints = xasprintf("%s/fingerprints.original", w->dir);
	w->run = xasprintf("%s/server/run", w->dir);
}

/* The original server: installed, started, its keys recorded, stopped, backed up. */
static int
demo_original(struct demo_world *w, const char *kmsdata, char **cause)
{
	char records[32], *keys = NULL;
	const char *init[] = { "init", "--data", kmsdata, "--records", records, "--iterations",
		"20000", "--startup-disk", w->startup_disk, NULL };
	const char *start[] = { "start", "--data", kmsdata, "--run", w->run, "--startup-disk",
		w->startup_disk, NULL };
	const char *query[] = { "query", "--run", w->run, "--all", NULL };
	const char *stop[] = { "stop", "--run", w->run, NULL };
	int ret;

	snprintf(records, sizeof records, "%d", w->records);
	if (demo_kmsim(w, init, NULL, cause) != 0 || demo_kmsim(w, start, NULL, cause) != 0)
		return -1;
	ret = demo_kmsim(w, query, &keys, cause);
	if (ret == 0)
		ret = demo_write_text(w->fingerprints, keys, cause);
	free(keys);
	if (demo_kmsim(w, stop, NULL, ret == 0 ? cause : &keys) != 0 && ret == 0)
		return -1;
	return ret != 0 ? -1 : demo_backup(w, kmsdata, cause);
}

/* The complete rebuild: a NEW installation over Kmsdata, with a NEW alpha string, running. */
static int
demo_rebuild(struct demo_world *w, const char *kmsdata, char **cause)
{
	char *disk = xasprintf("%s/rebuild-disk/KMSPWD.INI", w->dir), *out = NULL;
	const char *init[] = { "init", "--force", "--data", kmsdata, "--records", "3",
		"--iterations", "20000", "--startup-disk", disk, NULL };
	const char *start[] = { "start", "--data", kmsdata, "--run", w->run, "--startup-disk", disk,
		NULL };
	int ret = -1;

	if (demo_kmsim(w, init, &out, cause) == 0 && demo_kmsim(w, start, NULL, cause) == 0)
		ret = 0;
	if (out != NULL)
		OPENSSL_cleanse(out, strlen(out));
	free(out);
	free(disk);
	return ret;
}

int
demo_build(struct demo_world *w, const char *dir, int records,
    void (*report)(void *arg, const char *line), void *arg, char **cause)
{
	static const char *dirs[] = { "server", "media", "media/backup-disk", "media/startup-disk",
		"rebuild-disk", "state", NULL };
	char template[] = "/tmp/kmsrecover-demo.XXXXXX", *kmsdata = NULL;
	size_t i;
	int ret = -1;

	memset(w, 0, sizeof *w);
	w->records = records;
	if (dir == NULL && mkdtemp(template) == NULL) {
		*cause = xasprintf(_("cannot create %1$s: %2$s"), template, strerror(errno));
		return -1;
	}
	w->dir = xstrdup(dir != NULL ? dir : template);
	demo_paths(w);
	if (demo_prepare_dir(w, cause) != 0)
		return -1;
	for (i = 0; dirs[i] != NULL; i++) {
		if (demo_mkdirs(w->dir, dirs[i], cause) != 0)
			return -1;
	}
	kmsdata = xasprintf("%s/server/Kmsdata", w->dir);
	report(arg, _("Installing the original KM Server and recording its keys..."));
	if (demo_original(w, kmsdata, cause) != 0)
		goto out;
	report(arg, _("Rebuilding: a new installation with a NEW alpha string..."));
	if (demo_rebuild(w, kmsdata, cause) != 0 || demo_write_profile(w, cause) != 0)
		goto out;
	ret = 0;
out:
	free(kmsdata);
	return ret;
}

static size_t
demo_count_lines(const char *text)
{
	size_t n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

int
demo_compare(void *arg, char **line)
{
	struct demo_world *w = arg;
	const char *query[] = { "query", "--run", w->run, "--all", NULL };
	char *now = NULL, *cause = NULL, *before;
	size_t len, n;
	int ret = -1;

	if ((before = demo_read_file(w->fingerprints, &len)) == NULL) {
		*line = xasprintf(_("cannot read %1$s: %2$s"), w->fingerprints, strerror(errno));
		return -1;
	}
	before[len] = '\0';
	n = demo_count_lines(before);
	if (demo_kmsim(w, query, &now, &cause) != 0) {
		*line = cause;
	} else if (strcmp(now, before) == 0) {
		/* TRANSLATORS: %zu is a number of keys. */
		*line = xasprintf(Q_("the %zu key matches the original server",
				      "all %zu keys match the original server", n),
		    n);
		ret = 0;
	} else
		/* TRANSLATORS: %1$zu keys recorded, %2$zu keys served now, %3$s a file. */
		*line = xasprintf(_("the keys served now differ from the %1$zu recorded in %3$s "
				    "(%2$zu served)"),
		    n, demo_count_lines(now), w->fingerprints);
	free(now);
	free(before);
	return ret;
}

void
demo_world_free(struct demo_world *w)
{
	free(w->dir);
	free(w->kmsim);
	free(w->profile);
	free(w->media);
	free(w->backup);
	free(w->startup_disk);
	free(w->fingerprints);
	free(w->run);
}
