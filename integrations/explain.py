"""Plain-language explanations of upstream failures, for the person at the screen."""

from integrations.log_redaction import redact
from integrations.qonversion import (
    QonversionAuthError,
    QonversionConflict,
    QonversionError,
    QonversionNotFound,
    QonversionProtocolError,
    QonversionRateLimited,
    QonversionServerError,
    QonversionUnreachable,
    QonversionValidationError,
)


def reason(error: QonversionError) -> str:
    """What went wrong, in one short phrase without a full stop (upstream text redacted)."""
    return redact(_reason(error))


def _reason(error: QonversionError) -> str:
    if isinstance(error, QonversionUnreachable):
        return (
            error.message
            if error.timed_out or error.maybe_delivered
            else "Could not reach Qonversion (connection failed)"
        )
    if isinstance(error, QonversionAuthError):
        return f"Qonversion rejected this project's key ({error.status})"
    if isinstance(error, QonversionRateLimited):
        return "Qonversion is rate limiting requests (429)"
    if isinstance(error, QonversionServerError):
        return f"Qonversion had an internal error ({error.status})"
    if isinstance(error, QonversionNotFound):
        return "Qonversion no longer has this integration (404)"
    if isinstance(error, QonversionValidationError | QonversionConflict):
        return f"Qonversion refused the request: {error.message}"
    if isinstance(error, QonversionProtocolError):
        return f"Qonversion answered in an unexpected way ({error.message})"
    return error.message


def explain(error: QonversionError, *, outcome: str, input_kept: bool = False) -> str:
    """Reason, what did not happen (`outcome`, e.g. "Nothing was created") and what to do."""
    kept = "; your input is kept" if input_kept else ""
    what = reason(error)
    if isinstance(error, QonversionUnreachable) and error.maybe_delivered:
        # The result is unknown; retrying is safe (idempotency key, or an idempotent call).
        return f"{what}. It may or may not have gone through{kept} — try again; a retry will not make a duplicate."
    if isinstance(error, QonversionAuthError):
        return f"{what}. {outcome}. Ask a team admin to replace the key."
    if isinstance(error, QonversionRateLimited):
        return f"{what}. {outcome}{kept} — wait a minute and try again."
    if isinstance(error, QonversionNotFound):
        return f"{what}. {outcome}; refresh the list."
    if isinstance(error, QonversionUnreachable | QonversionServerError | QonversionProtocolError):
        return f"{what}. {outcome}{kept} — try again."
    return f"{what}. {outcome}{kept}."
