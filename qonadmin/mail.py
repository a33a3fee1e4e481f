"""Email goes out from a task, never from a request.

The message (subject, body, recipients) is sealed with the key ring before it is
enqueued: task arguments are stored in the database, and emails carry invitation links,
one-time codes and password-reset links that must not sit there in clear. A message that
cannot be sent is tried again later (up to MAX_ATTEMPTS, with backoff), then given up
with an error in the log.
"""

import json
import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from teams import crypto

logger = logging.getLogger(__name__)

ASSOCIATED_DATA = "qonadmin:email"
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))


@sensitive_variables("body")
def send_email_later(*, subject: str, body: str, to: Sequence[str]) -> None:
    """Enqueue one email (one line of subject: headers cannot hold line breaks)."""
    message = {"subject": " ".join(subject.split()), "body": body, "to": list(to)}
    send_sealed_email.enqueue(crypto.encrypt(json.dumps(message), associated_data=ASSOCIATED_DATA))


@task
def send_sealed_email(sealed: str, attempt: int = 1) -> str:
    message = json.loads(crypto.decrypt(sealed, associated_data=ASSOCIATED_DATA))
    try:
        send_mail(message["subject"], message["body"], settings.DEFAULT_FROM_EMAIL, message["to"])
    except OSError as error:  # smtplib's errors and connection failures
        backend = send_sealed_email.get_backend()
        if attempt >= MAX_ATTEMPTS or not backend.supports_defer:
            logger.error("email %r could not be sent, giving up: %s", message["subject"], error)
            raise
        wait = BACKOFF[min(attempt, len(BACKOFF)) - 1]
        logger.warning("email %r could not be sent (%s); trying again in %s", message["subject"], error, wait)
        send_sealed_email.using(run_after=timezone.now() + wait).enqueue(sealed, attempt + 1)
        return f"attempt {attempt} failed, retrying"
    return "sent"
