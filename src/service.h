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
 * with *cause when the status command could not be run or timed out.
 * *output (may be NULL to not want it) gets the command's output.
 */
int service_status(const struct profile *p, enum service_state *state, char **output, char **cause);

/*
 * Stops the service and waits until status says stopped, polling, up to
 * the profile's timeout. Already stopped is success. Returns 0, or -1 with
 * *cause and *output (the stop command's own output) on failure.
 */
int service_stop(const struct profile *p, char **output, char **cause);

/*
 * Hands the password over as the profile says (stdin of the start command,
 * a systemd credential file, or a 0600 file), starts the service, waits
 * until running up to the timeout, then removes any hand-off file. A start
 * command that exits non-zero, or a service not running by the timeout, is
 * a failure: -1 with *cause and *output holding the service's own output
 * (the start command's). Returns 0 when running.
 */
int service_start(const struct profile *p, const struct secret *alpha, char **output, char **cause);

/*
 * Looks through /proc for processes other than this one with a file open, a
 * working directory or a mapping under dir. Returns the count (0 = none),
 * or -1 with *cause. *first gets "PID (comm)" of the first one, or NULL.
 */
int service_holders(const char *dir, char **first, char **cause);

#endif
