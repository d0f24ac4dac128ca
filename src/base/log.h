/*
 * The transcript and the report (DESIGN.md, rule 7). The transcript is a
 * 0600 file in the state directory with one UTC-stamped line per action;
 * the report, written at the end, names the backup and its SHA-256, what
 * was restored, each step's result and the outcome, as text and, on
 * request, JSON. Neither ever receives a secret: callers pass none, and
 * names are escaped before they get here.
 */
#ifndef KMSRECOVER_LOG_H
#define KMSRECOVER_LOG_H

#include <stdint.h>
#include <stdio.h>

struct transcript {
	char *path;
	FILE *f;
};

/* log.c: "20261125T120000Z", the stamp naming folders and files. */
char *log_stamp_now(void);
/* "2026-11-25T12:00:00Z". */
char *log_iso_now(void);
/* path opened for writing with mode (fopen's), 0600, never through a link; NULL with errno. */
FILE *log_open_private(const char *path, const char *mode, int flags);

/* transcript.c: opens (appending) path with mode 0600. -1 with *cause. */
int transcript_open(struct transcript *t, const char *path, char **cause);
void transcript_close(struct transcript *t);
/* Adds one stamped line (a NULL or closed transcript is fine). Newlines in the text are indented. */
void transcript_write(struct transcript *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct report_step {
	const char *id;
	const char *title;  /* untranslated (the report's JSON is for programs) */
	const char *result; /* "done", "skipped", "failed", "pending" */
};

struct report {
	const char *task;
	const char *outcome; /* "recovered", "failed", "rolled back", ... */
	int exit_code;
	const char *started, *finished;
	const char *resumed; /* when this run resumed an interrupted one, or NULL */
	/* Where the password came from: in words, and for machines (kind, file) */
	const char *password, *password_kind, *password_file;
	const char *host;
	const char *service, *kmsdata;
	const char *backup, *backup_sha256;
	int manifest_found;
	uint64_t files, bytes;
	const char *quarantine; /* path, or NULL */
	double downtime;        /* seconds the service was down, < 0 when it was not stopped */
	const char *transcript;
	const struct report_step *steps;
	size_t nsteps;
	const char *message; /* the failure's cause, or NULL */
};

/* report.c: writes the report as text (translated labels) to path, 0600. */
int report_write_text(const struct report *r, const char *path, char **cause);
/* Writes the report as JSON (stable English keys) to path, 0600. */
int report_write_json(const struct report *r, const char *path, char **cause);

#endif
