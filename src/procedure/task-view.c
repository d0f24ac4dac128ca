/*
 * What the tasks other than the recovery (backup, startup disk, rehearse)
 * show with: their own step list in the view, a step shown, running, done
 * or failed, the end's summary, and the folder a path to be written is in.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "i18n.h"
#include "xmalloc.h"

void
task_view_steps(struct recovery *r, const char *title, const char *const *titles, size_t n)
{
	static const char *ids[] = { "1", "2", "3", "4", "5" };
	size_t i;

	for (i = 0; i < n && i < sizeof ids / sizeof ids[0]; i++) {
		r->steps[i].id = ids[i];
		r->steps[i].title = titles[i];
		r->steps[i].state = FE_STEP_PENDING;
	}
	r->view.nsteps = n;
	r->view.task_title = title;
}

void
task_view_show(struct recovery *r, int i, const char *explanation, const char *action)
{
	struct fe_step_info info = { 0 };

	if (i >= 0) {
		r->view.current = i;
		r->steps[i].state = FE_STEP_RUNNING;
	}
	info.id = i >= 0 ? r->steps[i].id : "";
	info.title = i >= 0 ? _(r->steps[i].title) : r->view.task_title;
	info.explanation = explanation;
	info.action = action;
	r->fe->ops->step(r->fe, &info);
}

void
task_view_done(struct recovery *r, int i, int ok)
{
	r->steps[i].state = ok ? FE_STEP_DONE : FE_STEP_FAILED;
}

void
task_view_summary(struct recovery *r, int success, const char *title,
    const struct fe_summary_line *lines, size_t n)
{
	struct fe_summary s = { 0 };

	s.success = success;
	s.title = title;
	s.entries = lines;
	s.nentries = n;
	r->fe->ops->summary(r->fe, &s);
}
