/*
 * The KM Server service: status, stop and start through the profile's
 * manager (systemd's systemctl, a sysv init script, or the profile's own
 * commands), each waiting for the state change up to the profile's timeout.
 */
#ifndef KMSRECOVER_SERVICE_H
#define KMSRECOVER_SERVICE_H

#include "profile.h"

struct secret;

enum service_state { SERVICE_RUNNING, SERVICE_STOPPED, SERVICE_UNKNOWN };

/* Translated name of a state ("running", "stopped", "unknown"). */
const char *service_state_name(enum service_state s);

/*
 * Asks the manager. status exit 0 = running, 3 = stopped (LSB; systemctl
 * is-active likewise), anything else unknown. Returns 0 with *state, or -1
 * with *cause when the status command could not be run or timed out (each
 * status call may take the profile's timeout, at most 30 s).
 * *output (may be NULL to not want it) gets the command's output on 0, to
 * be freed; NULL on -1.
 *
 * The commands: the profile's start/stop/status when given (manager=command
 * needs them; with systemd or sysv they override), else for systemd
 * "systemctl start|stop NAME" and "systemctl is-active --quiet NAME", for
 * sysv "/etc/init.d/NAME start|stop|status" when that script exists, else
 * "service NAME start|stop|status".
 */
int service_status(const struct profile *p, enum service_state *state, char **output, char **cause);

/*
 * Stops the service and waits until status says stopped, polling every
 * 200 ms, up to the profile's timeout. Already stopped is success (a stop
 * command that fails while status says stopped is success). Returns 0, or
 * -1 with *cause and *output (the stop command's own output, to be freed;
 * may be NULL) on failure. output may be NULL; *output is NULL on success.
 */
int service_stop(const struct profile *p, char **output, char **cause);

/*
 * Hands the password over as the profile says (stdin of the start command,
 * a systemd credential file, or a 0600 file), starts the service, waits
 * until running up to the timeout and then 1 s more to see it stay up, then
 * removes any hand-off file (on every path). A start command that exits
 * non-zero, a service not running by the timeout, or one that stops again
 * within that second is a failure: -1 with *cause and *output holding the
 * service's own output (the start command's; to be freed, may be NULL).
 * Returns 0 when running (*output NULL). alpha NULL: no hand-off at all.
 * manager=systemd with handoff=stdin and no start command of the profile's
 * own is refused before anything runs: systemctl does not pass stdin on.
 */
int service_start(const struct profile *p, const struct secret *alpha, char **output, char **cause);

/*
 * Looks through /proc for processes other than this one with a file open, a
 * working directory or a mapping under dir. Returns the count (0 = none),
 * or -1 with *cause. *first gets "PID (comm)" of the first one, or NULL.
 */
int service_holders(const char *dir, char **first, char **cause);

#endif
