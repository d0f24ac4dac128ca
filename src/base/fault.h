/*
 * Fault injection for the tests (issue: hardening). Built in unless
 * configured with --disable-fault-injection; inert unless the environment
 * asks:
 *   KMSRECOVER_FAULT=OP:N[,OP:N...]  the Nth call of fault_fail(OP) fails
 *                                    (OP: write, rename, fsync, spawn, mkdir, read)
 *   KMSRECOVER_KILL_AT=POINT         fault_point(POINT) kills the process with SIGKILL
 * Each operation calls fault_fail() just before the real call; when it
 * returns -1, errno is set (EIO, or ENOSPC for write) and the caller fails
 * as if the system call had.
 */
#ifndef KMSRECOVER_FAULT_H
#define KMSRECOVER_FAULT_H

/* 0 normally; -1 with errno set when this call of op is to fail. */
int fault_fail(const char *op);
/* Kills the process here when KMSRECOVER_KILL_AT names this point. */
void fault_point(const char *point);

#endif
