/*
 * The hashers of step P's one read (see hasher.h). SHA-256 costs more than
 * reading and writing the backup put together, and the backup is hashed
 * twice: the file as stored (for the report) and each file's data (for the
 * manifest). Each of the two streams gets a thread, so the work spreads
 * over the cores while the main thread reads, unpacks and writes. A worker
 * takes jobs from a bounded ring, in order. Blocks are either lent (the
 * archive's read buffers, not reused until their job is done) or copied
 * into the hasher's arena (file data, which libarchive overwrites at its
 * next call). A stream's digest comes back through done_fn, called on the
 * main thread when it reclaims the job, so nothing else is shared with the
 * worker. The stream of the file as stored also feeds the HMAC of
 * FILE.hmac, when there is one, on the same worker (set up before its
 * first job). Memory is bounded: the main thread waits when the ring or
 * the arena is full. Without a thread (pthread_create failed) each job is
 * done at once, in the caller.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "digest.h"
#include "hasher.h"
#include "xmalloc.h"

/* A hasher's jobs in flight, and its copies of file data (bounded memory). */
#define HASHER_JOBS 1024
#define HASHER_ARENA (1024 * 1024)
#define HASHER_JOB_MAX (HASHER_ARENA / 4)

/*
 * Each job is a block of one stream, or the end of a stream.
 */
enum hasher_job_kind { HASHER_DATA, HASHER_ZEROS, HASHER_FINAL };

struct hasher_job {
	enum hasher_job_kind kind;
	const unsigned char *data;
	size_t len;
	uint64_t arena_end; /* the arena's head once the job was queued */
	size_t tag;
	unsigned char digest[DIGEST_LEN]; /* HASHER_FINAL: the worker's answer */
};

struct hasher {
	pthread_t thread;
	int threaded; /* 0: each job runs at once in the caller */
	pthread_mutex_t lock;
	pthread_cond_t work; /* to the worker: a job, or stop */
	pthread_cond_t room; /* to the caller: a job done */
	int idle;            /* the worker waits on work */
	int waiting;         /* the caller waits on room */
	int stop;
	uint64_t queued;    /* jobs handed over: the caller's, written under lock */
	uint64_t done;      /* jobs digested: the worker's, written under lock */
	uint64_t reclaimed; /* jobs whose result the caller took: the caller's */
	struct hasher_job job[HASHER_JOBS];
	unsigned char *arena; /* copies; bytes [tail, head) (mod HASHER_ARENA) in use */
	uint64_t head;
	uint64_t tail;
	struct digest *digest; /* the worker's */
	EVP_MAC_CTX *mac;      /* NULL, or an HMAC of the stream too: the worker's */
	unsigned char mac_sum[HASHER_MAC_LEN]; /* the HMAC, once the stream's end is reclaimed */
	int mac_failed;
	void (*done_fn)(void *, size_t, const unsigned char *);
	void *arg;
};

/* Bytes of the stream into its digest, and into its HMAC when it has one. */
static void
hasher_add(struct hasher *h, const void *buf, size_t len)
{
	digest_update(h->digest, buf, len);
	if (h->mac != NULL && EVP_MAC_update(h->mac, buf, len) != 1)
		h->mac_failed = 1;
}

/* The stream's end: its digest into out, its HMAC into mac_sum. */
static void
hasher_end(struct hasher *h, unsigned char out[DIGEST_LEN])
{
	size_t n = 0;

	digest_final(h->digest, out);
	if (h->mac != NULL &&
	    (EVP_MAC_final(h->mac, h->mac_sum, &n, sizeof h->mac_sum) != 1 ||
		n != sizeof h->mac_sum))
		h->mac_failed = 1;
}

static void
hasher_job_run(struct hasher *h, struct hasher_job *j)
{
	static const unsigned char zeros[4096];
	size_t left, n;

	switch (j->kind) {
	case HASHER_DATA:
		hasher_add(h, j->data, j->len);
		break;
	case HASHER_ZEROS:
		for (left = j->len; left > 0; left -= n) {
			n = left < sizeof zeros ? left : sizeof zeros;
			hasher_add(h, zeros, n);
		}
		break;
	case HASHER_FINAL:
		hasher_end(h, j->digest);
		break;
	}
}

static void *
hasher_main(void *arg)
{
	struct hasher *h = arg;
	struct hasher_job *j;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (h->done == h->queued && !h->stop) {
			h->idle = 1;
			pthread_cond_wait(&h->work, &h->lock);
			h->idle = 0;
		}
		if (h->stop)
			break;
		j = &h->job[h->done % HASHER_JOBS];
		pthread_mutex_unlock(&h->lock);
		hasher_job_run(h, j);
		pthread_mutex_lock(&h->lock);
		h->done++;
		if (h->waiting)
			pthread_cond_signal(&h->room);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* A hasher; with arena, it can copy blocks. Signals stay with the main thread. */
struct hasher *
hasher_new(void (*done_fn)(void *, size_t, const unsigned char *), void *arg, int arena)
{
	struct hasher *h;
	sigset_t all, old;

	h = xcalloc(1, sizeof *h);
	h->digest = digest_new();
	h->done_fn = done_fn;
	h->arg = arg;
	if (pthread_mutex_init(&h->lock, NULL) != 0 || pthread_cond_init(&h->work, NULL) != 0 ||
	    pthread_cond_init(&h->room, NULL) != 0)
		abort();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	h->threaded = pthread_create(&h->thread, NULL, hasher_main, h) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->threaded && arena)
		h->arena = xmalloc(HASHER_ARENA);
	return h;
}

