"""Changes a superuser makes in Django admin go into the audit log.

qonadmin's own models are read-only there, but users, groups, two-factor devices and
sign-in lockouts can still be added, changed and deleted. Django admin writes a LogEntry
for each; this receiver (connected in AuditConfig.ready()) records it as `admin.add`,
`admin.change` or `admin.delete`. These are site-wide: no team, so no team's log shows them.
"""

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from audit.models import AuditEvent, Outcome
from audit.services import record

ADMIN_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}
TARGET_TYPE_LENGTH = AuditEvent._meta.get_field("target_type").max_length or 30
TARGET_ID_LENGTH = AuditEvent._meta.get_field("target_id").max_length or 256


def audit_admin_change(
    sender: type[LogEntry], instance: LogEntry, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    action = ADMIN_ACTIONS.get(instance.action_flag)
    if not created or raw or action is None:
        return
    content_type = instance.content_type
    record(
        action=action,
        actor=instance.user,
        outcome=Outcome.SUCCESS,
        target_type=f"{content_type.app_label}.{content_type.model}"[:TARGET_TYPE_LENGTH] if content_type else "",
        # Django fills object_id with the object's pk itself (not yet text) when it logs.
        target_id=str(instance.object_id if instance.object_id is not None else "")[:TARGET_ID_LENGTH],
        target_repr=instance.object_repr,
        detail={"change": str(instance.get_change_message())},
    )
