"""Sending one alert: by email, or by an HTTP POST to a Slack or webhook URL.

Every POST has connect and read timeouts, follows no redirect, and any failure is
raised as DeliveryFailed with a message fit for the Alerts page: it says what went
wrong, never the URL (its path is a credential) or the secret.
"""

import hashlib
import hmac

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.views.decorators.debug import sensitive_variables

from qonadmin.redaction import redact

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-Qonadmin-Signature"
USER_AGENT = "qonadmin-alerts"
MAX_ERROR_BODY = 200


class DeliveryFailed(Exception):
    """The alert did not get through; str(error) is safe to store and show."""


@sensitive_variables("secret")
def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the body under the channel's secret>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _without(text: str, url: str) -> str:
    return redact(text.replace(url, "[url]")) if url else redact(text)


@sensitive_variables("url", "headers")
def post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST `body` (JSON) to `url`; any answer but 2xx is a failure."""
    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
    # requests' own messages carry the URL: each failure is described here instead.
    except requests.exceptions.ConnectTimeout:
        raise DeliveryFailed(f"No connection within {CONNECT_TIMEOUT_SECONDS:g} s.") from None
    except requests.exceptions.ReadTimeout:
        raise DeliveryFailed(f"No answer within {READ_TIMEOUT_SECONDS:g} s.") from None
    except requests.exceptions.SSLError:
        raise DeliveryFailed("The TLS connection failed (certificate or protocol).") from None
    except requests.exceptions.ConnectionError:
        raise DeliveryFailed("Could not connect (refused, unreachable, or the name does not resolve).") from None
    except requests.exceptions.RequestException as error:
        raise DeliveryFailed(f"The request failed ({type(error).__name__}).") from None
    with response:
        if 200 <= response.status_code < 300:
            return
        if 300 <= response.status_code < 400:
            raise DeliveryFailed(f"The endpoint answered {response.status_code} (a redirect, which is not followed).")
        snippet = " ".join(response.text[:MAX_ERROR_BODY].split())
        answer = f"The endpoint answered {response.status_code} {response.reason or ''}".rstrip()
        raise DeliveryFailed(_without(f"{answer}: {snippet}" if snippet else f"{answer}.", url))


def email(recipients: list[str], subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as error:
        # SMTP refusals, timeouts, bad headers: all worth a retry and a line on the page.
        raise DeliveryFailed(redact(f"Email not sent: {type(error).__name__}: {error}")[:500]) from None
