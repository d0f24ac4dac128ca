/*
 * The one place a question goes to the frontend (engine.h): what the
 * frontend answers is returned as it is, and when no answer can be had
 * (batch mode without the option) the frontend's reason is noted to the
 * operator and the transcript before the caller ends the run.
 */
#include "config.h"

#include <stdlib.h>

#include "engine.h"

/* Notes the cause of an FE_ERROR (the frontend has set it by now); returns reply. */
static int
ask_noted(struct recovery *r, int reply, char *cause)
{
	if (reply == FE_ERROR && cause != NULL)
		recovery_note(r, FE_ERROR_LEVEL, NULL, "%s", cause);
	free(cause);
	return reply;
}

int
ask_text(struct recovery *r, const struct fe_question *q, char **answer)
{
	char *cause = NULL;
	int reply = r->fe->ops->ask_text(r->fe, q, answer, &cause);

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
