/*
 * What the files of kmsim's database share (kmsim-db.h is the interface):
 * the file format's sizes and parts. kmsim-io.c has memory, buffers, the
 * cryptography and file writing; kmsim-db.c the database made, checked and
 * opened; kmsim-disk.c the startup disk's parser.
 */
#ifndef KMSRECOVER_KMSIM_DB_PRIVATE_H
#define KMSRECOVER_KMSIM_DB_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kmsim-db.h"

#define KMSIM_MAGIC "KMSIMDB\0"
#define KMSIM_VERSION 1
#define KMSIM_KDF_PBKDF2_SHA256 1
#define KMSIM_SALT_SIZE 16
#define KMSIM_HEADER_SIZE 36
#define KMSIM_IV_SIZE 12
#define KMSIM_TAG_SIZE 16
#define KMSIM_SEAL_SIZE (KMSIM_IV_SIZE + KMSIM_KEY_SIZE + KMSIM_TAG_SIZE)
#define KMSIM_SUM_SIZE 32
#define KMSIM_LOGS_MAX 16
#define KMSIM_LOG_NAME_MAX 32
#define KMSIM_LOG_SIZE 4096
#define KMSIM_DB_SIZE_MAX (16 * 1024 * 1024)
#define KMSIM_DISK_SIZE_MAX (64 * 1024)
#define KMSIM_RECORD_MIN (1 + 1 + KMSIM_SEAL_SIZE)

/* A growing output buffer; cleansed when freed, as it holds key material's neighbours. */
struct kmsim_buf {
	unsigned char *data;
	size_t len;
	size_t size;
};

/* A bounded cursor over a file read into memory. */
struct kmsim_reader {
	const unsigned char *data;
	size_t len;
	size_t off;
};

/* One record as it lies in the file. */
struct kmsim_raw_record {
	const unsigned char *name;
	size_t name_len;
	const unsigned char *seal; /* IV, encrypted key, tag */
};

/* Where the parts of a checked Kmsmdb.edb lie, pointing into its bytes. */
struct kmsim_layout {
	const unsigned char *header;
	uint32_t iterations;
	const unsigned char *salt;
	const unsigned char *wrap; /* IV, encrypted master key, tag */
	uint32_t nrecords;
	size_t records_off;
	uint32_t nlogs;
	char log_names[KMSIM_LOGS_MAX][KMSIM_LOG_NAME_MAX + 1];
	const unsigned char *log_sums[KMSIM_LOGS_MAX];
};

/* kmsim-io.c */
__attribute__((noreturn)) void kmsim_out_of_memory(void);
void kmsim_buf_put(struct kmsim_buf *b, const void *p, size_t n);
void kmsim_buf_put_u32(struct kmsim_buf *b, uint32_t v);
void kmsim_buf_free(struct kmsim_buf *b);
uint32_t kmsim_get_u32(const unsigned char *p);
const unsigned char *kmsim_reader_get(struct kmsim_reader *r, size_t n);
int kmsim_reader_u32(struct kmsim_reader *r, uint32_t *v);
int kmsim_name_valid(const unsigned char *name, size_t len, size_t max, int no_dot);
int kmsim_sha256(const void *data, size_t len, unsigned char out[KMSIM_SUM_SIZE]);
int kmsim_derive(const char *alpha, size_t alpha_len, const unsigned char *salt,
    uint32_t iterations, unsigned char out[KMSIM_KEY_SIZE]);
int kmsim_seal(const unsigned char *key, const unsigned char *aad, size_t aad_len,
    const unsigned char *in, unsigned char seal[KMSIM_SEAL_SIZE]);
int kmsim_unseal(const unsigned char *key, const unsigned char *aad, size_t aad_len,
    const unsigned char seal[KMSIM_SEAL_SIZE], unsigned char out[KMSIM_KEY_SIZE]);
size_t kmsim_record_aad(unsigned char *aad, const unsigned char *header, uint32_t index,
    const unsigned char *name, size_t name_len);

/* kmsim-db.c */
int kmsim_read_fd(int fd, size_t max, unsigned char **datap, size_t *lenp, const char **why);

#endif
