"""A last line of defence: mask anything that looks like a Qonversion secret key in
log records, whoever logged it (our code, Django, a library's debug output)."""

import logging
import re

# What a key may contain (forms refuse anything else), and how to spot one in text.
KEY_CHARACTERS = re.compile(r"(?:test_)?sk_[A-Za-z0-9_.-]+")
SECRET_KEY_PATTERN = re.compile(r"\b((?:test_)?sk_)[A-Za-z0-9_.-]{4,}")


def redact(text: str) -> str:
    return SECRET_KEY_PATTERN.sub(lambda m: f"{m.group(1)}[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print exc_text when it is set; exc_info stays for handlers that
            # build their own report from it (AdminEmailHandler hides sensitive variables).
            record.exc_text = redact(record.exc_text or logging.Formatter().formatException(record.exc_info))
        return True
