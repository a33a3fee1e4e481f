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

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from qonadmin.retries import MAX_ATTEMPTS, RETRY_DELAYS, enqueue_later
from teams import crypto

logger = logging.getLogger(__name__)

ASSOCIATED_DATA = "qonadmin:email"


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
        wait = RETRY_DELAYS[attempt - 1] if attempt < MAX_ATTEMPTS else None
        if wait is None or not enqueue_later(send_sealed_email, timezone.now() + wait, sealed, attempt + 1):
            logger.error("email %r could not be sent, giving up: %s", message["subject"], error)
            raise
        logger.warning("email %r could not be sent (%s); trying again in %s", message["subject"], error, wait)
        return f"attempt {attempt} failed, retrying"
    return "sent"
