/*
 * Command lines of the profile (see profile.h): the service's start, stop
 * and status commands, the profile's own or its manager's defaults; a
 * command split into an argv ("double quotes" group, no shell ever); and
 * a token such as %d replaced in each word.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "profile.h"
#include "xmalloc.h"

/* The service commands: the profile's own, or the manager's defaults. */

static char **
profile_vector(const char *a, const char *b, const char *c, const char *d)
{
	const char *in[] = { a, b, c, d, NULL };
	char **v = xcalloc(5, sizeof *v);
	size_t i;

	for (i = 0; in[i] != NULL; i++)
		v[i] = xstrdup(in[i]);
	return v;
}

char **
profile_service_argv(const struct profile *p, enum profile_command which)
{
	static const char *verbs[] = { "start", "stop", "status" };
	char *const *own[] = { p->start_argv, p->stop_argv, p->status_argv };
	char *script, **v;

	if (own[which] != NULL)
		return xdup_argv(own[which]);
	switch (p->manager) {
	case SERVICE_MANAGER_SYSTEMD:
		if (which == PROFILE_STATUS)
			return profile_vector("systemctl", "is-active", "--quiet", p->service_name);
		return profile_vector("systemctl", verbs[which], p->service_name, NULL);
	case SERVICE_MANAGER_SYSV:
		script = xasprintf("/etc/init.d/%s", p->service_name);
		if (access(script, X_OK) == 0)
			v = profile_vector(script, verbs[which], NULL, NULL);
		else
			v = profile_vector("service", p->service_name, verbs[which], NULL);
		free(script);
		return v;
	case SERVICE_MANAGER_COMMAND:
		break;
	}
	return NULL;
}

/* Splitting a command line. */

int
profile_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One word from *sp into out (room for the whole line): quotes group,
 * inside them \" and \\ stand for " and \. Returns 0, or -1 when a quote
 * is not closed.
 */
static int
profile_split_word(const char **sp, char *out)
{
	const char *s = *sp;
	int quoted = 0;

	for (; *s != '\0' && (quoted || !profile_is_blank(*s)); s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (quoted && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
			*out++ = *++s;
		else
			*out++ = *s;
	}
	*out = '\0';
	*sp = s;
	return quoted ? -1 : 0;
}

int
profile_split_argv(const char *line, char ***argv, char **cause)
{
	char **v = NULL, *word;
	size_t n = 0;
	const char *s = line;

	*argv = NULL;
	word = xmalloc(strlen(line) + 1);
	for (;;) {
		while (profile_is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		if (profile_split_word(&s, word) != 0) {
			*cause = xasprintf(_("a \"double quote\" is not closed in: %s"), line);
			goto fail;
		}
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrdup(word);
		v[n] = NULL;
	}
	if (n == 0) {
		*cause = xstrdup(_("the command is empty"));
		goto fail;
	}
	free(word);
	*argv = v;
	return 0;
fail:
	free(word);
	xfree_argv(v);
	return -1;
}

static char *
profile_substitute(const char *s, const char *token, const char *value)
{
	size_t tlen = strlen(token), vlen = strlen(value), len = 0, cap;
	const char *hit;
	char *out;

	cap = strlen(s) + 1;
	out = xmalloc(cap);
	while (tlen != 0 && (hit = strstr(s, token)) != NULL) {
		cap += vlen;
		out = xreallocarray(out, cap, 1);
		memcpy(out + len, s, (size_t)(hit - s));
		len += (size_t)(hit - s);
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): the last memcpy ends it */
		memcpy(out + len, value, vlen);
		len += vlen;
		s = hit + tlen;
	}
	memcpy(out + len, s, strlen(s) + 1);
	return out;
}

char **
profile_substitute_argv(char *const *argv, const char *token, const char *value)
{
	char **v;
	size_t n, i;

	if (argv == NULL)
		return NULL;
	for (n = 0; argv[n] != NULL; n++)
		;
	v = xreallocarray(NULL, n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = profile_substitute(argv[i], token, value);
	v[n] = NULL;
	return v;
}
