"""Where to go after signing in or setting up two-factor sign-in."""

from urllib.parse import urlencode

from qonadmin.http import request_next as next_url

__all__ = ["next_url", "with_next"]


def with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}" if target else url
