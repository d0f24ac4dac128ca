/*
 * The journal: saved atomically and read back the same; a damaged one is
 * refused naming the line; a failed write (fault injection) leaves the old
 * journal intact; closing moves it aside.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "tap.h"
#include "xmalloc.h"

static struct journal *
sample(const char *dir)
{
	struct journal *j = journal_new(dir);

	j->phase = JOURNAL_QUARANTINED;
	j->stamp = xstrdup("20261125T120000Z");
	j->kmsdata = xstrdup("/srv/exchsrvr/Kmsdata");
	j->staged = xstrdup("Kmsdata.staged-20261125T120000Z");
	j->quarantine = xstrdup("Kmsdata.pre-recovery-20261125T120000Z");
	j->payload = xstrdup("Kmsdata");
	j->backup = xstrdup("/media/usb/kms backup.tar.gz");
	j->backup_sha256 = xstrdup("ab12");
	j->service_was_running = 1;
	return j;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

int
main(void)
{
	char dir[] = "/tmp/test-journal.XXXXXX", *cause = NULL, *path, *done;
	struct journal *j, *back = NULL;
	struct stat st;

	if (mkdtemp(dir) == NULL)
		skip_all("mkdtemp failed");
	ok(journal_load(dir, &back, &cause) == 0, "no journal: load says none");

	j = sample(dir);
	ok(journal_save(j, &cause) == 0, "save");
	path = xasprintf("%s/journal", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "journal is 0600");
	ok(journal_load(dir, &back, &cause) == 1, "load finds it");
	ok(back->phase == JOURNAL_QUARANTINED, "phase read back");
	ok(strcmp(back->backup, j->backup) == 0, "a path with a blank read back");
	ok(strcmp(back->payload, "Kmsdata") == 0 && back->service_was_running,
	    "payload and service state read back");
	ok(!back->rolling_back, "not rolling back");
	journal_free(back);

	/* A failed write leaves the old journal as it was. */
	j->phase = JOURNAL_RESTORED;
	/* The first save made rename call 1; the count is per process. */
	setenv("KMSRECOVER_FAULT", "rename:2", 1);
	ok(journal_save(j, &cause) == -1 && cause != NULL && strstr(cause, dir) != NULL,
	    "an injected rename failure is reported naming the journal");
	unsetenv("KMSRECOVER_FAULT");
	free(cause);
	cause = NULL;
	ok(journal_load(dir, &back, &cause) == 1 && back->phase == JOURNAL_QUARANTINED,
	    "after the failed save the journal still says quarantined");
	journal_free(back);

	/* Damage is refused, naming the line. */
	write_file(path, "version=1\nphase=quarantined\nbogus line\n");
	ok(journal_load(dir, &back, &cause) == -1 && strstr(cause, ":3:") != NULL,
	    "a damaged journal is refused naming line 3");
	free(cause);
	cause = NULL;
	write_file(path, "version=1\nphase=flying\n");
	ok(journal_load(dir, &back, &cause) == -1, "an unknown phase is refused");
	free(cause);
	cause = NULL;
	write_file(path, "version=1\nphase=staged\n");
	ok(journal_load(dir, &back, &cause) == -1 && strstr(cause, "incomplete") != NULL,
	    "a journal without its folders is refused as incomplete");
	free(cause);
	cause = NULL;

	/* Closing moves it aside for the record. */
	ok(journal_save(j, &cause) == 0, "save again");
	ok(journal_close(j, &cause) == 0, "close");
	done = xasprintf("%s/journal.done-20261125T120000Z", dir);
	ok(access(path, F_OK) != 0 && access(done, F_OK) == 0, "closed journal moved aside");
	ok(journal_load(dir, &back, &cause) == 0, "after close, no journal");

	unlink(done);
	free(done);
	free(path);
	journal_free(j);
	rmdir(dir);
	return done_testing();
}
