"""
The one way hostnode's execution modules run a command.

Each module keeps a one-line ``_run`` that passes its ``__salt__["cmd.run_all"]`` here, so the
module has a single place that touches the system and tests replace exactly that.
"""

from salt.exceptions import CommandExecutionError


class CommandTimeout(CommandExecutionError):
    """A command killed after timeout seconds without an answer (``command``, ``timeout``)."""

    def __init__(self, argv, timeout):
        self.command, self.timeout = " ".join(argv), timeout
        super().__init__(f"{self.command}: no answer within {timeout} s, killed")


def events_since(previous, read, compare):
    """
    What a beacon reports: ``{"health": read(), "events": compare(previous, health)}`` (none on
    the first look, previous None). A command of read that hangs is one ``timeout`` event, and
    previous is kept for the next look.
    """
    try:
        now = read()
    except CommandTimeout as exc:
        return {
            "health": previous,
            "events": [{"tag": "timeout", "command": exc.command, "timeout": exc.timeout}],
        }
    return {"health": now, "events": [] if previous is None else compare(previous, now)}


def run(cmd_run_all, argv, stdin=None, timeout=None, with_stderr=False, check=True):
    """
    Run argv without a shell; return stdout (and stderr, with_stderr), or raise
    CommandExecutionError with stderr. timeout (seconds) kills a command that hangs, which
    raises CommandTimeout whatever check says (Salt's cmd.run_all, in 3006 and 3008, returns
    retcode 1 and stdout "<command> : Timed out after <timeout> seconds" for it). With
    check=False, return the whole result (retcode, stdout, stderr) whatever the exit code:
    for tools whose answer is the exit code.
    """
    if not isinstance(argv, list):
        raise TypeError(f"argv must be a list, not {type(argv).__name__}: no shell splits it")
    result = cmd_run_all(
        argv,
        python_shell=False,
        stdin=stdin,
        timeout=timeout,
        ignore_retcode=True,
        output_loglevel="trace",
    )
    timed_out = f" : Timed out after {timeout} seconds"
    if timeout and result["retcode"] == 1 and str(result["stdout"]).endswith(timed_out):
        raise CommandTimeout(argv, timeout)
    if not check:
        return result
    if result["retcode"] != 0:
        detail = (result["stderr"] or result["stdout"]).strip()
        raise CommandExecutionError(f"{' '.join(argv)} exited {result['retcode']}: {detail}")
    return (result["stdout"], result["stderr"]) if with_stderr else result["stdout"]
