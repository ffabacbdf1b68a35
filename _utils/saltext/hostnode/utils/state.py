"""
The recipe every hostnode state follows, in one place.

The execution module computes the changes once and applies them unless test is set, so test
mode is never a separate code path; this turns what it returns, or the error it raises, into a
state return.
"""

from salt.exceptions import CommandExecutionError, SaltInvocationError


def run(name, converge, test, subject, notes=None):
    """
    A state return for ``converge(test)``, which returns the changes (``{}`` for none).
    notes, when given, returns lines the user should read whatever changed (what the running
    kernel cannot take yet); they are appended to the comment.

    An error becomes ``result: False`` with its message, and with the changes that were made
    before it (the ``info`` of a CommandExecutionError) so a half-applied run is reported; the
    comment is the message alone (Salt's text of the error would repeat those changes).
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        changes = converge(test)
    except (CommandExecutionError, SaltInvocationError) as exc:
        comment = getattr(exc, "error", None) or str(exc)
        ret.update(result=False, comment=comment, changes=getattr(exc, "info", None) or {})
        return ret
    ret["changes"] = changes
    if not changes:
        ret["comment"] = f"{subject}: already as wanted"
    elif test:
        ret.update(result=None, comment=f"{subject}: would change")
    else:
        ret["comment"] = f"{subject}: changed"
    if notes:
        ret["comment"] = "; ".join([ret["comment"], *notes()])
    return ret
