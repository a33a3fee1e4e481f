"""django-axes' throttling backend, limited to sign-ins that come with a request."""

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class SignInThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]  # its base class is untyped
    """Refuses a locked-out username + address before the password is checked.

    Axes raises an error when `authenticate()` is called without a request. Every sign-in
    over HTTP passes one (Django's AuthenticationForm and the admin login do), so a call
    without one is a management command or the test client's `login()`: nothing remote
    to throttle, and the next backend checks the password as usual.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if request is None:
            return None
        super().authenticate(request, username=username, password=password, **kwargs)
        return None  # axes never signs anyone in; it only refuses (by raising PermissionDenied)
