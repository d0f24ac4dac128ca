/*
 * The batch frontend's answers (frontends.h): what the options say, and an
 * answers file of "key = value" lines, read as strictly as the profile: an
 * unknown key, a value a question cannot take, a key given twice, each is
 * an error naming the file, the line, the key and what it takes, found
 * before anything is done (exit 2). The options win over the file.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontends.h"
#include "i18n.h"
#include "xmalloc.h"

#define ANSWERS_LINE_MAX 4096

/* Every key a question asks by, and the values it takes (NULL: a path). */
static const struct answers_key {
	const char *key;
	const char *values; /* words separated by '|' */
} answers_keys[] = {
	{ "backup", NULL },
	{ "alpha-file", NULL },
	{ "startup-disk", NULL },
	{ "backup-passphrase-file", NULL },
	{ "output", NULL },
	{ "yes", "yes|no" },
	{ "journal", "resume|rollback|start-over|quit" },
	{ "password-source", "typed|startup-disk" },
	{ "start-failed", "retry|rollback|quit" },
	{ "confirm-1", "yes|no" },
	{ "confirm-2", "yes|no" },
	{ "confirm-3", "yes|no" },
	{ "confirm-4", "yes|no" },
	{ "confirm-5", "yes|no" },
	{ "confirm-6", "yes|no" },
	{ "confirm-7", "yes|no" },
	{ "confirm-go", "yes|no" },
	{ "kmsdata-changed", "go-on|rollback|quit" },
	{ "confirm-backup", "yes|no" },
	{ "remove-quarantine", "yes|no" },
};
#define ANSWERS_NKEYS (sizeof answers_keys / sizeof answers_keys[0])

void
batch_answers_add(struct batch_answers *a, const char *key, const char *value)
{
	size_t n = 0;

	while (a->keys != NULL && a->keys[n] != NULL)
		n++;
	a->keys = xreallocarray(a->keys, n + 2, sizeof *a->keys);
	a->values = xreallocarray(a->values, n + 2, sizeof *a->values);
	a->keys[n] = xstrdup(key);
	a->values[n] = xstrdup(value);
	a->keys[n + 1] = NULL;
	a->values[n + 1] = NULL;
}

const char *
batch_answers_get(const struct batch_answers *a, const char *key)
{
	size_t i;

	for (i = 0; a->keys != NULL && a->keys[i] != NULL; i++) {
		if (strcmp(a->keys[i], key) == 0)
			return a->values[i];
	}
	return NULL;
}

void
batch_answers_free(struct batch_answers *a)
{
	xfree_argv(a->keys);
	xfree_argv(a->values);
	a->keys = a->values = NULL;
}

static char *
answers_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	*end = '\0';
	return s;
}

static const struct answers_key *
answers_find(const char *key)
{
	size_t i;

	for (i = 0; i < ANSWERS_NKEYS; i++) {
		if (strcmp(answers_keys[i].key, key) == 0)
			return &answers_keys[i];
	}
	return NULL;
}

/* Whether value is one of the words of values ("yes|no"). */
static int
answers_value_ok(const char *values, const char *value)
{
	size_t n = strlen(value);
	const char *p = values, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((bar != NULL ? (size_t)(bar - p) : strlen(p)) == n && strncmp(p, value, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

/* The words of values ("yes|no") as a list for a message: "yes, no". */
static char *
answers_words(const char *values)
{
	char *out = xmalloc(2 * strlen(values) + 1), *o = out;
	const char *p;

	for (p = values; *p != '\0'; p++) {
		if (*p == '|') {
			*o++ = ',';
			*o++ = ' ';
		} else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* Why a key = value line is refused (translated), or NULL. */
static char *
answers_refusal(const struct batch_answers *file, const char *key, const char *value)
{
	const struct answers_key *k = answers_find(key);
	char *alike, *p, *why;
	size_t i;

	if (k == NULL) {
		alike = xstrdup(key);
		for (p = alike; *p != '\0'; p++)
			*p = *p == '_' ? '-' : *p;
		if (answers_find(alike) != NULL)
			/* TRANSLATORS: %1$s is the key written, %2$s the key meant. */
			why = xasprintf(_("unknown key \"%1$s\": did you mean %2$s?"), key, alike);
		else {
			free(alike);
			alike = xstrdup(answers_keys[0].key);
			for (i = 1; i < ANSWERS_NKEYS; i++) {
				p = xasprintf("%s, %s", alike, answers_keys[i].key);
				free(alike);
				alike = p;
			}
			/* TRANSLATORS: %1$s is the key written, %2$s the list of the keys. */
			why = xasprintf(_("unknown key \"%1$s\"; the keys are: %2$s"), key, alike);
		}
		free(alike);
		return why;
	}
	if (*value == '\0')
		return xasprintf(_("%s: a value is needed"), key);
	if (batch_answers_get(file, key) != NULL)
		return xasprintf(_("%s: given twice"), key);
	if (k->values != NULL && !answers_value_ok(k->values, value)) {
		alike = answers_words(k->values);
		/* TRANSLATORS: %1$s the key, %2$s the values it takes ("yes, no"), %3$s what was given. */
		why = xasprintf(_("%1$s: expected one of %2$s, got \"%3$s\""), key, alike, value);
		free(alike);
		return why;
	}
	return NULL;
}

int
batch_answers_read(struct batch_answers *a, const char *path, char **cause)
{
	struct batch_answers file = { 0 };
	FILE *f = fopen(path, "re");
	char line[ANSWERS_LINE_MAX], *key, *value, *eq, *why = NULL;
	int lineno = 0, ret = 0;
	size_t i;

	if (f == NULL) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	while (why == NULL && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		key = answers_trim(line);
		if (*key == '\0' || *key == '#' || *key == ';')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			why = xstrdup(_("expected key = value"));
			break;
		}
		*eq = '\0';
		key = answers_trim(key);
		value = answers_trim(eq + 1);
		if ((why = answers_refusal(&file, key, value)) == NULL)
			batch_answers_add(&file, key, value);
	}
	if (why != NULL) {
		/* TRANSLATORS: %1$s the answers file, %2$d the line, %3$s what is wrong. */
		*cause = xasprintf(_("%1$s:%2$d: %3$s"), path, lineno, why);
		ret = -1;
	}
	for (i = 0; ret == 0 && file.keys != NULL && file.keys[i] != NULL; i++) {
		if (batch_answers_get(a, file.keys[i]) == NULL)
			batch_answers_add(a, file.keys[i], file.values[i]);
	}
	free(why);
	batch_answers_free(&file);
	fclose(f);
	return ret;
}
