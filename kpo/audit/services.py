from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from kpo.access import policy
from kpo.domain import BusinessRuleViolation

from .context import current_origin
from .filtersets import AuditEventFilterSet
from .models import AuditEvent
from .selectors import organisation_trail


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


def audit_record_many(entries: list[dict]) -> None:
    """Write many audit events in one query (for set-based jobs); same fields as
    `audit_record`."""
    if not entries:
        return
    origin = current_origin()
    rows = []
    for entry in entries:
        target, engagement, actor = entry.get("target"), entry.get("engagement"), entry.get("actor")
        actor = actor if getattr(actor, "is_authenticated", False) else None
        rows.append(
            AuditEvent(
                actor=actor,
                actor_repr=actor.get_username() if actor else "",
                action=entry["action"],
                target_type=ContentType.objects.get_for_model(target)
                if target is not None
                else None,
                target_id=str(target.pk) if target is not None else "",
                target_repr=str(target)[:255] if target is not None else "",
                engagement=engagement,
                client_id=engagement.client_id if engagement else entry.get("client_id"),
                provider_id=engagement.provider_id if engagement else entry.get("provider_id"),
                changes=_json_safe(entry.get("changes") or {}),
                ip=origin.ip,
                user_agent=origin.user_agent,
            )
        )
    AuditEvent.objects.bulk_create(rows)


def organisation_trail_export(*, actor, params) -> QuerySet[AuditEvent]:
    """The events of the actor's organisation trail that `params` select (the filters of
    `AuditEventFilterSet`), newest first, for a CSV export. The export is itself recorded,
    with its filters: who took a copy of which part of the trail is part of the trail."""
    policy.require_organisation_action(actor, "organisation_audit")
    filterset = AuditEventFilterSet(params, queryset=organisation_trail(actor))
    if not filterset.is_valid():
        field, errors = next(iter(filterset.errors.items()))
        raise BusinessRuleViolation(errors[0], field=field)
    filters = {key: value for key, value in filterset.form.cleaned_data.items() if value}
    audit_record(
        actor=actor,
        action="audit.exported",
        client=actor.client,
        provider=actor.provider,
        changes={"format": "csv", "filters": filters},
    )
    return filterset.qs.select_related("target_type").order_by("-id")
