"""A last line of defence: mask anything that looks like a Qonversion secret key in
log records, whoever logged it (our code, Django, a library's debug output)."""

import logging
import re

SECRET_KEY_PATTERN = re.compile(r"\b((?:test_)?sk_)[A-Za-z0-9_]{4,}")


def redact(text: str) -> str:
    return SECRET_KEY_PATTERN.sub(lambda m: f"{m.group(1)}[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later from exc_info; pre-format and redact them now.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
