"""THE one answer to "what may this user see, and what may they do?".

Seeing is per engagement: client and provider admins see their whole organisation's
engagements; everyone else sees the engagements granted to them or to one of their analyst
teams (guardian object permissions, kept in sync by the services through `grants`). A
provider never sees a client's drafts. Everything inside an engagement inherits its grants.

Doing is by role, on top of seeing: `ACTION_ROLES` is the design's role table.
Callers turn `NotVisible` into 404 and `ActionNotAllowed` into 403; each refusal says what
was refused (`kpo.audit.denials`), so that the audit trail records it.
"""

from django.db.models import Q

from kpo.accounts.choices import Role
from kpo.audit.denials import refused
from kpo.domain import ActionNotAllowed, NotVisible

VIEW_PERMISSION = "view_engagement"

ACTION_ROLES: dict[str, frozenset[str]] = {
    "view": frozenset(Role.values),
    # create / edit terms, propose, hold, resume, complete, terminate, share with colleagues
    "manage": frozenset({Role.CLIENT_ADMIN, Role.CLIENT_MANAGER}),
    "respond": frozenset({Role.PROVIDER_ADMIN}),  # accept or decline a proposal
    "assign_lead": frozenset({Role.PROVIDER_ADMIN}),
    "assign_teams": frozenset({Role.PROVIDER_ADMIN, Role.ENGAGEMENT_LEAD}),
    "plan": frozenset({Role.CLIENT_ADMIN, Role.CLIENT_MANAGER, Role.ENGAGEMENT_LEAD}),
    "upload_document": frozenset({Role.CLIENT_ADMIN, Role.CLIENT_MANAGER}),
    "submit": frozenset({Role.ENGAGEMENT_LEAD, Role.ANALYST}),
    "qa": frozenset({Role.ENGAGEMENT_LEAD, Role.QA_REVIEWER}),
    "review": frozenset({Role.CLIENT_ADMIN, Role.CLIENT_MANAGER}),
    "read_audit": frozenset(
        {Role.CLIENT_ADMIN, Role.CLIENT_MANAGER, Role.PROVIDER_ADMIN, Role.ENGAGEMENT_LEAD}
    ),
    # everyone on the work may talk about it, but viewers are read-only
    "comment": frozenset(set(Role.values) - {Role.CLIENT_VIEWER}),
}

# Organisation-wide actions that are not about one engagement.
ORGANISATION_ACTIONS: dict[str, frozenset[str]] = {
    "vendor_approvals": frozenset({Role.CLIENT_ADMIN}),
    "manage_teams": frozenset({Role.PROVIDER_ADMIN}),
    "create_engagement": frozenset({Role.CLIENT_ADMIN, Role.CLIENT_MANAGER}),
    "manage_webhooks": frozenset({Role.CLIENT_ADMIN, Role.PROVIDER_ADMIN}),
    # the organisation's whole audit trail, and its CSV export
    "organisation_audit": frozenset({Role.CLIENT_ADMIN, Role.PROVIDER_ADMIN}),
}

# What platform staff may do: look. Reading the audit trail is looking too (and staff answer
# for the platform's security, so they read every organisation's).
STAFF_ACTIONS = frozenset({"view", "organisation_audit"})


def role_may(user, action: str) -> bool:
    """Whether the user's role allows `action` at all (before looking at any object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = ACTION_ROLES.get(action) or ORGANISATION_ACTIONS.get(action)
    if roles is None:
        raise ValueError(f"Unknown action {action!r}")
    if user.is_superuser:
        # Platform staff look at everything but act on nothing of a tenant's.
        return action in STAFF_ACTIONS
    return user.role in roles


def visible_engagements(user):
    """Engagements `user` may see, as a queryset suitable for a `pk__in` subquery."""
    from engagements.choices import EngagementStatus
    from engagements.models import Engagement
    from kpo.access.models import EngagementGroupObjectPermission, EngagementUserObjectPermission

    engagements = Engagement.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return engagements.none()
    if user.is_superuser:
        return engagements
    if user.client_id:
        engagements = engagements.filter(client_id=user.client_id)
    elif user.provider_id:
        engagements = engagements.filter(provider_id=user.provider_id).exclude(
            status=EngagementStatus.DRAFT
        )
    else:
        return engagements.none()
    if user.role in (Role.CLIENT_ADMIN, Role.PROVIDER_ADMIN):
        return engagements

    user_grants = EngagementUserObjectPermission.objects.filter(
        user_id=user.pk, permission__codename=VIEW_PERMISSION
    ).values("content_object_id")
    team_grants = EngagementGroupObjectPermission.objects.filter(
        group__user=user.pk, permission__codename=VIEW_PERMISSION
    ).values("content_object_id")
    return engagements.filter(Q(pk__in=user_grants) | Q(pk__in=team_grants))


def restrict_queryset(queryset, user, action: str = "view"):
    """Narrow any engagement-scoped queryset to what `user` may see and do with `action`."""
    if not role_may(user, action):
        return queryset.none()
    visible = visible_engagements(user)
    path = queryset.model.engagement_path
    if user.is_superuser:
        return queryset
    lookup = "pk__in" if not path else f"{path}__in"
    return queryset.filter(**{lookup: visible.values("pk")})


def engagement_of(obj):
    """The engagement an engagement-scoped object belongs to."""
    path = type(obj).engagement_path
    for attr in path.split("__") if path else ():
        obj = getattr(obj, attr)
    return obj


def can_see(user, obj) -> bool:
    engagement = engagement_of(obj)
    return visible_engagements(user).filter(pk=engagement.pk).exists()


def can(user, action: str, obj) -> bool:
    return role_may(user, action) and can_see(user, obj)


def require(user, action: str, obj) -> None:
    """Raise `NotVisible` (→ 404) or `ActionNotAllowed` (→ 403) unless `user` may do `action`."""
    if not can_see(user, obj):
        raise refused(NotVisible("Not found."), action=action, obj=obj)
    if not role_may(user, action):
        raise refused(
            ActionNotAllowed("You do not have permission to perform this action."),
            action=action,
            obj=obj,
        )


def require_organisation_action(user, action: str) -> None:
    if not role_may(user, action):
        raise refused(
            ActionNotAllowed("You do not have permission to perform this action."),
            action=action,
        )
