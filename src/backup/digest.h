/*
 * SHA-256 through OpenSSL's EVP (which uses the CPU's SHA extensions), and
 * its hex form. The manifest that lists the digests is manifest.h's.
 */
#ifndef KMSRECOVER_DIGEST_H
#define KMSRECOVER_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_LEN 32
#define DIGEST_HEX_LEN 64
#define MANIFEST_NAME "MANIFEST.sha256"

struct digest; /* an EVP_MD_CTX for SHA-256 */

struct digest *digest_new(void);
void digest_update(struct digest *d, const void *buf, size_t len);
/* Writes the 32-byte digest and resets d for reuse. */
void digest_final(struct digest *d, unsigned char out[DIGEST_LEN]);
void digest_free(struct digest *d);
/* Lower-case hex, NUL-terminated. */
void digest_hex(const unsigned char in[DIGEST_LEN], char out[DIGEST_HEX_LEN + 1]);
/*
 * Reads 2n hex digits (either case, as sha256sum -c accepts them) at s into
 * n bytes; stops at the first character that is not one. 0, or -1.
 */
int digest_unhex(const char *s, unsigned char *out, size_t n);

#endif
