from django.contrib.contenttypes.models import ContentType

from .context import current_origin
from .models import AuditEvent


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def audit_record(
    *,
    actor,
    action: str,
    target=None,
    engagement=None,
    client=None,
    provider=None,
    changes: dict | None = None,
) -> AuditEvent:
    """Write one audit event. Services call this inside their own transaction so the event
    commits with the change it describes. Scope defaults from the engagement."""
    if engagement is not None:
        client = client or engagement.client
        provider = provider or engagement.provider
    origin = current_origin()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_repr=actor.get_username() if actor else "",
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        engagement=engagement,
        client=client,
        provider=provider,
        changes=_json_safe(changes or {}),
        ip=origin.ip,
        user_agent=origin.user_agent,
    )


def diff(instance, fields, values: dict) -> dict:
    """{field: [old, new]} for the fields whose value in `values` differs from `instance`."""
    return {
        field: [getattr(instance, field), values[field]]
        for field in fields
        if field in values and getattr(instance, field) != values[field]
    }
