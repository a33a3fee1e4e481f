"""Failed one-time codes count towards the same lockout as failed passwords.

django-axes counts `user_login_failed` signals per username + client address. A wrong
code at sign-in is a failed sign-in too, so it sends that signal: one counter, one
lockout page, one cool-off, and the audit log records it like a wrong password
(`auth.sign_in_failed`, with `step: one-time code`). A separate cache counter would
give a second limit to configure and explain, and it would reset when a process
restarts (the default cache is per process).
"""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

CODE_STEP = "one-time code"


def is_locked_out(request: HttpRequest, username: str) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": username})


def count_failed_code(request: HttpRequest, username: str) -> None:
    # Only the username: the code itself is never passed on, logged or stored.
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request, step=CODE_STEP)


def locked_out_now(request: HttpRequest) -> bool:
    """Whether axes locked this client out while handling this request."""
    return bool(getattr(request, "axes_locked_out", False))
