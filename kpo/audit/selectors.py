from django.db.models import Q

from kpo.access import policy


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


def _engagements():
    from engagements.models import Engagement

    return Engagement.objects.all()
