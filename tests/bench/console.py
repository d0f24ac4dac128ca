#!/usr/bin/python3
"""The wizard on a console that drains slowly: how long reading a backup takes.

console.py RATE JOURNAL -- COMMAND...

Runs COMMAND (kmsrecover in its wizard, given --backup and --startup-disk,
so that step P asks nothing) in a pseudo-terminal of 80x24. The terminal's
output is read at RATE bytes a second (0: as fast as it comes), as a serial
console at 9600 baud would carry it (960). Enter is sent once (the welcome
screen's Next). The time the backup took to read is taken from the journal
(JOURNAL, polled every 5 ms): from "phase=staging" to "phase=staged". Prints
that time in seconds, then ends COMMAND (SIGTERM): the caller rolls back.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def phase(journal):
    try:
        with open(journal) as f:
            for line in f:
                if line.startswith("phase="):
                    return line.strip()[6:]
    except OSError:
        pass
    return None


def main():
    rate = float(sys.argv[1])
    journal = sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    pid, master = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.execvp(command[0], command)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    start = time.monotonic()
    sent = False
    t_staging = t_staged = None
    budget = 0.0
    last = start
    while time.monotonic() - start < 600:
        now = time.monotonic()
        if rate > 0:
            budget = min(budget + (now - last) * rate, rate / 10)
        last = now
        want = 4096 if rate <= 0 else int(budget)
        if want > 0 and select.select([master], [], [], 0)[0]:
            try:
                got = os.read(master, want)
            except OSError:
                break
            budget -= len(got)
        if not sent and now - start > 0.5:
            os.write(master, b"\r")
            sent = True
        p = phase(journal)
        if t_staging is None and p == "staging":
            t_staging = now
        if t_staging is not None and p not in (None, "staging"):
            t_staged = now
            break
        time.sleep(0.005)
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        # Drain what is left so that the program can leave the terminal.
        if select.select([master], [], [], 0.05)[0]:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            break
    if t_staging is None or t_staged is None:
        print("console.py: the backup was not read (journal %s)" % journal, file=sys.stderr)
        return 1
    print("%.3f" % (t_staged - t_staging))
    return 0


if __name__ == "__main__":
    sys.exit(main())
