"""Plain-language explanations of upstream failures, for the person at the screen."""

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
from qonadmin.redaction import redact


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


def explain(
    error: QonversionError, *, outcome: str, input_kept: bool = False, unknown_next: str = "", write: bool = True
) -> str:
    """Reason, what happened, and what to do.

    `outcome` says what did not happen (e.g. "Nothing was created"). For a write (create,
    pause, delete) it is only said when that is certain: Qonversion refused the request,
    or it was never sent. When Qonversion may have acted on it (a lost answer, a 5xx, an
    answer we could not read), the message says so instead, with `unknown_next`: how the
    user finds out or finishes safely. A read (`write=False`) changes nothing either way."""
    kept = "; your input is kept" if input_kept else ""
    what = reason(error)
    if write and error.outcome_unknown:
        then = f" — {unknown_next}" if unknown_next else ""
        return f"{what}. It may or may not have gone through{kept}{then}."
    if isinstance(error, QonversionAuthError):
        return f"{what}. {outcome}. Ask a team admin to replace the key."
    if isinstance(error, QonversionRateLimited):
        return f"{what}. {outcome}{kept} — wait a minute and try again."
    if isinstance(error, QonversionNotFound):
        return f"{what}. {outcome}; refresh the list."
    if isinstance(error, QonversionUnreachable | QonversionServerError | QonversionProtocolError):
        return f"{what}. {outcome}{kept} — try again."
    return f"{what}. {outcome}{kept}."
