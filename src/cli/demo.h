/*
 * kmsrecover demo: a rehearsal world built with kmsim, the stand-in KM
 * Server: the original server with its records, its offline backup and
 * startup disk on "removable media", then the complete rebuild (a NEW
 * installation with a NEW alpha string, running), and a profile over it.
 */
#ifndef KMSRECOVER_DEMO_H
#define KMSRECOVER_DEMO_H

struct demo_world {
	char *dir;          /* the world's folder */
	char *kmsim;        /* the kmsim program */
	char *profile;      /* DIR/kmsrecover.conf */
	char *media;        /* DIR/media: KMSRECOVER_MEDIA_ROOTS for the run */
	char *backup;       /* the original server's backup (tar.gz with MANIFEST.sha256) */
	char *startup_disk; /* the original startup disk's KMSPWD.INI */
	char *fingerprints; /* DIR/fingerprints.original */
	char *run;          /* kmsim's run folder */
	int records;
};

/* Where kmsim is: KMSRECOVER_KMSIM, next to this program in a build tree, or PKGLIBEXECDIR. */
char *demo_find_kmsim(void);

/*
 * Builds the world in dir (a new temp folder when NULL); a folder that is
 * an earlier demo world is stopped and cleared first; any other non-empty
 * folder is refused. Reports each stage with report(arg, line). Returns 0,
 * or -1 with *cause.
 */
int demo_build(struct demo_world *w, const char *dir, int records,
    void (*report)(void *arg, const char *line), void *arg, char **cause);

/*
 * After the recovery: asks the running server for every key and compares
 * with fingerprints.original. Returns 0 and "all N keys match ..." or -1
 * and what differs (arg is the struct demo_world).
 */
int demo_compare(void *arg, char **line);

void demo_world_free(struct demo_world *w);

#endif
