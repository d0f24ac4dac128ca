/*
 * The one place a question goes to the frontend (engine.h): what the
 * frontend answers is returned (a path typed as ~/... made the operator's
 * home, as a shell would), and when no answer can be had (batch mode
 * without the option) the frontend's reason is noted to the operator and
 * the transcript before the caller ends the run.
 */
#include "config.h"

#include <stdlib.h>

#include "engine.h"
#include "xmalloc.h"

/* Notes the cause of an FE_ERROR (the frontend has set it by now); returns reply. */
static int
ask_noted(struct recovery *r, int reply, char *cause)
{
	if (reply == FE_ERROR && cause != NULL)
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
	free(cause);
	return reply;
}

/* A path typed as ~/... or ~ is the operator's home, as in a shell. */
static void
ask_expand_home(char **answer)
{
	const char *home = getenv("HOME");
	char *expanded;

	if (*answer == NULL || (*answer)[0] != '~' ||
	    ((*answer)[1] != '/' && (*answer)[1] != '\0') || home == NULL || *home == '\0')
		return;
	expanded = xasprintf("%s%s", home, *answer + 1);
	free(*answer);
	*answer = expanded;
}

int
ask_text(struct recovery *r, const struct fe_question *q, char **answer)
{
	char *cause = NULL;
	int reply = r->fe->ops->ask_text(r->fe, q, answer, &cause);

	if (reply == FE_OK)
		ask_expand_home(answer);
	return ask_noted(r, reply, cause);
}

int
ask_secret(struct recovery *r, const struct fe_question *q, struct secret **out)
{
	char *cause = NULL;
	int reply = r->fe->ops->ask_secret(r->fe, q, out, &cause);

	return ask_noted(r, reply, cause);
}

int
ask_choose(struct recovery *r, const struct fe_question *q, int *choice)
{
	char *cause = NULL;
	int reply = r->fe->ops->choose(r->fe, q, choice, &cause);

	return ask_noted(r, reply, cause);
}

int
ask_confirm(struct recovery *r, const struct fe_question *q)
{
	char *cause = NULL;
	int reply = r->fe->ops->confirm(r->fe, q, &cause);

	return ask_noted(r, reply, cause);
}

int
ask_exit(int reply, int usage_code)
{
	return reply == FE_ERROR ? usage_code : EXIT_FAILED;
}
