"""API.md, `engagements/`: create, filters, the two sides' PATCH rights, every lifecycle
action (and a 409 for each one taken in the wrong state), the vendor-approval gate, and the
engagement's audit trail."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deliverables.choices import DeliverableStatus
from engagements import services as engagement_services
from engagements.models import Engagement
from kpo.audit.models import AuditEvent
from vendors import services as vendor_services

URL = "/api/v1/engagements/"


def detail_url(engagement):
    return f"{URL}{engagement.pk}/"


def action_url(engagement, action):
    return f"{URL}{engagement.pk}/{action}/"


def new_terms(world, **overrides):
    terms = {
        "title": "Biomarker discovery",
        "brief": "Which biomarkers predict response?",
        "provider": world.provider("bio-analytics").pk,
        "service_line": "clinical_data_analysis",
        "start_date": str(timezone.localdate()),
        "end_date": str(timezone.localdate() + timedelta(days=90)),
        "budget": "50000.00",
        "currency": "EUR",
        "pricing_model": "fixed_fee",
        "confidentiality": "restricted",
        "qa_required": False,
        "quality_threshold": "4.00",
    }
    return terms | overrides


def active(world, title="Biomarker discovery"):
    """A fresh active engagement of Alpha's with Bio-Analytics, with no deliverables."""
    engagement = world.draft(title)
    engagement_services.engagement_propose(actor=world.user("alpha.manager"), engagement=engagement)
    return engagement_services.engagement_accept(
        actor=world.user("bio.admin"), engagement=engagement
    )


def status_of(engagement):
    return Engagement.objects.get(pk=engagement.pk).status


# -- create --------------------------------------------------------------------------------


