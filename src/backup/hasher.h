/*
 * SHA-256 of a stream on a thread of its own, for step P's one read of the
 * backup (backup.c): the main thread reads, unpacks and writes while the
 * other core hashes. One hasher is one stream at a time (the archive file
 * as stored, or one file's data after another); its digests come back
 * through done_fn, on the caller's thread, in the order the streams ended.
 * Memory is bounded: the caller waits when the worker is behind.
 */
#ifndef KMSRECOVER_HASHER_H
#define KMSRECOVER_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* An HMAC-SHA-256, when the stream also has one. */
#define HASHER_MAC_LEN 32

struct hasher;

/*
 * A hasher whose digests go to done_fn(arg, tag, digest) (digest is
 * DIGEST_LEN bytes, valid for the call). With arena it can copy blocks
 * (hasher_update); without, it only borrows them (hasher_lend). When no
 * thread can be started each job is done at once, in the caller.
 */
struct hasher *hasher_new(void (*done_fn)(void *arg, size_t tag, const unsigned char *digest),
    void *arg, int arena);
/* Stops the worker, dropping what it has not done, and frees h (NULL is fine). */
void hasher_free(struct hasher *h);

/* Has the stream's HMAC computed too, with mac (h then owns it); before the first job. */
void hasher_set_mac(struct hasher *h, EVP_MAC_CTX *mac);
/* The stream's HMAC once its end is drained; NULL without one, or when it failed. */
const unsigned char *hasher_mac(const struct hasher *h);

/* Copies len bytes of the current stream to the worker (a hasher with an arena). */
void hasher_update(struct hasher *h, const void *buf, size_t len);
/* Lends len bytes of the stream: buf stays as it is until hasher_wait(ticket). */
uint64_t hasher_lend(struct hasher *h, const void *buf, size_t len);
/* Until the block lent with ticket (0: none) is done with. */
void hasher_wait(struct hasher *h, uint64_t ticket);
/* n zero bytes of the current stream (a hole). */
void hasher_zeros(struct hasher *h, uint64_t n);
/* Ends the stream; done_fn gets its digest with tag, later. */
void hasher_final(struct hasher *h, size_t tag);
/* Until every job is done and every digest handed to done_fn. */
void hasher_drain(struct hasher *h);

#endif
