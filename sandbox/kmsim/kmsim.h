/*
 * What kmsim's two files share: the options, the run folder, the daemon's
 * state. kmsim.c has the commands and the helpers they share;
 * kmsim-daemon.c the daemon that serves a started Kmsdata (it uses
 * kmsim.c's helpers, never the other way round).
 */
#ifndef KMSRECOVER_KMSIM_H
#define KMSRECOVER_KMSIM_H

#include <sys/types.h>
#include <sys/un.h>

#include <limits.h>
#include <signal.h>
#include <stddef.h>

#include "kmsim-db.h"

extern char **environ;

#define KMSIM_EXIT_USAGE 2
#define KMSIM_EXIT_STOPPED 3 /* LSB: not running */
#define KMSIM_EVENT_5057 "Event 5057: The supplied password is not valid."
#define KMSIM_EVENT_5058 "Event 5058: The Key Management Server data files are missing or damaged: "
#define KMSIM_READY_TIMEOUT_MS 30000
#define KMSIM_REQUEST_MAX 128
#define KMSIM_REPLY_MAX (32 * 1024 * 1024)
#define KMSIM_FDS_MAX 65536

enum kmsim_command_id {
	KMSIM_INIT,
	KMSIM_START,
	KMSIM_STOP,
	KMSIM_STATUS,
	KMSIM_QUERY,
	KMSIM_CHECK
};

struct kmsim_options {
	enum kmsim_command_id command;
	const char *data;
	const char *run;
	const char *startup_disk;
	const char *user;
	long records;
	long iterations;
	long timeout;
	long die_after; /* milliseconds; -1: never */
	int force;
	int ignore_term;
	int all;
};

/* The files of a run folder. The lock is held by the running daemon for its life. */
struct kmsim_run {
	char lock[PATH_MAX];
	char pid[PATH_MAX];
	char status[PATH_MAX];
	char sock[sizeof((struct sockaddr_un *)NULL)->sun_path];
};

/* The daemon's state. */
struct kmsim_server {
	const struct kmsim_run *run;
	struct kmsim_db *db;
	int lock_fd;
	int listen_fd;
	long die_after;
};

struct kmsim_command {
	const char *name;
	int (*exec)(struct kmsim_options *);
	const char *options;  /* the option values it accepts */
	const char *required; /* those it needs */
};

/* kmsim.c */
long long kmsim_now_ms(void);
int kmsim_read_line(int fd, char *buf, size_t size, size_t *lenp);

/* kmsim-daemon.c */
int kmsim_daemon_spawn(const struct kmsim_options *o, const struct kmsim_run *run,
    struct kmsim_db *db);

#endif
