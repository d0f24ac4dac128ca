/*
 * The report at the end of a run (log.h; DESIGN.md, rule 7): as text, its
 * labels padded by display width, and as JSON for machines.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "i18n.h"
#include "log.h"
#include "xmalloc.h"

/* A label padded to REPORT_LABEL_COLUMNS by display width (not bytes), then the value. */
#define REPORT_LABEL_COLUMNS 22
static void
report_line(FILE *f, const char *label, const char *value)
{
	wchar_t wide[128];
	size_t n = mbstowcs(wide, label, sizeof wide / sizeof wide[0] - 1);
	int width = n == (size_t)-1 ? (int)strlen(label) : wcswidth(wide, n);

	if (width < 0)
		width = (int)strlen(label);
	fputs(label, f);
	for (; width < REPORT_LABEL_COLUMNS; width++)
		fputc(' ', f);
	fprintf(f, " %s\n", value != NULL ? value : "-");
}

static void
report_line_number(FILE *f, const char *label, uint64_t value)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRIu64, value);
	report_line(f, label, buf);
}

static void
report_text_body(const struct report *r, FILE *f)
{
	char buf[64];
	size_t i;

	fprintf(f, "%s\n\n", _("kmsrecover report"));
	report_line(f, _("Task:"), r->task);
	snprintf(buf, sizeof buf, "%s (%d)", r->outcome, r->exit_code);
	report_line(f, _("Outcome:"), buf);
	report_line(f, _("Started:"), r->started);
	if (r->resumed != NULL)
		report_line(f, _("Resumed:"), r->resumed);
	report_line(f, _("Finished:"), r->finished);
	report_line(f, _("Host:"), r->host);
	report_line(f, _("Service:"), r->service);
	report_line(f, _("Kmsdata:"), r->kmsdata);
	report_line(f, _("Backup:"), r->backup);
	report_line(f, _("Backup SHA-256:"), r->backup_sha256);
	report_line(f, _("Manifest checked:"), r->manifest_found ? _("yes") : _("no"));
	if (r->password != NULL)
		report_line(f, _("Password from:"), r->password);
	report_line_number(f, _("Files restored:"), r->files);
	report_line_number(f, _("Bytes restored:"), r->bytes);
	report_line(f, _("Quarantine:"), r->quarantine);
	if (r->downtime >= 0) {
		snprintf(buf, sizeof buf, "%.1f s", r->downtime);
		report_line(f, _("Service down for:"), buf);
	}
	report_line(f, _("Transcript:"), r->transcript);
	if (r->message != NULL)
		fprintf(f, "\n%s\n%s\n", _("What went wrong:"), r->message);
	fprintf(f, "\n%s\n", _("Steps:"));
	for (i = 0; i < r->nsteps; i++)
		fprintf(f, "  %-3s %-10s %s\n", r->steps[i].id, r->steps[i].result,
		    _(r->steps[i].title));
}

/* Writes a private file with body(r, f), flushed to disk. */
static int
report_write(const struct report *r, const char *path, void (*body)(const struct report *, FILE *),
    char **cause)
{
	FILE *f;

	if ((f = log_open_private(path, "w", O_TRUNC)) == NULL)
		goto fail;
	body(r, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0)
		goto fail;
	return 0;
fail:
	/* TRANSLATORS: %1$s is a file's path, %2$s the system's reason. */
	*cause = xasprintf(_("cannot write the report %1$s: %2$s"), path, strerror(errno));
	return -1;
}

int
report_write_text(const struct report *r, const char *path, char **cause)
{
	return report_write(r, path, report_text_body, cause);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
report_json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
report_json_field(FILE *f, const char *key, const char *value, int comma)
{
	fprintf(f, "  \"%s\": ", key);
	report_json_string(f, value);
	fputs(comma ? ",\n" : "\n", f);
}

static void
report_json_body(const struct report *r, FILE *f)
{
	size_t i;

	fputs("{\n", f);
	report_json_field(f, "task", r->task, 1);
	report_json_field(f, "outcome", r->outcome, 1);
	fprintf(f, "  \"exit_code\": %d,\n", r->exit_code);
	report_json_field(f, "started", r->started, 1);
	report_json_field(f, "resumed", r->resumed, 1);
	report_json_field(f, "finished", r->finished, 1);
	report_json_field(f, "host", r->host, 1);
	report_json_field(f, "service", r->service, 1);
	report_json_field(f, "kmsdata", r->kmsdata, 1);
	report_json_field(f, "backup", r->backup, 1);
	report_json_field(f, "backup_sha256", r->backup_sha256, 1);
	fprintf(f, "  \"manifest_checked\": %s,\n", r->manifest_found ? "true" : "false");
	report_json_field(f, "password_from", r->password_kind, 1);
	report_json_field(f, "password_file", r->password_file, 1);
	fprintf(f, "  \"files_restored\": %" PRIu64 ",\n", r->files);
	fprintf(f, "  \"bytes_restored\": %" PRIu64 ",\n", r->bytes);
	report_json_field(f, "quarantine", r->quarantine, 1);
	if (r->downtime >= 0)
		fprintf(f, "  \"downtime_seconds\": %.3f,\n", r->downtime);
	else
		fputs("  \"downtime_seconds\": null,\n", f);
	report_json_field(f, "transcript", r->transcript, 1);
	report_json_field(f, "message", r->message, 1);
	fputs("  \"steps\": [\n", f);
	for (i = 0; i < r->nsteps; i++) {
		fputs("    {\"id\": ", f);
		report_json_string(f, r->steps[i].id);
		fputs(", \"title\": ", f);
		report_json_string(f, r->steps[i].title);
		fputs(", \"result\": ", f);
		report_json_string(f, r->steps[i].result);
		fputs(i + 1 < r->nsteps ? "},\n" : "}\n", f);
	}
	fputs("  ]\n}\n", f);
}

int
report_write_json(const struct report *r, const char *path, char **cause)
{
	return report_write(r, path, report_json_body, cause);
}
