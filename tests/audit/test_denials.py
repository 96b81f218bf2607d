"""Every authorisation denial leaves an audit event: who, what they tried, on which object,
how (method and path), when and from where. A 403 is always a denial; a 404 is one when the
object exists but the user may not see it, and an id that names nothing leaves no event,
although its answer is the same."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from deliverables.models import Deliverable
from engagements.choices import EngagementStatus
from engagements.models import Engagement
from kpo.audit.denials import DENIED
from kpo.audit.models import AuditEvent
from kpo.audit.selectors import organisation_trail, restrict_audit_events
from kpo.notifications.models import Notification
from vendors.models import AnalystTeam

from .conftest import ADDRESS, AGENT

MISSING_ID = 987_654_321


def new_denials():
    """The denials recorded since the call: call it, act, then call what it returned."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return lambda: list(AuditEvent.objects.filter(id__gt=last, action=DENIED).order_by("id"))


def type_of(model):
    return ContentType.objects.get_for_model(model)


# -- 403: the user sees the object but may not do the action ---------------------------------


def test_a_forbidden_action_in_the_browser_is_recorded_with_who_what_and_from_where(
    browser, users, engagements
):
    phase_two = engagements.phase_two
    denials = new_denials()

    response = browser("alpha.viewer").post(
        reverse("engagements:transition", args=[phase_two.pk, "hold"]), {"reason": "No"}
    )

    assert response.status_code == 403
    [event] = denials()
    assert event.actor == users.alpha_viewer
    assert event.actor_repr == "alpha.viewer"
    assert event.target_type == type_of(Engagement)
    assert event.target_id == str(phase_two.pk)
    # The viewer sees the engagement, so its name may be recorded.
    assert event.target_repr == str(phase_two)
    assert event.engagement == phase_two
    assert event.client_id == users.alpha_viewer.client_id
    assert event.provider_id is None
    assert event.changes == {
        "attempted": "manage",
        "view": "engagements:transition",
        "method": "POST",
        "path": f"/engagements/{phase_two.pk}/actions/hold/",
        "status": 403,
    }
    assert event.ip == ADDRESS
    assert event.user_agent == AGENT
    assert event.created_at is not None


def test_a_refusal_inside_a_service_transaction_is_still_recorded(api, users, engagements):
    """The service checks access inside its transaction, which the refusal rolls back; the
    denial is written after it."""
    phase_two = engagements.phase_two
    denials = new_denials()

    response = api("alpha.viewer").post(f"/api/v1/engagements/{phase_two.pk}/hold/", {})

    assert response.status_code == 403
    assert Engagement.objects.get(pk=phase_two.pk).status == EngagementStatus.ACTIVE
    [event] = denials()
    assert event.actor == users.alpha_viewer
    assert event.target_id == str(phase_two.pk)
    assert event.engagement == phase_two
    assert event.changes["attempted"] == "manage"
    assert event.changes["view"] == "api:engagement-hold"
    assert event.changes["method"] == "POST"
    assert event.changes["status"] == 403
    assert event.ip == ADDRESS


def test_a_page_closed_to_the_role_is_recorded_with_the_page_it_was(browser, users):
    denials = new_denials()

    response = browser("alpha.viewer").get(reverse("engagements:create"))

    assert response.status_code == 403
    [event] = denials()
    assert event.actor == users.alpha_viewer
    assert event.changes["attempted"] == "engagements:create"
    assert event.changes["method"] == "GET"
    assert event.target_type is None
    assert event.engagement is None


def test_an_api_endpoint_closed_to_the_role_is_recorded(api, users):
    denials = new_denials()

    response = api("bio.analyst").post(
        "/api/v1/engagements/", {"title": "Self-assigned work"}, format="json"
    )

    assert response.status_code == 403
    [event] = denials()
    assert event.actor == users.bio_analyst
    assert event.changes["view"] == "api:engagement-list"
    assert event.changes["status"] == 403
    assert event.provider_id == users.bio_analyst.provider_id


def test_an_organisation_action_refused_by_the_access_module_names_the_action(api, users):
    denials = new_denials()

    response = api("alpha.manager").get("/api/v1/audit/")

    assert response.status_code == 403
    [event] = denials()
    assert event.changes["attempted"] == "organisation_audit"
    assert event.changes["view"] == "api:audit-event-list"


# -- 404: the object exists, but the user may not see it -------------------------------------


def test_another_tenants_engagement_page_is_a_recorded_denial_but_a_missing_one_is_not(
    browser, users, engagements
):
    phase_two = engagements.phase_two
    client = browser("northwind.manager")
    denials = new_denials()

    foreign = client.get(reverse("engagements:detail", args=[phase_two.pk]))
    missing = client.get(reverse("engagements:detail", args=[MISSING_ID]))

    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    [event] = denials()
    assert event.actor == users.northwind_manager
    assert event.target_type == type_of(Engagement)
    assert event.target_id == str(phase_two.pk)
    # The stranger may not know the engagement's name; only the id they asked for is kept.
    assert event.target_repr == ""
    assert event.engagement == phase_two
    assert event.client_id == users.northwind_manager.client_id
    assert event.changes["status"] == 404
    assert event.changes["path"] == f"/engagements/{phase_two.pk}/"


