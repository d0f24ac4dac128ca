/*
 * Allocation wrappers that never return NULL: on exhaustion they abort,
 * which is the only honest answer for a program this small. Sizes are
 * checked for overflow. xasprintf is the bounded way to build strings.
 */
#ifndef KMSRECOVER_XMALLOC_H
#define KMSRECOVER_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Frees a NULL-terminated vector of strings and the vector itself. */
void xfree_argv(char **argv);
/* Copies a NULL-terminated vector of strings. NULL gives NULL. */
char **xdup_argv(char *const *argv);

#endif
