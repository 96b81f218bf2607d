from django.db.models import Q

from kpo.access import policy

from .denials import DENIED


def restrict_audit_events(queryset, user, action: str = "read_audit"):
    """Audit events a user may read: those of engagements they may audit, plus (for admins)
    their organisation's own events that belong to no engagement."""
    if not policy.role_may(user, action):
        return queryset.none()
    scope = Q(engagement__in=policy.restrict_queryset(_engagements(), user, action).values("pk"))
    if user.role == "client_admin":
        scope |= Q(engagement__isnull=True, client_id=user.client_id)
    elif user.role == "provider_admin":
        scope |= Q(engagement__isnull=True, provider_id=user.provider_id)
    return queryset.filter(scope)


def organisation_trail(user):
    """The whole audit trail of the user's organisation, for its admins (staff: everyone's).

    - every event of the engagements the organisation sees (a provider never sees a client's
      draft, so not the events of one either), whoever caused them;
    - the organisation's own events outside any engagement: sign-ins of its people, its
      teams, certifications, webhooks, and for a client its vendor approvals. A client's
      verdict on a provider names the provider but is the client's due diligence: it is
      not in the provider's trail;
    - every access denial met by its people, wherever they tried (`denials`).
    """
    from .models import AuditEvent

    events = AuditEvent.objects.all()
    if not policy.role_may(user, "organisation_audit"):
        return events.none()
    if user.is_superuser:
        return events
    engagements = Q(engagement__in=policy.visible_engagements(user).values("pk"))
    if user.client_id:
        ours = Q(client_id=user.client_id)
        outside_engagements = Q(engagement__isnull=True) & ours
    else:
        ours = Q(provider_id=user.provider_id)
        outside_engagements = Q(engagement__isnull=True, client__isnull=True) & ours
    return events.filter(engagements | outside_engagements | (Q(action=DENIED) & ours))


def _engagements():
    from engagements.models import Engagement

    return Engagement.objects.all()
