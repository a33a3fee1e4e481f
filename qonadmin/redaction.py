"""Mask anything that looks like a Qonversion secret key: in log records, whoever
logged it (our code, Django, a library's debug output), and in every text from
upstream or from a form before it is stored or shown (audit details, the mirror,
messages). One rule, one function: `redact`."""

import logging
import re
from typing import Any

# What a key may contain (forms refuse anything else), and how to spot one in text.
KEY_CHARACTERS = re.compile(r"(?:test_)?sk_[A-Za-z0-9_.-]+")
SECRET_KEY_PATTERN = re.compile(r"\b((?:test_)?sk_)[A-Za-z0-9_.-]{4,}")


def redact(text: str) -> str:
    return SECRET_KEY_PATTERN.sub(lambda m: f"{m.group(1)}[redacted]", text)


def redact_value(value: Any) -> Any:
    """`value` with `redact` applied to every string in it (dict keys and values, lists)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(key): redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value


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
