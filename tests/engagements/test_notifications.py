"""Who hears about an engagement's changes: the other side, never the actor."""

import pytest

from engagements import services
from engagements.choices import EngagementStatus
from kpo.notifications.choices import NotificationKind
from kpo.notifications.models import Notification

S = EngagementStatus


def last_id():
    return Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0


def told(engagement, kind=None, *, since=0):
    """Usernames told about `engagement` after the notification id `since`."""
    rows = Notification.objects.filter(engagement=engagement, id__gt=since)
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("user__username", flat=True))


def test_proposing_tells_the_providers_admins_and_not_the_proposer(users, new_engagement):
    engagement = new_engagement()

    services.engagement_propose(actor=users.alpha_manager, engagement=engagement)

    assert told(engagement) == ["bio.admin"]
    note = Notification.objects.get(engagement=engagement)
    assert note.kind == NotificationKind.ENGAGEMENT_PROPOSED
    assert engagement.reference in note.title
    assert note.url == f"/engagements/{engagement.pk}/"


def test_accepting_tells_the_client_manager(users, new_engagement):
    engagement = new_engagement(S.PROPOSED)

    services.engagement_accept(actor=users.bio_admin, engagement=engagement)

    assert told(engagement, NotificationKind.ENGAGEMENT_STATUS_CHANGED) == ["alpha.manager"]


def test_declining_tells_the_client_manager(users, new_engagement):
    engagement = new_engagement(S.PROPOSED)

    services.engagement_decline(actor=users.bio_admin, engagement=engagement)

    assert told(engagement, NotificationKind.ENGAGEMENT_STATUS_CHANGED) == ["alpha.manager"]


@pytest.mark.parametrize("verb", ["hold", "terminate"])
def test_the_providers_lead_hears_of_holds_and_terminations(users, engagements, verb):
    engagement = engagements.phase_two
    since = last_id()

    getattr(services, f"engagement_{verb}")(actor=users.alpha_manager, engagement=engagement)

    assert told(engagement, NotificationKind.ENGAGEMENT_STATUS_CHANGED, since=since) == ["bio.lead"]


def test_without_a_lead_the_providers_admins_hear_of_status_changes(users, new_engagement):
    engagement = new_engagement(S.ACTIVE)
    since = last_id()

    services.engagement_hold(actor=users.alpha_manager, engagement=engagement)

    assert told(engagement, NotificationKind.ENGAGEMENT_STATUS_CHANGED, since=since) == [
        "bio.admin"
    ]