def test_another_tenants_deliverable_in_the_api_is_a_recorded_denial_but_a_missing_one_is_not(
    api, users, deliverable
):
    memo = deliverable("Safety signal memo")
    client = api("ledger.analyst")
    denials = new_denials()

    foreign = client.get(f"/api/v1/deliverables/{memo.pk}/")
    missing = client.get(f"/api/v1/deliverables/{MISSING_ID}/")
    malformed = client.get("/api/v1/deliverables/not-an-id/")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert malformed.status_code == 404
    [event] = denials()
    assert event.actor == users.ledger_analyst
    assert event.target_type == type_of(Deliverable)
    assert event.target_id == str(memo.pk)
    assert event.target_repr == ""
    assert event.engagement_id == memo.engagement_id
    assert event.provider_id == users.ledger_analyst.provider_id
    assert event.client_id is None
    assert event.changes["view"] == "api:deliverable-detail"
    assert event.changes["status"] == 404


def test_an_action_on_a_hidden_object_through_the_api_is_a_recorded_denial(api, engagements):
    denials = new_denials()

    response = api("bio.writer").post(
        f"/api/v1/engagements/{engagements.phase_two.pk}/hold/", {}, format="json"
    )

    assert response.status_code == 404
    [event] = denials()
    assert event.changes["view"] == "api:engagement-hold"
    assert event.changes["method"] == "POST"
    assert event.engagement == engagements.phase_two


def test_an_action_on_a_hidden_object_in_the_browser_is_a_recorded_denial(browser, deliverable):
    memo = deliverable("Safety signal memo")
    denials = new_denials()

    response = browser("ledger.analyst").post(reverse("deliverables:start", args=[memo.pk]))

    assert response.status_code == 404
    [event] = denials()
    assert event.target_type == type_of(Deliverable)
    assert event.target_id == str(memo.pk)
    assert event.engagement_id == memo.engagement_id


def test_a_colleagues_notification_is_a_recorded_denial(browser, world, users):
    theirs = world.notification_for("alpha.manager")
    denials = new_denials()

    response = browser("alpha.viewer").post(reverse("notifications:read", args=[theirs.pk]))

    assert response.status_code == 404
    [event] = denials()
    assert event.actor == users.alpha_viewer
    assert event.target_type == type_of(Notification)
    assert event.target_id == str(theirs.pk)
    assert event.engagement is None


def test_a_404_that_is_not_about_access_is_not_a_denial(browser, engagements):
    denials = new_denials()

    response = browser("alpha.manager").post(
        reverse("engagements:transition", args=[engagements.phase_two.pk, "archive"])
    )

    assert response.status_code == 404
    assert denials() == []


def test_allowed_requests_record_no_denial(browser, api, engagements):
    denials = new_denials()

    page = browser("alpha.viewer").get(f"/engagements/{engagements.phase_two.pk}/")
    assert page.status_code == 200
    assert api("bio.analyst").get("/api/v1/deliverables/").status_code == 200

    assert denials() == []


def test_a_caller_without_credentials_is_not_an_authorisation_denial(engagements):
    from rest_framework.test import APIClient

    denials = new_denials()

    response = APIClient().get(f"/api/v1/engagements/{engagements.phase_two.pk}/")

    assert response.status_code == 401
    assert denials() == []


# -- whose trail a denial is in ----------------------------------------------------------------


def test_a_denial_is_in_the_actors_trail_and_in_the_trail_of_the_engagement_it_aimed_at(
    browser, api, users, engagements, deliverable
):
    phase_two = engagements.phase_two
    denials = new_denials()
    browser("northwind.manager").get(reverse("engagements:detail", args=[phase_two.pk]))
    api("ledger.analyst").get(f"/api/v1/deliverables/{deliverable('Safety signal memo').pk}/")
    by_northwind, by_ledger = denials()

    # The engagement's own trail, as its client manager reads it.
    engagement_trail = restrict_audit_events(AuditEvent.objects.all(), users.alpha_manager)
    assert {by_northwind, by_ledger} <= set(engagement_trail.filter(engagement=phase_two))
    # The organisations on the engagement: its client and its provider.
    assert {by_northwind, by_ledger} <= set(organisation_trail(users.alpha_admin))
    assert {by_northwind, by_ledger} <= set(organisation_trail(users.bio_admin))
    # The actor's own organisation; the other organisation of that pair is not told.
    assert by_ledger in organisation_trail(users.ledger_admin)
    assert by_northwind.client_id == users.northwind_manager.client_id
    assert by_northwind not in organisation_trail(users.ledger_admin)


def test_a_denial_about_another_organisations_team_is_in_the_actors_trail_only(api, users):
    ledger_team = AnalystTeam.objects.get(name="EU Banks")
    denials = new_denials()

    response = api("bio.admin").patch(
        f"/api/v1/teams/{ledger_team.pk}/", {"name": "Poached"}, format="json"
    )

    assert response.status_code == 404
    [event] = denials()
    assert event.target_type == type_of(AnalystTeam)
    assert event.engagement is None
    assert event in organisation_trail(users.bio_admin)
    assert event not in organisation_trail(users.ledger_admin)


@pytest.mark.parametrize("status", [403, 404])
def test_denials_are_kept_for_every_status_the_access_module_answers(status, browser, engagements):
    username = "alpha.viewer" if status == 403 else "bio.writer"
    denials = new_denials()

    response = browser(username).post(
        reverse("engagements:transition", args=[engagements.phase_two.pk, "hold"])
    )

    assert response.status_code == status
    assert [event.changes["status"] for event in denials()] == [status]
