/*
 * How long work reports back. The backend modules call progress_update()
 * between units (a block, a file); the engine forwards it to the frontend,
 * which may redraw and read the keyboard. A non-zero return asks the work
 * to stop at the next safe point (it then fails with a cause saying so).
 */
#ifndef KMSRECOVER_PROGRESS_H
#define KMSRECOVER_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress_state {
	uint64_t bytes_done;  /* bytes handled so far */
	uint64_t bytes_total; /* 0 when unknown */
	uint64_t files_done;
	uint64_t files_total; /* 0 when unknown */
	const char *current;  /* the entry being handled, raw (not escaped); may be NULL */
};

struct progress {
	/* Called between units of work. Returns 0 to go on, non-zero to stop. */
	int (*update)(void *arg, const struct progress_state *state);
	void *arg;
};

/* Calls p->update when p and p->update are set; 0 otherwise. */
static inline int
progress_update(const struct progress *p, const struct progress_state *s)
{
	if (p == NULL || p->update == NULL)
		return 0;
	return p->update(p->arg, s);
}

#endif
