"""API.md, the remaining resources: service lines, clients, providers and their scorecards,
vendor approvals, teams, webhooks, notifications, the knowledge library, and the page-size
cap every list shares."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from deliverables import services as deliverable_services
from kpo.notifications.choices import NotificationKind
from kpo.notifications.models import Notification, Webhook
from kpo.notifications.services import Event, publish
from vendors.models import AnalystTeam, VendorApproval


def rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# -- service lines, clients, providers --------------------------------------------------------


def test_service_lines_are_the_fixed_catalogue(api):
    lines = rows(api("bio.analyst").get("/api/v1/service-lines/"))

    assert {line["slug"] for line in lines} == {
        "financial_research",
        "equity_research",
        "credit_analysis",
        "legal_research",
        "ip_research",
        "clinical_data_analysis",
        "medical_writing",
        "market_intelligence",
        "data_analytics",
        "engineering_design",
    }
    assert all(line["name"] for line in lines)


@pytest.mark.parametrize(
    "username, expected",
    [
        ("alpha.manager", {"alpha-pharma"}),
        ("northwind.manager", {"northwind"}),
        ("bio.admin", {"alpha-pharma"}),
        ("ledger.analyst", {"northwind"}),
        ("staff", {"alpha-pharma", "northwind"}),
    ],
)
def test_clients_are_the_users_own_or_those_they_work_for(api, username, expected):
    assert {c["slug"] for c in rows(api(username).get("/api/v1/clients/"))} == expected


def test_another_client_answers_404(api, world):
    northwind = world.client("northwind")

    assert api("alpha.manager").get(f"/api/v1/clients/{northwind.pk}/").status_code == 404


@pytest.mark.parametrize(
    "username, expected",
    [
        ("alpha.manager", {"bio-analytics", "ledger-research", "lexpoint"}),
        ("northwind.manager", {"bio-analytics", "ledger-research", "lexpoint"}),
        ("bio.analyst", {"bio-analytics"}),
        ("ledger.admin", {"ledger-research"}),
    ],
)
def test_providers_are_those_a_client_may_engage_or_the_users_own(api, username, expected):
    assert {p["slug"] for p in rows(api(username).get("/api/v1/providers/"))} == expected


# -- scorecards -------------------------------------------------------------------------------


def scorecard(api, username, provider):
    response = api(username).get(f"/api/v1/providers/{provider.pk}/scorecard/")
    assert response.status_code == 200, response.content
    return response.json()


def test_bio_analytics_scorecard_for_alpha_follows_the_demo(api, world):
    # Phase II: the plan was accepted on version 1 and the interim report reached the client,
    # both before their due times; the data cleaning log is past due and not delivered.
    card = scorecard(api, "alpha.manager", world.provider("bio-analytics"))

    assert card["provider"] == world.provider("bio-analytics").pk
    assert card["deliverables_delivered"] == 2
    assert card["on_time_rate"] == 1.0
    assert card["first_pass_acceptance_rate"] == 1.0
    assert card["average_quality"] == 4.4  # the plan's scores 5, 4, 4, 5, 4
    assert card["average_review_hours"] == pytest.approx(0, abs=0.01)
    assert card["breaches"] == 1
    assert card["open_breaches"] == 1
    by_engagement = {row["title"]: row for row in card["by_engagement"]}
    assert set(by_engagement) == {world.phase_two.title, world.rwe.title}
    phase_two = by_engagement[world.phase_two.title]
    assert phase_two["engagement"] == world.phase_two.pk
    assert phase_two["reference"] == world.phase_two.reference
    assert (phase_two["deliverables_delivered"], phase_two["open_breaches"]) == (2, 1)
    rwe = by_engagement[world.rwe.title]
    assert rwe["deliverables_delivered"] == 0
    assert rwe["on_time_rate"] is None


def test_a_late_delivery_lowers_the_on_time_rate_and_settles_the_breach(api, world):
    log = world.deliverable("Data cleaning log")  # due a day ago
    deliverable_services.deliverable_submit(
        actor=world.user("bio.analyst"),
        deliverable=log,
        file=SimpleUploadedFile("log.csv", b"step,rows\n1,100\n"),
    )
    deliverable_services.deliverable_qa(
        actor=world.user("bio.qa"), deliverable=log, decision="pass"
    )

    card = scorecard(api, "alpha.manager", world.provider("bio-analytics"))

    assert card["deliverables_delivered"] == 3
    assert card["on_time_rate"] == pytest.approx(2 / 3, abs=0.0001)
    assert (card["breaches"], card["open_breaches"]) == (1, 0)


def test_a_scorecard_counts_only_what_the_caller_may_see(api, world):
    card = scorecard(api, "northwind.manager", world.provider("bio-analytics"))

    assert card["deliverables_delivered"] == 0
    assert card["by_engagement"] == []
    assert card["on_time_rate"] is None
    assert card["average_quality"] is None


def test_ledger_scorecard_for_northwind(api, world):
    card = scorecard(api, "northwind.manager", world.provider("ledger-research"))

    assert card["deliverables_delivered"] == 1
    assert card["on_time_rate"] == 1.0
    assert card["first_pass_acceptance_rate"] == 1.0
    assert card["average_quality"] == 4.4
    assert (card["breaches"], card["open_breaches"]) == (0, 0)


def test_the_scorecard_of_another_provider_answers_404_to_a_provider_user(api, world):
    ledger = world.provider("ledger-research")

    assert api("bio.analyst").get(f"/api/v1/providers/{ledger.pk}/scorecard/").status_code == 404


# -- vendor approvals -------------------------------------------------------------------------

APPROVALS = "/api/v1/vendor-approvals/"


def test_client_users_read_their_own_clients_approvals(api, world):
    approvals = rows(api("alpha.manager").get(APPROVALS))

    assert {(a["provider"], a["status"]) for a in approvals} == {
        (world.provider("bio-analytics").pk, "approved"),
        (world.provider("ledger-research").pk, "pending"),
    }
    assert {a["client"] for a in approvals} == {world.client("alpha-pharma").pk}
    assert rows(api("bio.admin").get(APPROVALS)) == []


def approval_body(world, **overrides):
    today = timezone.localdate()
    return {
        "provider": world.provider("lexpoint").pk,
        "status": "conditional",
        "risk_tier": "high",
        "assessed_on": str(today),
        "expires_on": str(today + timedelta(days=180)),
        "notes": "Pen test findings open.",
    } | overrides


def test_a_client_admin_records_an_approval(api, world):
    response = api("alpha.admin").post(APPROVALS, approval_body(world), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["client"] == world.client("alpha-pharma").pk
    assert (body["status"], body["risk_tier"]) == ("conditional", "high")
    assert body["notes"] == "Pen test findings open."
    assert world.approval("alpha-pharma", "lexpoint").status == "conditional"


def test_a_second_approval_of_the_same_provider_answers_400(api, world):
    body = approval_body(world, provider=world.provider("bio-analytics").pk)

    response = api("alpha.admin").post(APPROVALS, body, format="json")

    assert response.status_code == 400
    assert "update it instead" in response.json()["provider"][0]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"expires_on": "2020-01-01"}, "expires_on"),
        ({"status": "maybe"}, "status"),
        ({"risk_tier": "extreme"}, "risk_tier"),
        ({"provider": 999_999}, "provider"),
    ],
)
def test_an_invalid_approval_answers_400(api, world, overrides, field):
    response = api("alpha.admin").post(APPROVALS, approval_body(world, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not VendorApproval.objects.filter(provider__slug="lexpoint").exists()


@pytest.mark.parametrize("username", ["alpha.manager", "alpha.viewer"])
def test_only_client_admins_record_approvals(api, world, username):
    response = api(username).post(APPROVALS, approval_body(world), format="json")

    assert response.status_code == 403
    assert not VendorApproval.objects.filter(provider__slug="lexpoint").exists()


def test_a_client_admin_updates_an_approval(api, world):
    pending = world.approval("alpha-pharma", "ledger-research")

    response = api("alpha.admin").patch(
        f"{APPROVALS}{pending.pk}/",
        {"status": "approved", "risk_tier": "low", "provider": world.provider("lexpoint").pk},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["risk_tier"]) == ("approved", "low")
    assert response.json()["provider"] == world.provider("ledger-research").pk


def test_only_client_admins_update_approvals(api, world):
    pending = world.approval("alpha-pharma", "ledger-research")

    response = api("alpha.manager").patch(
        f"{APPROVALS}{pending.pk}/", {"status": "approved"}, format="json"
    )

    assert response.status_code == 403
    assert world.approval("alpha-pharma", "ledger-research").status == "pending"


def test_another_clients_approval_answers_404(api, world):
    northwinds = world.approval("northwind", "ledger-research")

    response = api("alpha.admin").patch(
        f"{APPROVALS}{northwinds.pk}/", {"status": "rejected"}, format="json"
    )

    assert response.status_code == 404
    assert world.approval("northwind", "ledger-research").status == "approved"


# -- teams ------------------------------------------------------------------------------------

TEAMS = "/api/v1/teams/"


def test_provider_users_see_their_firms_teams_and_clients_those_on_their_work(api):
    assert {t["name"] for t in rows(api("bio.analyst").get(TEAMS))} == {
        "Biostatistics",
        "Medical Writing",
    }
    assert {t["name"] for t in rows(api("alpha.manager").get(TEAMS))} == {"Biostatistics"}
    assert {t["name"] for t in rows(api("northwind.manager").get(TEAMS))} == {"EU Banks"}


def test_a_provider_admin_creates_a_team(api, world):
    body = {
        "name": "Pharmacometrics",
        "lead": world.user("bio.lead").pk,
        "members": [world.user("bio.analyst").pk, world.user("bio.writer").pk],
    }

    response = api("bio.admin").post(TEAMS, body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["provider"] == world.provider("bio-analytics").pk
    assert created["name"] == "Pharmacometrics"
    assert created["lead"] == world.user("bio.lead").pk
    assert sorted(created["members"]) == sorted(body["members"])


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "Biostatistics"),  # taken
        ("name", ""),
        ("members", ["bio.analyst", "ledger.analyst"]),  # another provider's analyst
        ("lead", "alpha.manager"),  # a client user
    ],
)
def test_an_invalid_team_answers_400(api, world, field, value):
    if field == "members":
        value = [world.user(name).pk for name in value]
    elif field == "lead":
        value = world.user(value).pk
    teams = AnalystTeam.objects.count()

    response = api("bio.admin").post(
        TEAMS, {"name": "Pharmacometrics", field: value}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert AnalystTeam.objects.count() == teams


@pytest.mark.parametrize("username", ["bio.lead", "bio.analyst", "alpha.admin"])
def test_only_provider_admins_create_teams(api, username):
    response = api(username).post(TEAMS, {"name": "Shadow team"}, format="json")

    assert response.status_code == 403
    assert not AnalystTeam.objects.filter(name="Shadow team").exists()


def test_a_provider_admin_renames_a_team_and_sets_its_members(api, world):
    team = world.team("Medical Writing")
    members = [world.user("bio.writer").pk, world.user("bio.analyst").pk]

    response = api("bio.admin").patch(
        f"{TEAMS}{team.pk}/", {"name": "Medical Writing EU", "members": members}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Medical Writing EU"
    assert sorted(response.json()["members"]) == sorted(members)


def test_an_analyst_taken_off_the_team_loses_the_engagement_at_once(api, world, engagements):
    team = world.team("Biostatistics")
    url = f"/api/v1/engagements/{engagements.phase_two.pk}/"
    assert api("bio.analyst").get(url).status_code == 200

    response = api("bio.admin").patch(
        f"{TEAMS}{team.pk}/", {"members": [world.user("bio.qa").pk]}, format="json"
    )

    assert response.status_code == 200
    assert api("bio.analyst").get(url).status_code == 404


@pytest.mark.parametrize("username, status", [("bio.analyst", 403), ("ledger.admin", 404)])
def test_only_the_providers_admin_edits_its_teams(api, world, username, status):
    team = world.team("Biostatistics")

    response = api(username).patch(f"{TEAMS}{team.pk}/", {"name": "Renamed"}, format="json")

    assert response.status_code == status
    assert world.team("Biostatistics").pk == team.pk


# -- webhooks ---------------------------------------------------------------------------------

WEBHOOKS = "/api/v1/webhooks/"
SECRET = "s3cret-that-must-never-be-shown"


def test_webhooks_crud_as_a_client_admin_never_shows_the_secret(api, world):
    client = api("alpha.admin")

    created = client.post(
        WEBHOOKS,
        {
            "url": "https://hooks.alpha.example/kpo",
            "events": ["deliverable_accepted", "comment_added"],
            "secret": SECRET,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    webhook_id = created.json()["id"]
    assert created.json()["events"] == ["comment_added", "deliverable_accepted"]
    assert created.json()["active"] is True

    listed = client.get(WEBHOOKS)
    fetched = client.get(f"{WEBHOOKS}{webhook_id}/")
    new_secret = "another-secret-never-shown"
    patched = client.patch(
        f"{WEBHOOKS}{webhook_id}/",
        {"events": ["review_requested"], "secret": new_secret, "active": False},
        format="json",
    )

    assert [w["id"] for w in rows(listed)] == [webhook_id]
    assert fetched.status_code == 200
    assert patched.status_code == 200
    assert patched.json()["events"] == ["review_requested"]
    assert patched.json()["active"] is False
    for response in (created, listed, fetched, patched):
        assert "secret" not in response.content.decode()
        assert SECRET not in response.content.decode()
        assert new_secret not in response.content.decode()
    assert Webhook.objects.get(pk=webhook_id).secret == new_secret

    deleted = client.delete(f"{WEBHOOKS}{webhook_id}/")
    assert deleted.status_code == 204
    assert not Webhook.objects.filter(pk=webhook_id).exists()
    assert client.get(f"{WEBHOOKS}{webhook_id}/").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"secret": "too-short"}, "secret"),
        ({"secret": ""}, "secret"),
        ({"events": ["something_else"]}, "events"),
        ({"events": []}, "events"),
        ({"url": "not a url"}, "url"),
    ],
)
def test_an_invalid_webhook_answers_400_without_echoing_the_secret(api, body, field):
    full = {"url": "https://hooks.alpha.example/kpo", "events": ["comment_added"], "secret": SECRET}

    response = api("alpha.admin").post(WEBHOOKS, full | body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert SECRET not in response.content.decode()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("username", ["alpha.manager", "alpha.viewer", "bio.lead"])
def test_webhooks_are_closed_to_anyone_but_organisation_admins(api, world, username):
    webhook = world.webhook("alpha-pharma")
    client = api(username)

    assert client.get(WEBHOOKS).status_code == 403
    assert client.post(WEBHOOKS, {"url": "https://x.example"}, format="json").status_code == 403
    assert client.delete(f"{WEBHOOKS}{webhook.pk}/").status_code == 403
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_another_organisations_webhook_answers_404(api, world):
    webhook = world.webhook("alpha-pharma")

    assert api("bio.admin").get(f"{WEBHOOKS}{webhook.pk}/").status_code == 404
    assert api("bio.admin").delete(f"{WEBHOOKS}{webhook.pk}/").status_code == 404
    assert Webhook.objects.filter(pk=webhook.pk).exists()


# -- notifications ----------------------------------------------------------------------------

NOTIFICATIONS = "/api/v1/notifications/"


def test_notifications_are_the_callers_own_newest_first_with_cursor_pagination(api, world):
    manager = world.user("alpha.manager")
    world.notification_for("alpha.manager")
    world.notification_for("bio.analyst")

    response = api("alpha.manager").get(NOTIFICATIONS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    ids = [n["id"] for n in body["results"]]
    assert ids == sorted(ids, reverse=True)
    assert set(ids) == set(Notification.objects.filter(user=manager).values_list("pk", flat=True))
    assert set(body["results"][0]) >= {
        "id",
        "kind",
        "title",
        "body",
        "url",
        "engagement",
        "deliverable",
        "created_at",
        "read_at",
    }
    assert body["results"][0]["title"] == "Something happened for alpha.manager"


def test_a_notification_about_a_deliverable_links_to_it(api, world):
    review_requested = rows_of_kind(api, "alpha.manager", "review_requested")

    assert review_requested
    assert all(n["deliverable"] and n["engagement"] for n in review_requested)
    assert all(n["url"] == f"/deliverables/{n['deliverable']}/" for n in review_requested)


def rows_of_kind(api, username, kind):
    body = api(username).get(NOTIFICATIONS, {"page_size": 200}).json()
    return [n for n in body["results"] if n["kind"] == kind]


def test_reading_a_notification_marks_it_read_once(api, world):
    notification = world.notification_for("alpha.manager")
    url = f"{NOTIFICATIONS}{notification.pk}/read/"

    first = api("alpha.manager").post(url)
    second = api("alpha.manager").post(url)

    assert first.status_code == 200
    assert first.json()["read_at"] is not None
    assert second.json()["read_at"] == first.json()["read_at"]


def test_someone_elses_notification_answers_404(api, world):
    notification = world.notification_for("bio.analyst")

    response = api("alpha.manager").post(f"{NOTIFICATIONS}{notification.pk}/read/")

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


# -- knowledge --------------------------------------------------------------------------------

KNOWLEDGE = "/api/v1/knowledge/"


def test_knowledge_search_finds_the_accepted_statistical_analysis_plan(api, world):
    found = rows(api("alpha.manager").get(KNOWLEDGE, {"q": "Statistical analysis plan"}))

    assert [item["title"] for item in found] == ["Statistical analysis plan"]
    item = found[0]
    assert item["engagement"] == world.phase_two.pk
    assert item["engagement_reference"] == world.phase_two.reference
    assert item["provider_name"] == "Bio-Analytics Solutions"
    assert item["overall_score"] == "4.40"


@pytest.mark.parametrize("query", ["Statistical analysis plan", "plan", "ONC-221", ""])
def test_knowledge_search_never_returns_another_tenants_work(api, query):
    found = rows(api("northwind.manager").get(KNOWLEDGE, {"q": query}))

    assert "Statistical analysis plan" not in {item["title"] for item in found}
    assert all(item["provider_name"] == "Ledger Research Partners" for item in found)


def test_knowledge_lists_only_accepted_work(api):
    everything = rows(api("alpha.manager").get(KNOWLEDGE))

    assert [item["title"] for item in everything] == ["Statistical analysis plan"]


def test_knowledge_search_of_an_analyst_off_the_work_finds_nothing(api):
    assert rows(api("bio.writer").get(KNOWLEDGE, {"q": "Statistical analysis plan"})) == []


def test_a_search_containing_a_nul_character_answers_400(api):
    response = api("alpha.manager").get(KNOWLEDGE, {"q": "plan\x00"})

    assert response.status_code == 400
    assert "q" in response.json()


def test_knowledge_search_without_a_match_is_empty(api):
    assert rows(api("alpha.manager").get(KNOWLEDGE, {"q": "zebrafish"})) == []


# -- the page-size cap ------------------------------------------------------------------------


def test_page_size_above_200_is_capped_at_200_on_a_numbered_list(api, world):
    engagement = world.draft("Many deliverables")
    manager, due = world.user("alpha.manager"), world.due_at(30)
    for number in range(205):
        deliverable_services.deliverable_plan(
            actor=manager, engagement=engagement, title=f"Table {number}", due_at=due
        )

    response = api("alpha.manager").get(
        "/api/v1/deliverables/", {"engagement": engagement.pk, "page_size": 1000}
    )

    body = response.json()
    assert body["count"] == 205
    assert len(body["results"]) == 200
    assert body["next"] is not None


def test_page_size_above_200_is_capped_at_200_on_a_cursor_list(api, world):
    manager = world.user("alpha.manager")
    publish(
        [
            Event(kind=NotificationKind.COMMENT_ADDED, title=f"Note {n}", recipients=[manager])
            for n in range(205)
        ]
    )

    body = api("alpha.manager").get(NOTIFICATIONS, {"page_size": 1000}).json()

    assert len(body["results"]) == 200
    assert body["next"] is not None


def test_a_small_page_size_is_honoured(api):
    body = api("alpha.manager").get("/api/v1/service-lines/", {"page_size": 3}).json()

    assert body["count"] == 10
    assert len(body["results"]) == 3