/* Stops the worker, dropping what it has not done, and frees h. */
void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	if (h->threaded) {
		pthread_mutex_lock(&h->lock);
		h->stop = 1;
		pthread_cond_signal(&h->work);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->room);
	pthread_mutex_destroy(&h->lock);
	if (h->arena != NULL) {
		/* Only what was written: a small backup leaves most pages untouched. */
		OPENSSL_cleanse(h->arena, h->head < HASHER_ARENA ? (size_t)h->head : HASHER_ARENA);
		free(h->arena);
	}
	digest_free(h->digest);
	EVP_MAC_CTX_free(h->mac);
	free(h);
}

void
hasher_set_mac(struct hasher *h, EVP_MAC_CTX *mac)
{
	EVP_MAC_CTX_free(h->mac);
	h->mac = mac;
}

const unsigned char *
hasher_mac(const struct hasher *h)
{
	return h->mac != NULL && !h->mac_failed ? h->mac_sum : NULL;
}

/* Waits until the jobs before number upto are done, then takes every result there is. */
static void
hasher_reclaim(struct hasher *h, uint64_t upto)
{
	struct hasher_job *j;
	uint64_t done;

	pthread_mutex_lock(&h->lock);
	while (h->done < upto) {
		h->waiting = 1;
		pthread_cond_wait(&h->room, &h->lock);
	}
	h->waiting = 0;
	done = h->done;
	pthread_mutex_unlock(&h->lock);
	for (; h->reclaimed < done; h->reclaimed++) {
		j = &h->job[h->reclaimed % HASHER_JOBS];
		h->tail = j->arena_end;
		if (j->kind == HASHER_FINAL)
			h->done_fn(h->arg, j->tag, j->digest);
	}
}

/* The next free job, of kind. */
static struct hasher_job *
hasher_next_job(struct hasher *h, enum hasher_job_kind kind)
{
	struct hasher_job *j;

	if (h->queued - h->reclaimed == HASHER_JOBS)
		hasher_reclaim(h, h->reclaimed + 1);
	j = &h->job[h->queued % HASHER_JOBS];
	j->kind = kind;
	j->data = NULL;
	j->len = 0;
	return j;
}

/* Hands the job over. Returns its ticket (for hasher_wait). */
static uint64_t
hasher_queue(struct hasher *h, struct hasher_job *j)
{
	j->arena_end = h->head;
	pthread_mutex_lock(&h->lock);
	h->queued++;
	if (h->idle)
		pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
	return h->queued;
}

/* n contiguous bytes of the arena, once the worker is done with them. */
static unsigned char *
hasher_room(struct hasher *h, size_t n)
{
	size_t at = (size_t)(h->head % HASHER_ARENA);

	if (at + n > HASHER_ARENA)
		h->head += HASHER_ARENA - at; /* a block never wraps: skip the end */
	while (h->head + n - h->tail > HASHER_ARENA) {
		if (h->reclaimed == h->queued) {
			h->tail = h->head;
			break;
		}
		hasher_reclaim(h, h->reclaimed + 1);
	}
	return h->arena + h->head % HASHER_ARENA;
}

/* Copies len bytes of the current stream to the worker. */
void
hasher_update(struct hasher *h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct hasher_job *j;
	unsigned char *copy;
	size_t n;

	if (!h->threaded) {
		hasher_add(h, buf, len);
		return;
	}
	for (; len > 0; p += n, len -= n) {
		n = len < HASHER_JOB_MAX ? len : HASHER_JOB_MAX;
		j = hasher_next_job(h, HASHER_DATA);
		copy = hasher_room(h, n);
		memcpy(copy, p, n);
		h->head += n;
		j->data = copy;
		j->len = n;
		hasher_queue(h, j);
	}
}

/* Lends len bytes of the current stream: buf stays as it is until hasher_wait(ticket). */
uint64_t
hasher_lend(struct hasher *h, const void *buf, size_t len)
{
	struct hasher_job *j;

	if (!h->threaded) {
		hasher_add(h, buf, len);
		return 0;
	}
	j = hasher_next_job(h, HASHER_DATA);
	j->data = buf;
	j->len = len;
	return hasher_queue(h, j);
}

void
hasher_wait(struct hasher *h, uint64_t ticket)
{
	if (h->threaded && ticket > h->reclaimed)
		hasher_reclaim(h, ticket);
}

/* n zero bytes of the current stream (a hole). */
void
hasher_zeros(struct hasher *h, uint64_t n)
{
	struct hasher_job j0 = { .kind = HASHER_ZEROS }, *j;
	size_t len;

	for (; n > 0; n -= len) {
		len = n < (1U << 30) ? (size_t)n : (size_t)1 << 30;
		j = h->threaded ? hasher_next_job(h, HASHER_ZEROS) : &j0;
		j->kind = HASHER_ZEROS;
		j->len = len;
		if (h->threaded)
			hasher_queue(h, j);
		else
			hasher_job_run(h, j);
	}
}

/* Ends the stream; done_fn gets its digest with tag, later. */
void
hasher_final(struct hasher *h, size_t tag)
{
	unsigned char digest[DIGEST_LEN];
	struct hasher_job *j;

	if (!h->threaded) {
		hasher_end(h, digest);
		h->done_fn(h->arg, tag, digest);
		return;
	}
	j = hasher_next_job(h, HASHER_FINAL);
	j->tag = tag;
	hasher_queue(h, j);
}

/* Until every job is done and every digest handed to done_fn. */
void
hasher_drain(struct hasher *h)
{
	if (h->threaded)
		hasher_reclaim(h, h->queued);
}
