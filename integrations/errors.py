"""What the integrations services raise: IntegrationError, and nothing from the client.

Views ask it what happened (`not_found`, `conflict`, `outcome_unknown`, `field_errors`)
and how to say so (`explain`); the Qonversion exception stays inside as `cause`.
"""

from integrations.explain import explain
from integrations.qonversion import (
    FieldError,
    QonversionAuthError,
    QonversionConflict,
    QonversionError,
    QonversionNotFound,
    QonversionRateLimited,
    QonversionValidationError,
)
from qonadmin.errors import ServiceError


class IntegrationError(ServiceError):
    not_found = False  # Qonversion no longer has the integration
    conflict = False  # the same submission came back with other input
    outcome_unknown = False  # Qonversion may have acted although it did not say so
    field_errors: tuple[FieldError, ...] = ()  # Qonversion's refusals, by field
    key_rejected = False  # 401/403: the project's key is refused
    retry_after: float | None = None  # 429: how long Qonversion asked us to wait

    def explain(self, *, outcome: str, input_kept: bool = False, unknown_next: str = "", write: bool = True) -> str:
        """The message with what did not happen (`outcome`) and what to do."""
        return f"{self}. {outcome}."


class UpstreamError(IntegrationError):
    """Qonversion failed, refused or could not be reached."""

    def __init__(self, cause: QonversionError) -> None:
        super().__init__(cause.message)
        self.cause = cause
        self.not_found = isinstance(cause, QonversionNotFound)
        self.conflict = isinstance(cause, QonversionConflict)
        self.outcome_unknown = cause.outcome_unknown
        self.field_errors = cause.details if isinstance(cause, QonversionValidationError) else ()
        self.key_rejected = isinstance(cause, QonversionAuthError)
        self.retry_after = cause.retry_after if isinstance(cause, QonversionRateLimited) else None

    def explain(self, *, outcome: str, input_kept: bool = False, unknown_next: str = "", write: bool = True) -> str:
        return explain(self.cause, outcome=outcome, input_kept=input_kept, unknown_next=unknown_next, write=write)


class AwaitingConfirmation(IntegrationError):
    """The opposite change of this integration is still waiting for Qonversion to confirm
    it. Refused, so that a late answer to the first cannot undo the second."""
