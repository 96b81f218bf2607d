"""Reads about engagements that depend on who asks or who should be told."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from kpo.accounts.choices import Role


def team_members(engagement, roles=None):
    """Active members and leads of the teams assigned to the engagement."""
    User = get_user_model()
    team_ids = engagement.teams.values("pk")
    users = User.objects.filter(
        Q(teams__in=team_ids) | Q(led_teams__in=team_ids), is_active=True
    ).distinct()
    if roles is not None:
        users = users.filter(role__in=roles)
    return users


def client_admins(client_id):
    return get_user_model().objects.filter(
        client_id=client_id, role=Role.CLIENT_ADMIN, is_active=True
    )


def provider_admins(provider_id):
    return get_user_model().objects.filter(
        provider_id=provider_id, role=Role.PROVIDER_ADMIN, is_active=True
    )


def client_contacts(engagement):
    """Who on the client side hears about an engagement: its manager, or the admins if none."""
    if engagement.client_manager_id:
        return [engagement.client_manager]
    return list(client_admins(engagement.client_id))


def provider_contacts(engagement):
    """Who on the provider side hears about an engagement: its lead, or the admins if none."""
    if engagement.provider_lead_id:
        return [engagement.provider_lead]
    return list(provider_admins(engagement.provider_id))
