/*
 * The profile: which service, where Kmsdata lives, how the password reaches
 * the service (DESIGN.md, "Contracts"). profile_new() gives the built-in
 * defaults for the Exchange KM Server; profile_load() overlays an INI file.
 */
#ifndef KMSRECOVER_PROFILE_H
#define KMSRECOVER_PROFILE_H

#include <sys/types.h>

#define PROFILE_DEFAULT_PATH SYSCONFDIR "/kmsrecover/kmsrecover.conf"

enum service_manager { SERVICE_MANAGER_SYSTEMD, SERVICE_MANAGER_SYSV, SERVICE_MANAGER_COMMAND };
enum handoff_kind { HANDOFF_STDIN, HANDOFF_CREDENTIAL, HANDOFF_FILE };
enum secret_case { SECRET_CASE_UPPER, SECRET_CASE_EXACT };

struct profile {
	char *path; /* the file read, or NULL for the built-in defaults */

	/* [service] */
	enum service_manager manager; /* default systemd */
	char *service_name;           /* default "MSExchangeKMS" */
	/* NULL-terminated; NULL unless set (see profile_service_argv) */
	char **start_argv;
	char **stop_argv;
	char **status_argv;
	int timeout; /* seconds, default 60, 1..3600 */

	/* [kmsdata] */
	char *kmsdata_path; /* default "/var/lib/exchsrvr/kmsdata"; absolute */
	char *owner;        /* "user:group" as written, or NULL */
	uid_t owner_uid;    /* valid when owner != NULL */
	gid_t owner_gid;
	/*
	 * The key database a restored tree must hold, a path inside it (default
	 * "Kmsmdb.edb"; compared without regard to case). A backup without it is
	 * refused (exit 3).
	 */
	char *expect;

	/* [secret] */
	enum handoff_kind handoff;    /* default stdin */
	char *handoff_path;           /* for HANDOFF_FILE */
	char **verify_argv;           /* NULL unless set; "%d" in an argument stands for the tree */
	char *startup_disk_name;      /* default "KMSPWD.INI" */
	enum secret_case secret_case; /* default upper */

	/* [backup] (an extension of DESIGN.md's format) */
	int iterations; /* PBKDF2 iterations of openssl enc archives, default 10000 */

	/* [recovery] */
	char *state_dir; /* default LOCALSTATEDIR "/lib/kmsrecover" */
	/* [recovery] pause-between-steps: confirm each step as it runs (the service down meanwhile) */
	int pause_between_steps;
};

/* The built-in defaults. Never NULL. */
struct profile *profile_new(void);
void profile_free(struct profile *p);

/*
 * Reads the INI file at path over p. Returns 0, or -1 with *cause set (to be
 * freed) naming the file, the line and the key: unknown sections and keys,
 * bad values, manager=command without start/stop/status, a relative path.
 * On error p may be partly changed; callers discard it.
 */
int profile_load(struct profile *p, const char *path, char **cause);

/*
 * The same over len bytes of buf (not NUL-terminated; NUL bytes end a
 * line's text, as in a file), name standing for the file in causes and in
 * p->path. profile_load reads the file (at most 256 KiB) and calls this;
 * the fuzz target calls it directly.
 */
int profile_load_buffer(struct profile *p, const char *name, const char *buf, size_t len,
    char **cause);

/*
 * Splits a command line the way the profile's start/stop/status/verify keys
 * are written: on blanks, "double quotes" group (a backslash escapes " and \
 * inside them). No shell, no variables. Returns 0 and a NULL-terminated
 * *argv, or -1 with *cause (unterminated quote, empty command).
 */
int profile_split_argv(const char *line, char ***argv, char **cause);
/* The blanks of the INI dialect and of a command line: space and tab. */
int profile_is_blank(char c);

/*
 * A copy of argv with every occurrence of token inside each argument replaced
 * by value ("%d" -> the staged tree). Never NULL for a non-NULL argv.
 */
char **profile_substitute_argv(char *const *argv, const char *token, const char *value);

const char *profile_manager_name(enum service_manager m);

enum profile_command { PROFILE_START, PROFILE_STOP, PROFILE_STATUS };

/*
 * The argv of a service command: the profile's own start/stop/status when
 * it has one (manager=command needs all three; with systemd or sysv one
 * given overrides the default), else the manager's default:
 *   systemd  systemctl start|stop NAME; systemctl is-active --quiet NAME
 *   sysv     /etc/init.d/NAME start|stop|status when that script exists,
 *            else service NAME start|stop|status
 * A new vector (xfree_argv it), or NULL for manager=command without it.
 */
char **profile_service_argv(const struct profile *p, enum profile_command which);

#endif
