/*
 * Write-back while a tree is written (see writeback.h). The caller counts
 * what it writes; past a threshold it wakes the thread, which runs one
 * syncfs while the caller goes on. Requests that come while a syncfs runs
 * are folded into the next one.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "writeback.h"
#include "xmalloc.h"

struct writeback {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int fd;         /* the thread's own file description of the folder */
	int asked;      /* a syncfs is wanted */
	int stopping;   /* the thread ends once nothing is asked */
	uint64_t bytes; /* written since the last request (the caller's) */
	uint64_t files;
};

static void *
writeback_main(void *arg)
{
	struct writeback *wb = arg;

	pthread_mutex_lock(&wb->lock);
	for (;;) {
		while (!wb->asked && !wb->stopping)
			pthread_cond_wait(&wb->wake, &wb->lock);
		if (!wb->asked)
			break;
		wb->asked = 0;
		pthread_mutex_unlock(&wb->lock);
#ifdef HAVE_SYNCFS
		(void)syncfs(wb->fd);
#else
		sync();
#endif
		pthread_mutex_lock(&wb->lock);
	}
	pthread_mutex_unlock(&wb->lock);
	return NULL;
}

struct writeback *
writeback_start(int dir_fd)
{
	struct writeback *wb;
	sigset_t all, old;
	int started;

	wb = xcalloc(1, sizeof *wb);
	if ((wb->fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	if (pthread_mutex_init(&wb->lock, NULL) != 0)
		goto fail_fd;
	if (pthread_cond_init(&wb->wake, NULL) != 0)
		goto fail_lock;
	/* Signals stay with the caller's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	started = pthread_create(&wb->thread, NULL, writeback_main, wb) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started)
		return wb;
	pthread_cond_destroy(&wb->wake);
fail_lock:
	pthread_mutex_destroy(&wb->lock);
fail_fd:
	close(wb->fd);
fail:
	free(wb);
	return NULL;
}

void
writeback_note(struct writeback *wb, uint64_t bytes)
{
	if (wb == NULL)
		return;
	wb->bytes += bytes;
	wb->files++;
	if (wb->bytes < WRITEBACK_BYTES && wb->files < WRITEBACK_FILES)
		return;
	wb->bytes = 0;
	wb->files = 0;
	pthread_mutex_lock(&wb->lock);
	wb->asked = 1;
	pthread_cond_signal(&wb->wake);
	pthread_mutex_unlock(&wb->lock);
}

void
writeback_stop(struct writeback *wb)
{
	if (wb == NULL)
		return;
	pthread_mutex_lock(&wb->lock);
	wb->stopping = 1;
	pthread_cond_signal(&wb->wake);
	pthread_mutex_unlock(&wb->lock);
	pthread_join(wb->thread, NULL);
	pthread_cond_destroy(&wb->wake);
	pthread_mutex_destroy(&wb->lock);
	close(wb->fd);
	free(wb);
}