def test_a_client_manager_creates_a_draft_for_their_own_client(api, world):
    response = api("alpha.manager").post(URL, new_terms(world), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert body["client"] == world.client("alpha-pharma").pk
    assert body["client_manager"] == world.user("alpha.manager").pk
    assert body["service_line"] == "clinical_data_analysis"
    assert body["budget"] == "50000.00"
    assert body["currency"] == "EUR"
    assert body["confidentiality"] == "restricted"
    assert body["qa_required"] is False
    assert re.fullmatch(r"ENG-\d{4}-\d{4}", body["reference"])
    assert Engagement.objects.get(pk=body["id"]).client.slug == "alpha-pharma"


def test_the_client_is_taken_from_the_caller_never_from_the_body(api, world):
    northwind = world.client("northwind")

    response = api("alpha.manager").post(URL, new_terms(world, client=northwind.pk), format="json")

    assert response.status_code == 201
    assert response.json()["client"] == world.client("alpha-pharma").pk
    assert not Engagement.objects.filter(client=northwind, title="Biomarker discovery").exists()


def test_the_status_cannot_be_chosen_at_creation(api, world):
    response = api("alpha.manager").post(URL, new_terms(world, status="active"), format="json")

    assert response.status_code == 201
    assert response.json()["status"] == "draft"


@pytest.mark.parametrize("username", ["alpha.viewer", "bio.admin", "bio.lead", "bio.analyst"])
def test_only_client_admins_and_managers_create_engagements(api, world, username):
    before = Engagement.objects.count()

    response = api(username).post(URL, new_terms(world), format="json")

    assert response.status_code == 403
    assert Engagement.objects.count() == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"service_line": "equity_research"}, "service_line"),
        ({"service_line": "no_such_line"}, "service_line"),
        ({"provider": 999_999}, "provider"),
        ({"end_date": str(timezone.localdate() - timedelta(days=1))}, "end_date"),
        ({"currency": "euro"}, "currency"),
        ({"budget": "-1.00"}, "budget"),
        ({"quality_threshold": "7"}, "quality_threshold"),
        ({"confidentiality": "top_secret"}, "confidentiality"),
        ({"title": ""}, "title"),
    ],
)
def test_invalid_terms_answer_400_naming_the_field(api, world, overrides, field):
    before = Engagement.objects.count()

    response = api("alpha.manager").post(URL, new_terms(world, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert all(isinstance(message, str) for message in response.json()[field])
    assert Engagement.objects.count() == before


# -- list and filters ------------------------------------------------------------------------


def listed(api, username, query=""):
    response = api(username).get(f"{URL}{query}")
    assert response.status_code == 200
    return {row["title"] for row in response.json()["results"]}


def test_the_list_is_paginated_and_holds_only_visible_engagements(api, engagements):
    response = api("alpha.manager").get(URL)

    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert {row["title"] for row in body["results"]} == {
        engagements.phase_two.title,
        engagements.rwe.title,
    }


def test_the_status_filter(api, engagements):
    assert listed(api, "alpha.manager", "?status=proposed") == {engagements.rwe.title}
    assert listed(api, "alpha.manager", "?status=active") == {engagements.phase_two.title}
    assert listed(api, "alpha.manager", "?status=completed") == set()


def test_the_provider_filter(api, world, engagements):
    assert listed(api, "alpha.admin", f"?provider={world.provider('bio-analytics').pk}") == {
        engagements.phase_two.title,
        engagements.rwe.title,
    }
    assert listed(api, "alpha.admin", f"?provider={world.provider('ledger-research').pk}") == set()


def test_the_client_filter_never_reaches_another_client(api, world, engagements):
    alpha, northwind = world.client("alpha-pharma"), world.client("northwind")

    assert listed(api, "bio.admin", f"?client={alpha.pk}") == {
        engagements.phase_two.title,
        engagements.rwe.title,
    }
    assert listed(api, "alpha.manager", f"?client={northwind.pk}") == set()


def test_the_service_line_filter_takes_the_slug(api, engagements):
    assert listed(api, "alpha.manager", "?service_line=data_analytics") == {engagements.rwe.title}
    assert listed(api, "alpha.manager", "?service_line=clinical_data_analysis") == {
        engagements.phase_two.title
    }


@pytest.mark.parametrize(
    "query",
    [
        "?status=bogus",
        "?provider=abc",
        "?client=abc",
        "?service_line=no_such_line",
        "?service_line=%00",
        "?provider=%00",
    ],
)
def test_an_invalid_filter_value_answers_400(api, query):
    response = api("alpha.manager").get(f"{URL}{query}")

    assert response.status_code == 400
    assert response.json()


# -- retrieve ---------------------------------------------------------------------------------


ENGAGEMENT_FIELDS = {
    "id",
    "reference",
    "title",
    "brief",
    "client",
    "provider",
    "service_line",
    "status",
    "confidentiality",
    "start_date",
    "end_date",
    "budget",
    "currency",
    "pricing_model",
    "client_manager",
    "provider_lead",
    "teams",
    "qa_required",
    "reminder_lead_hours",
    "review_turnaround_hours",
    "quality_threshold",
    "created_at",
    "updated_at",
}


def test_an_engagement_carries_every_documented_field(api, world, engagements):
    phase_two = engagements.phase_two

    body = api("bio.analyst").get(detail_url(phase_two)).json()

    assert set(body) >= ENGAGEMENT_FIELDS
    assert body["status"] == "active"
    assert body["provider_lead"] == world.user("bio.lead").pk
    assert body["teams"] == [world.team("Biostatistics").pk]
    assert body["budget"] == "240000.00"
    assert body["quality_threshold"] == "3.50"
    assert body["created_at"].endswith(("Z", "+00:00"))


def test_an_engagement_of_another_client_answers_404(api, engagements):
    assert api("northwind.manager").get(detail_url(engagements.phase_two)).status_code == 404


def test_a_provider_never_sees_a_clients_draft(api, world):
    draft = world.draft()

    assert api("bio.admin").get(detail_url(draft)).status_code == 404


# -- PATCH: each side writes its own fields ---------------------------------------------------


def test_a_client_manager_edits_the_terms(api, engagements):
    phase_two = engagements.phase_two

    response = api("alpha.manager").patch(
        detail_url(phase_two), {"title": "Phase II analysis", "budget": "250000.00"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Phase II analysis"
    assert response.json()["budget"] == "250000.00"
    phase_two.refresh_from_db()
    assert phase_two.budget == Decimal("250000.00")


@pytest.mark.parametrize(
    "field",
    ["teams", "provider_lead"],
)
def test_a_client_setting_the_providers_staffing_gets_403(api, world, engagements, field):
    phase_two = engagements.phase_two
    value = [world.team("Medical Writing").pk] if field == "teams" else None

    response = api("alpha.manager").patch(detail_url(phase_two), {field: value}, format="json")

    assert response.status_code == 403
    assert field in response.json()["detail"]
    phase_two.refresh_from_db()
    assert list(phase_two.teams.all()) == [world.team("Biostatistics")]
    assert phase_two.provider_lead == world.user("bio.lead")


@pytest.mark.parametrize(
    "username, changes",
    [
        ("bio.admin", {"title": "Renamed by the provider"}),
        ("bio.admin", {"budget": "1.00"}),
        ("bio.lead", {"budget": "1.00"}),
        ("bio.lead", {"title": "Renamed by the provider"}),
    ],
)
def test_a_provider_setting_the_clients_terms_gets_403(api, engagements, username, changes):
    phase_two = engagements.phase_two

    response = api(username).patch(detail_url(phase_two), changes, format="json")

    assert response.status_code == 403
    phase_two.refresh_from_db()
    assert phase_two.title == "Phase II oncology trial analysis"
    assert phase_two.budget == Decimal("240000.00")


@pytest.mark.parametrize("username", ["bio.admin", "bio.lead"])
def test_the_provider_sets_the_teams(api, world, engagements, username):
    phase_two = engagements.phase_two
    teams = [world.team("Biostatistics").pk, world.team("Medical Writing").pk]

    response = api(username).patch(detail_url(phase_two), {"teams": teams}, format="json")

    assert response.status_code == 200
    assert sorted(response.json()["teams"]) == sorted(teams)
    assert sorted(phase_two.teams.values_list("pk", flat=True)) == sorted(teams)


def test_a_provider_admin_names_the_lead(api, world, engagements):
    rwe = engagements.rwe

    response = api("bio.admin").patch(
        detail_url(rwe), {"provider_lead": world.user("bio.lead").pk}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["provider_lead"] == world.user("bio.lead").pk


def test_another_providers_team_is_not_a_valid_choice(api, world, engagements):
    response = api("bio.admin").patch(
        detail_url(engagements.phase_two), {"teams": [world.team("EU Banks").pk]}, format="json"
    )

    assert response.status_code == 400
    assert "teams" in response.json()


def test_the_viewer_edits_nothing(api, engagements):
    response = api("alpha.viewer").patch(
        detail_url(engagements.phase_two), {"title": "Viewer was here"}, format="json"
    )

    assert response.status_code == 403


def test_the_provider_cannot_change_once_the_engagement_left_draft(api, world, engagements):
    response = api("alpha.manager").patch(
        detail_url(engagements.phase_two),
        {"provider": world.provider("ledger-research").pk, "service_line": "equity_research"},
        format="json",
    )

    assert response.status_code == 409
    assert "draft" in response.json()["detail"]
    assert status_of(engagements.phase_two) == "active"


def test_a_closed_engagement_can_no_longer_be_edited(api, world):
    engagement = active(world)
    engagement_services.engagement_complete(
        actor=world.user("alpha.manager"), engagement=engagement
    )

    response = api("alpha.manager").patch(detail_url(engagement), {"title": "Late"}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"]


# -- lifecycle actions -------------------------------------------------------------------------


def post_action(api, username, engagement, action, data=None):
    return api(username).post(action_url(engagement, action), data or {}, format="json")


def test_propose_sends_a_draft_to_the_provider(api, world):
    draft = world.draft()

    response = post_action(api, "alpha.manager", draft, "propose")

    assert response.status_code == 200
    assert response.json()["status"] == "proposed"
    assert api("bio.admin").get(detail_url(draft)).status_code == 200


def test_accept_activates_a_proposal_of_an_approved_provider(api, engagements):
    response = post_action(api, "bio.admin", engagements.rwe, "accept")

    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["id"] == engagements.rwe.pk


def test_decline_returns_a_proposal_to_draft_with_the_reason(api, engagements):
    rwe = engagements.rwe

    response = post_action(api, "bio.admin", rwe, "decline", {"reason": "No capacity"})

    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    event = AuditEvent.objects.filter(engagement=rwe, action="engagement.decline").get()
    assert event.changes["reason"] == "No capacity"


def test_hold_pauses_active_work(api, engagements):
    response = post_action(api, "alpha.manager", engagements.phase_two, "hold", {"reason": "Q3"})

    assert response.status_code == 200
    assert response.json()["status"] == "on_hold"


def test_resume_restarts_held_work(api, world, engagements):
    world.hold(engagements.phase_two)

    response = post_action(api, "alpha.manager", engagements.phase_two, "resume")

    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_complete_closes_an_engagement_with_nothing_open(api, world):
    engagement = active(world)

    response = post_action(api, "alpha.manager", engagement, "complete")

    assert response.status_code == 200
    assert response.json()["status"] == "completed"


def test_terminate_ends_early_and_cancels_what_is_open(api, engagements, deliverable):
    phase_two = engagements.phase_two

    response = post_action(api, "alpha.manager", phase_two, "terminate", {"reason": "Stopped"})

    assert response.status_code == 200
    assert response.json()["status"] == "terminated"
    assert deliverable("Safety signal memo").status == DeliverableStatus.CANCELLED
    assert deliverable("Statistical analysis plan").status == DeliverableStatus.ACCEPTED


ILLEGAL = [
    # (action, who, the demo engagement or a fresh one in this state)
    ("complete", "alpha.manager", "draft"),
    ("hold", "alpha.manager", "draft"),
    ("resume", "alpha.manager", "draft"),
    ("terminate", "alpha.manager", "draft"),
    ("propose", "alpha.manager", "proposed"),
    ("hold", "alpha.manager", "proposed"),
    ("complete", "alpha.manager", "proposed"),
    ("terminate", "alpha.manager", "proposed"),
    ("resume", "alpha.manager", "proposed"),
    ("accept", "bio.admin", "active"),
    ("decline", "bio.admin", "active"),
    ("propose", "alpha.manager", "active"),
    ("resume", "alpha.manager", "active"),
    ("accept", "bio.admin", "on_hold"),
    ("hold", "alpha.manager", "on_hold"),
    ("propose", "alpha.manager", "completed"),
    ("resume", "alpha.manager", "completed"),
    ("terminate", "alpha.manager", "completed"),
    ("complete", "alpha.manager", "terminated"),
    ("hold", "alpha.manager", "terminated"),
]


def in_state(world, state):
    manager = world.user("alpha.manager")
    if state == "draft":
        return world.draft()
    if state == "proposed":
        return world.rwe
    engagement = active(world)
    if state == "on_hold":
        return engagement_services.engagement_hold(actor=manager, engagement=engagement)
    if state == "completed":
        return engagement_services.engagement_complete(actor=manager, engagement=engagement)
    if state == "terminated":
        return engagement_services.engagement_terminate(actor=manager, engagement=engagement)
    assert state == "active"
    return engagement


@pytest.mark.parametrize("action, username, state", ILLEGAL)
def test_an_action_not_allowed_in_the_current_state_answers_409(
    api, world, action, username, state
):
    engagement = in_state(world, state)
    events = AuditEvent.objects.filter(engagement=engagement).count()

    response = post_action(api, username, engagement, action)

    assert response.status_code == 409, response.content
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert status_of(engagement) == state
    assert AuditEvent.objects.filter(engagement=engagement).count() == events


def test_completing_with_open_deliverables_answers_409_saying_so(api, engagements):
    response = post_action(api, "alpha.manager", engagements.phase_two, "complete")

    assert response.status_code == 409
    assert "still open" in response.json()["detail"]
    assert status_of(engagements.phase_two) == "active"


@pytest.mark.parametrize(
    "username, action",
    [
        ("alpha.manager", "accept"),
        ("alpha.manager", "decline"),
        ("bio.lead", "accept"),
        ("alpha.viewer", "hold"),
    ],
)
def test_the_wrong_side_taking_an_action_gets_403(api, world, engagements, username, action):
    engagement = engagements.rwe if action in ("accept", "decline") else engagements.phase_two
    if username == "bio.lead":
        world.staff_rwe()

    response = post_action(api, username, engagement, action)

    assert response.status_code == 403
    assert status_of(engagement) == engagement.status


def test_an_action_on_an_engagement_the_caller_cannot_see_answers_404(api, world, engagements):
    assert post_action(api, "northwind.manager", engagements.phase_two, "hold").status_code == 404
    assert post_action(api, "bio.admin", world.draft(), "propose").status_code == 404


# -- the vendor-approval gate ------------------------------------------------------------------


def proposed_to_ledger(world):
    manager = world.user("alpha.manager")
    engagement = engagement_services.engagement_create(
        actor=manager,
        provider=world.provider("ledger-research"),
        service_line=world.service_line("equity_research"),
        title="Peer coverage",
    )
    return engagement_services.engagement_propose(actor=manager, engagement=engagement)


def test_accepting_a_proposal_from_a_client_that_has_not_approved_the_provider_answers_409(
    api, world
):
    engagement = proposed_to_ledger(world)  # Alpha → Ledger is still `pending`

    response = post_action(api, "ledger.admin", engagement, "accept")

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "Alpha Pharmaceuticals has not approved Ledger Research Partners" in detail
    assert "approved vendor assessment" in detail
    assert status_of(engagement) == "proposed"


def test_the_gate_opens_once_the_client_approves_the_provider(api, world):
    engagement = proposed_to_ledger(world)
    vendor_services.vendor_approval_update(
        actor=world.user("alpha.admin"),
        approval=world.approval("alpha-pharma", "ledger-research"),
        status="approved",
        assessed_on=timezone.localdate(),
        expires_on=timezone.localdate() + timedelta(days=365),
    )

    response = post_action(api, "ledger.admin", engagement, "accept")

    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_an_expired_approval_closes_the_gate(api, world, engagements):
    vendor_services.vendor_approval_update(
        actor=world.user("alpha.admin"),
        approval=world.approval("alpha-pharma", "bio-analytics"),
        expires_on=timezone.localdate() - timedelta(days=1),
    )

    response = post_action(api, "bio.admin", engagements.rwe, "accept")

    assert response.status_code == 409
    assert "expired" in response.json()["detail"]
    assert status_of(engagements.rwe) == "proposed"


# -- audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_is_newest_first_with_cursor_pagination(api, engagements):
    response = api("alpha.manager").get(action_url(engagements.phase_two, "audit"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    ids = [event["id"] for event in body["results"]]
    assert ids and ids == sorted(ids, reverse=True)
    times = [event["created_at"] for event in body["results"]]
    assert times == sorted(times, reverse=True)
    assert body["results"][-1]["action"] == "engagement.create"


def test_the_audit_trail_includes_everything_in_the_engagement(api, engagements):
    body = api("bio.lead").get(action_url(engagements.phase_two, "audit") + "?page_size=200")

    actions = {event["action"] for event in body.json()["results"]}
    assert {"engagement.create", "document.upload", "deliverable.submit", "comment.add"} <= actions


def test_the_audit_trail_pages_with_its_cursor(api, engagements):
    client = api("alpha.manager")
    url = action_url(engagements.phase_two, "audit")
    everything = [e["id"] for e in client.get(url + "?page_size=200").json()["results"]]

    first = client.get(url + "?page_size=5").json()
    second = client.get(first["next"]).json()

    assert [e["id"] for e in first["results"] + second["results"]] == everything[:10]


def test_a_new_action_is_at_the_top_of_the_audit_trail(api, engagements):
    post_action(api, "alpha.manager", engagements.phase_two, "hold")

    newest = api("alpha.manager").get(action_url(engagements.phase_two, "audit")).json()

    assert newest["results"][0]["action"] == "engagement.hold"


@pytest.mark.parametrize("username, status", [("bio.analyst", 403), ("northwind.manager", 404)])
def test_the_audit_trail_is_closed_to_others(api, engagements, username, status):
    response = api(username).get(action_url(engagements.phase_two, "audit"))

    assert response.status_code == status
