/*
 * Write-back while a tree is written (step P's staging). A thread of its
 * own calls syncfs on the tree's file system each time enough has been
 * written since its last one, so the disk works through the staged files
 * on the other core while more are extracted, and the final syncfs, which
 * alone gives the guarantee, has little left to wait for. Without it that
 * last syncfs waited for everything at once (about a second for 100,000
 * small files here).
 *
 * Best effort: nothing here reports an error. The thread syncs through a
 * file description of its own, so an error in write-back is still
 * reported to the caller's final syncfs: Linux reports it once to each
 * open file description.
 */
#ifndef KMSRECOVER_WRITEBACK_H
#define KMSRECOVER_WRITEBACK_H

#include <stdint.h>

/* A syncfs is asked for once this many bytes, or files, were written since the last. */
#define WRITEBACK_BYTES (64 * 1024 * 1024)
#define WRITEBACK_FILES 4096

struct writeback;

/*
 * Starts the thread for the file system of dir_fd (which stays the
 * caller's). NULL when it cannot: there is then no early write-back, and
 * writeback_note and writeback_stop accept the NULL.
 */
struct writeback *writeback_start(int dir_fd);
/* One file of bytes was written: asks for a syncfs when enough has been. */
void writeback_note(struct writeback *wb, uint64_t bytes);
/* Serves a syncfs still asked for, stops the thread and frees wb (NULL is fine). */
void writeback_stop(struct writeback *wb);

#endif
