"""API.md, `deliverables/` and `submissions/`: filters, planning, start and cancel, versions
(upload and audited download), provider QA, the client's scored review, and comments."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.models import Deliverable, Review, Submission
from engagements import services as engagement_services
from kpo.audit.models import AuditEvent

URL = "/api/v1/deliverables/"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

ALL_THREES = {"accuracy": 3, "completeness": 3, "insight": 3, "relevance": 3, "presentation": 3}
# Overall 3.40: just under Phase II's threshold of 3.50.
MEAN_3_40 = ALL_THREES | {"insight": 4, "relevance": 4}
# Overall 3.60: just over it.
MEAN_3_60 = MEAN_3_40 | {"presentation": 4}
GOOD = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}

PHASE_TWO_TITLES = {
    "Statistical analysis plan",
    "Interim efficacy report",
    "Safety signal memo",
    "Data cleaning log",
    "Subgroup response analysis",
}


def detail_url(deliverable):
    return f"{URL}{deliverable.pk}/"


def sub_url(deliverable, name):
    return f"{URL}{deliverable.pk}/{name}/"


def upload(name="analysis.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def results(response):
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}
    return body["results"]


def titles(response):
    return {row["title"] for row in results(response)}


def status_of(deliverable):
    return Deliverable.objects.get(pk=deliverable.pk).status


def submit(world, title, username="bio.analyst"):
    """The assignee (or `username`) submits a version through the service: the deliverable
    goes to QA, or to the client when the engagement needs no QA."""
    return deliverable_services.deliverable_submit(
        actor=world.user(username), deliverable=world.deliverable(title), file=upload()
    )


def in_qa(world, title="Safety signal memo", username="bio.analyst"):
    submit(world, title, username)
    return world.deliverable(title)


# -- list and filters ------------------------------------------------------------------------


def test_the_list_holds_the_deliverables_of_visible_engagements(api):
    assert titles(api("alpha.manager").get(URL)) == PHASE_TWO_TITLES
    assert titles(api("northwind.manager").get(URL)) == {
        "Sector initiation report",
        "Q4 earnings model",
    }


def test_the_engagement_filter(api, engagements):
    client = api("alpha.manager")

    assert titles(client.get(URL, {"engagement": engagements.phase_two.pk})) == PHASE_TWO_TITLES
    assert titles(client.get(URL, {"engagement": engagements.rwe.pk})) == set()
    assert titles(client.get(URL, {"engagement": engagements.eu_banks.pk})) == set()


def test_the_status_filter(api):
    client = api("alpha.manager")

    assert titles(client.get(URL, {"status": "in_progress"})) == {
        "Safety signal memo",
        "Data cleaning log",
    }
    assert titles(client.get(URL, {"status": "in_review"})) == {"Interim efficacy report"}
    assert titles(client.get(URL, {"status": "accepted"})) == {"Statistical analysis plan"}
    assert titles(client.get(URL, {"status": "planned"})) == {"Subgroup response analysis"}


def test_the_assignee_filter(api, world):
    deliverable_services.deliverable_update(
        actor=world.user("alpha.manager"),
        deliverable=world.deliverable("Subgroup response analysis"),
        assignee=world.user("bio.lead"),
    )
    client = api("alpha.manager")

    assert titles(client.get(URL, {"assignee": world.user("bio.lead").pk})) == {
        "Subgroup response analysis"
    }
    assert titles(client.get(URL, {"assignee": world.user("bio.analyst").pk})) == (
        PHASE_TWO_TITLES - {"Subgroup response analysis"}
    )


def test_the_sla_state_filter(api):
    client = api("alpha.manager")

    assert titles(client.get(URL, {"sla_state": "breached"})) == {"Data cleaning log"}
    assert titles(client.get(URL, {"sla_state": "at_risk"})) == {"Safety signal memo"}
    assert titles(client.get(URL, {"sla_state": "on_track"})) == {"Subgroup response analysis"}
    assert titles(client.get(URL, {"sla_state": "met"})) == {
        "Statistical analysis plan",
        "Interim efficacy report",
    }
    assert titles(client.get(URL, {"sla_state": "missed"})) == set()


def test_the_due_before_filter(api):
    client = api("alpha.manager")
    now = timezone.now()

    assert titles(client.get(URL, {"due_before": now.isoformat()})) == {"Data cleaning log"}
    assert titles(client.get(URL, {"due_before": (now + timedelta(days=1)).isoformat()})) == {
        "Data cleaning log",
        "Safety signal memo",
    }


def test_the_due_after_filter(api):
    client = api("alpha.manager")
    now = timezone.now()

    assert titles(client.get(URL, {"due_after": (now + timedelta(days=7)).isoformat()})) == {
        "Subgroup response analysis"
    }
    assert titles(
        client.get(
            URL,
            {
                "due_after": (now + timedelta(days=1)).isoformat(),
                "due_before": (now + timedelta(days=7)).isoformat(),
            },
        )
    ) == {"Statistical analysis plan", "Interim efficacy report"}


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"sla_state": "late"},
        {"due_before": "yesterday"},
        {"due_after": "2026-13-45T00:00:00Z"},
        {"assignee": "abc"},
        {"engagement": "abc"},
        {"engagement": "999999"},
        {"engagement": "\x00"},
        {"status": "\x00"},
    ],
)
def test_an_invalid_filter_value_answers_400(api, query):
    response = api("alpha.manager").get(URL, query)

    assert response.status_code == 400
    assert set(response.json()) & set(query)


@pytest.mark.parametrize(
    "query",
    [
        # Well-formed ISO 8601, but past what PostgreSQL takes as an offset (±15:59)...
        {"due_before": "2026-01-01T00:00:00+18:30"},
        # ...or outside the years Python can convert to UTC.
        {"due_after": "0001-01-01T00:00:00+10:00"},
        {"due_before": "9999-12-31T23:59:59-10:00"},
    ],
)
def test_an_extreme_due_time_filter_is_answered_never_a_server_error(api, query):
    response = api("alpha.manager").get(URL, query)

    assert response.status_code in (200, 400)


DELIVERABLE_FIELDS = {
    "id",
    "engagement",
    "title",
    "description",
    "kind",
    "due_at",
    "assignee",
    "status",
    "sla_state",
    "delivered_at",
    "accepted_at",
    "current_version",
    "overall_score",
}


def test_a_deliverable_carries_every_documented_field(api, world):
    sap = world.deliverable("Statistical analysis plan")

    body = api("alpha.viewer").get(detail_url(sap)).json()

    assert set(body) >= DELIVERABLE_FIELDS
    assert body["status"] == "accepted"
    assert body["sla_state"] == "met"
    assert body["current_version"] == 1
    assert body["overall_score"] == "4.40"
    assert body["delivered_at"] and body["accepted_at"]


# -- plan and edit ----------------------------------------------------------------------------


def plan_body(engagement, **overrides):
    return {
        "engagement": engagement.pk,
        "title": "Dose-response model",
        "description": "Exposure-response for the primary endpoint.",
        "kind": "model",
        "due_at": (timezone.now() + timedelta(days=20)).isoformat(),
    } | overrides


@pytest.mark.parametrize("username", ["alpha.manager", "alpha.admin", "bio.lead"])
def test_client_managers_and_the_lead_plan_deliverables(api, world, engagements, username):
    body = plan_body(engagements.phase_two, assignee=world.user("bio.analyst").pk)

    response = api(username).post(URL, body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "planned"
    assert created["sla_state"] == "on_track"
    assert created["current_version"] == 0
    assert created["assignee"] == world.user("bio.analyst").pk


@pytest.mark.parametrize("username", ["alpha.viewer", "bio.analyst", "bio.qa", "bio.admin"])
def test_others_may_not_plan(api, engagements, username):
    response = api(username).post(URL, plan_body(engagements.phase_two), format="json")

    assert response.status_code == 403
    assert not Deliverable.objects.filter(title="Dose-response model").exists()


def test_an_assignee_who_is_not_on_the_engagement_answers_400(api, world, engagements):
    body = plan_body(engagements.phase_two, assignee=world.user("bio.writer").pk)

    response = api("alpha.manager").post(URL, body, format="json")

    assert response.status_code == 400
    assert "assignee" in response.json()


def test_an_engagement_the_caller_cannot_see_is_not_a_valid_choice(api, engagements):
    response = api("alpha.manager").post(URL, plan_body(engagements.eu_banks), format="json")

    assert response.status_code == 400
    assert "engagement" in response.json()


def test_planning_in_a_closed_engagement_answers_409(api, world, engagements):
    phase_two = engagements.phase_two
    engagement_services.engagement_terminate(
        actor=world.user("alpha.manager"), engagement=phase_two
    )

    response = api("alpha.manager").post(URL, plan_body(phase_two), format="json")

    assert response.status_code == 409
    assert response.json()["detail"]


def test_an_open_deliverable_is_edited(api, world):
    memo = world.deliverable("Safety signal memo")
    due = timezone.now() + timedelta(days=4)

    response = api("alpha.manager").patch(
        detail_url(memo), {"title": "Safety memo", "due_at": due.isoformat()}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Safety memo"
    assert response.json()["sla_state"] == "on_track"


def test_an_accepted_deliverable_can_no_longer_be_edited(api, world):
    sap = world.deliverable("Statistical analysis plan")

    response = api("alpha.manager").patch(detail_url(sap), {"title": "Changed"}, format="json")

    assert response.status_code == 409
    assert status_of(sap) == "accepted"


# -- start and cancel -------------------------------------------------------------------------


def test_start_moves_a_planned_deliverable_to_in_progress(api, world):
    subgroup = world.deliverable("Subgroup response analysis")

    response = api("bio.analyst").post(sub_url(subgroup, "start"))

    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"


@pytest.mark.parametrize(
    "title", ["Safety signal memo", "Interim efficacy report", "Statistical analysis plan"]
)
def test_start_answers_409_unless_the_deliverable_is_planned(api, world, title):
    deliverable = world.deliverable(title)

    response = api("bio.analyst").post(sub_url(deliverable, "start"))

    assert response.status_code == 409
    assert response.json()["detail"]
    assert status_of(deliverable) == deliverable.status


def test_start_while_the_engagement_is_on_hold_answers_409(api, world, engagements):
    world.hold(engagements.phase_two)
    subgroup = world.deliverable("Subgroup response analysis")

    response = api("bio.analyst").post(sub_url(subgroup, "start"))

    assert response.status_code == 409
    assert status_of(subgroup) == "planned"


@pytest.mark.parametrize("username", ["alpha.manager", "bio.qa"])
def test_only_the_providers_analysts_and_lead_start_work(api, world, username):
    subgroup = world.deliverable("Subgroup response analysis")

    assert api(username).post(sub_url(subgroup, "start")).status_code == 403
    assert status_of(subgroup) == "planned"


@pytest.mark.parametrize(
    "title", ["Subgroup response analysis", "Safety signal memo", "Interim efficacy report"]
)
def test_cancel_stops_an_open_deliverable(api, world, title):
    response = api("alpha.manager").post(sub_url(world.deliverable(title), "cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancel_of_a_closed_deliverable_answers_409(api, world):
    sap = world.deliverable("Statistical analysis plan")

    response = api("alpha.manager").post(sub_url(sap, "cancel"))

    assert response.status_code == 409
    assert status_of(sap) == "accepted"


def test_the_analyst_cannot_cancel(api, world):
    memo = world.deliverable("Safety signal memo")

    assert api("bio.analyst").post(sub_url(memo, "cancel")).status_code == 403
    assert status_of(memo) == "in_progress"


# -- submissions ------------------------------------------------------------------------------


def test_a_submission_is_uploaded_as_multipart_and_answers_201(api, world):
    memo = world.deliverable("Safety signal memo")

    response = api("bio.analyst").post(
        sub_url(memo, "submissions"),
        {"file": upload("Safety memo v1.pdf"), "notes": "First cut."},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["deliverable"] == memo.pk
    assert body["version"] == 1
    assert body["filename"] == "Safety memo v1.pdf"
    assert body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["content_type"] == "application/pdf"
    assert body["notes"] == "First cut."
    assert body["submitted_by"] == world.user("bio.analyst").pk
    assert body["submitted_at"]
    assert status_of(memo) == "in_qa"


def test_the_next_submission_gets_the_next_version(api, world):
    memo = in_qa(world)
    deliverable_services.deliverable_qa(
        actor=world.user("bio.qa"), deliverable=memo, decision="return", comment="Add tables."
    )
    second = b"%PDF-1.7\nversion two\n%%EOF\n"

    response = api("bio.analyst").post(
        sub_url(memo, "submissions"), {"file": upload("v2.pdf", second)}, format="multipart"
    )

    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.json()["sha256"] == hashlib.sha256(second).hexdigest()
    versions = results(api("alpha.manager").get(sub_url(memo, "submissions")))
    assert [v["version"] for v in versions] == [1, 2]
    assert Deliverable.objects.get(pk=memo.pk).current_version == 2


def test_without_qa_a_submission_goes_straight_to_the_client_and_counts_as_delivered(api, world):
    model = world.deliverable("Q4 earnings model")

    response = api("ledger.analyst").post(
        sub_url(model, "submissions"), {"file": upload()}, format="multipart"
    )

    assert response.status_code == 201
    model.refresh_from_db()
    assert model.status == "in_review"
    assert model.delivered_at is not None
    assert model.sla_state == "met"


@pytest.mark.parametrize("title", ["Interim efficacy report", "Subgroup response analysis"])
def test_a_submission_is_refused_with_409_unless_work_is_in_progress(api, world, title):
    deliverable = world.deliverable(title)
    before = Submission.objects.count()

    response = api("bio.analyst").post(
        sub_url(deliverable, "submissions"), {"file": upload()}, format="multipart"
    )

    assert response.status_code == 409
    assert response.json()["detail"]
    assert Submission.objects.count() == before


@pytest.mark.parametrize("username, status", [("alpha.manager", 403), ("bio.writer", 404)])
def test_only_the_providers_analysts_submit(api, world, username, status):
    memo = world.deliverable("Safety signal memo")

    response = api(username).post(
        sub_url(memo, "submissions"), {"file": upload()}, format="multipart"
    )

    assert response.status_code == status
    assert not Submission.objects.filter(deliverable=memo).exists()


def test_the_versions_are_listed_in_order(api, world):
    interim = world.deliverable("Interim efficacy report")

    versions = results(api("alpha.viewer").get(sub_url(interim, "submissions")))

    assert [(v["version"], v["filename"]) for v in versions] == [
        (1, "Interim efficacy v1.pdf"),
        (2, "Interim efficacy v2.pdf"),
    ]


def download_url(submission):
    return f"/api/v1/submissions/{submission.pk}/download/"


def content_of(response):
    # Reading the stream to its end closes the response (and the file) as a WSGI server would.
    return b"".join(response.streaming_content)


def test_a_download_returns_the_file_as_an_attachment(api, world):
    latest = world.submission("Interim efficacy report")

    response = api("alpha.manager").get(download_url(latest))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Interim efficacy v2.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(content_of(response)).hexdigest() == latest.sha256


def test_every_download_is_audited(api, world):
    latest = world.submission("Interim efficacy report")
    manager = world.user("alpha.manager")

    content_of(api("alpha.manager").get(download_url(latest)))
    content_of(api("alpha.manager").get(download_url(latest)))

    events = AuditEvent.objects.filter(action="submission.download", target_id=str(latest.pk))
    assert events.count() == 2
    event = events.first()
    assert event.actor == manager
    assert event.engagement_id == latest.deliverable.engagement_id
    assert event.changes["version"] == 2


@pytest.mark.parametrize("username", ["northwind.manager", "bio.writer", "ledger.analyst"])
def test_a_submission_of_someone_elses_engagement_answers_404_and_is_not_audited(
    api, world, username
):
    latest = world.submission("Interim efficacy report")

    response = api(username).get(download_url(latest))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="submission.download").exists()


# -- provider QA ------------------------------------------------------------------------------


def test_qa_pass_sends_the_version_to_the_client(api, world):
    memo = in_qa(world)

    response = api("bio.qa").post(
        sub_url(memo, "qa"), {"decision": "pass", "comment": "Checked."}, format="json"
    )

    assert response.status_code == 201
    review = response.json()
    assert (review["kind"], review["decision"], review["comment"]) == ("qa", "pass", "Checked.")
    assert review["submission"] == world.submission("Safety signal memo").pk
    assert review["reviewer"] == world.user("bio.qa").pk
    memo.refresh_from_db()
    assert memo.status == "in_review"
    assert memo.delivered_at is not None


def test_qa_return_sends_the_version_back_to_the_analyst(api, world):
    memo = in_qa(world)

    response = api("bio.lead").post(
        sub_url(memo, "qa"), {"decision": "return", "comment": "Missing tables."}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["decision"] == "return"
    assert status_of(memo) == "changes_requested"


def test_qa_of_ones_own_submission_answers_403(api, world):
    memo = in_qa(world, username="bio.lead")

    response = api("bio.lead").post(sub_url(memo, "qa"), {"decision": "pass"}, format="json")

    assert response.status_code == 403
    assert "own submission" in response.json()["detail"]
    assert status_of(memo) == "in_qa"
    assert not Review.objects.filter(deliverable=memo).exists()


@pytest.mark.parametrize("username", ["bio.analyst", "alpha.manager", "bio.admin"])
def test_qa_is_for_qa_reviewers_and_the_lead(api, world, username):
    memo = in_qa(world)

    assert api(username).post(sub_url(memo, "qa"), {"decision": "pass"}).status_code == 403
    assert status_of(memo) == "in_qa"


@pytest.mark.parametrize("title", ["Interim efficacy report", "Subgroup response analysis"])
def test_qa_answers_409_unless_the_deliverable_is_in_qa(api, world, title):
    deliverable = world.deliverable(title)

    response = api("bio.qa").post(sub_url(deliverable, "qa"), {"decision": "pass"}, format="json")

    assert response.status_code == 409
    assert status_of(deliverable) == deliverable.status


@pytest.mark.parametrize("body", [{"decision": "accept"}, {}, {"decision": "PASS"}])
def test_an_invalid_qa_decision_answers_400(api, world, body):
    memo = in_qa(world)

    response = api("bio.qa").post(sub_url(memo, "qa"), body, format="json")

    assert response.status_code == 400
    assert status_of(memo) == "in_qa"


# -- client review ----------------------------------------------------------------------------


def review(api, username, deliverable, body):
    return api(username).post(sub_url(deliverable, "reviews"), body, format="json")


def test_accept_without_scores_answers_400(api, world):
    interim = world.deliverable("Interim efficacy report")

    response = review(api, "alpha.manager", interim, {"decision": "accept"})

    assert response.status_code == 400
    assert "Score every criterion" in response.json()["scores"][0]
    assert status_of(interim) == "in_review"


def test_accept_with_some_scores_missing_answers_400(api, world):
    interim = world.deliverable("Interim efficacy report")
    partial = {"accuracy": 5, "completeness": 5}

    response = review(api, "alpha.manager", interim, {"decision": "accept", "scores": partial})

    assert response.status_code == 400
    assert "insight" in response.json()["scores"][0]


def test_accept_below_the_quality_threshold_answers_400(api, world):
    interim = world.deliverable("Interim efficacy report")

    response = review(api, "alpha.manager", interim, {"decision": "accept", "scores": MEAN_3_40})

    assert response.status_code == 400
    message = response.json()["scores"][0]
    assert "3.40" in message and "3.50" in message
    assert status_of(interim) == "in_review"
    assert not Review.objects.filter(deliverable=interim, decision="accept").exists()


def test_accept_above_the_threshold_answers_201_with_the_mean_as_overall(api, world):
    interim = world.deliverable("Interim efficacy report")

    response = review(
        api,
        "alpha.manager",
        interim,
        {"decision": "accept", "scores": MEAN_3_60, "comment": "Good enough."},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["decision"]) == ("client", "accept")
    assert body["scores"] == MEAN_3_60
    assert body["overall"] == "3.60"
    assert body["submission"] == world.submission("Interim efficacy report").pk
    interim.refresh_from_db()
    assert interim.status == "accepted"
    assert str(interim.overall_score) == "3.60"
    assert interim.accepted_at is not None


def test_accept_exactly_at_the_threshold_answers_201(api, world):
    model = world.deliverable("Q4 earnings model")  # EU banks: threshold 3.00, no QA
    submit(world, "Q4 earnings model", "ledger.analyst")

    response = review(api, "northwind.manager", model, {"decision": "accept", "scores": ALL_THREES})

    assert response.status_code == 201
    assert response.json()["overall"] == "3.00"
    assert status_of(model) == "accepted"


def test_the_overall_score_is_the_mean_of_the_five_scores(api, world):
    interim = world.deliverable("Interim efficacy report")

    response = review(api, "alpha.admin", interim, {"decision": "accept", "scores": GOOD})

    assert response.json()["overall"] == "4.40"


def test_reject_closes_the_deliverable(api, world):
    interim = world.deliverable("Interim efficacy report")

    response = review(api, "alpha.manager", interim, {"decision": "reject", "comment": "No."})

    assert response.status_code == 201
    assert response.json()["decision"] == "reject"
    assert response.json()["overall"] is None
    assert status_of(interim) == "rejected"


def test_request_changes_sends_it_back_to_the_analyst(api, world):
    interim = world.deliverable("Interim efficacy report")

    response = review(
        api,
        "alpha.manager",
        interim,
        {"decision": "request_changes", "scores": MEAN_3_40, "comment": "More plots."},
    )

    assert response.status_code == 201
    assert response.json()["overall"] == "3.40"
    assert status_of(interim) == "changes_requested"


@pytest.mark.parametrize(
    "title", ["Subgroup response analysis", "Safety signal memo", "Statistical analysis plan"]
)
def test_a_review_of_a_deliverable_not_in_client_review_answers_409(api, world, title):
    deliverable = world.deliverable(title)

    response = review(api, "alpha.manager", deliverable, {"decision": "accept", "scores": GOOD})

    assert response.status_code == 409
    assert response.json()["detail"]
    assert status_of(deliverable) == deliverable.status


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "pass"},
        {"decision": "accept", "scores": GOOD | {"accuracy": 6}},
        {"decision": "accept", "scores": GOOD | {"insight": 0}},
        {"decision": "accept", "scores": GOOD | {"relevance": "high"}},
        {"decision": "accept", "scores": "five"},
        {"scores": GOOD},
    ],
)
def test_an_invalid_review_answers_400(api, world, body):
    interim = world.deliverable("Interim efficacy report")

    response = review(api, "alpha.manager", interim, body)

    assert response.status_code == 400
    assert status_of(interim) == "in_review"


@pytest.mark.parametrize(
    "username, status",
    [("alpha.viewer", 403), ("bio.lead", 403), ("bio.qa", 403), ("northwind.manager", 404)],
)
def test_only_the_clients_admins_and_managers_review(api, world, username, status):
    interim = world.deliverable("Interim efficacy report")

    response = review(api, username, interim, {"decision": "accept", "scores": GOOD})

    assert response.status_code == status
    assert status_of(interim) == "in_review"


def test_the_reviews_of_a_deliverable_are_listed_oldest_first(api, world):
    interim = world.deliverable("Interim efficacy report")

    rows = results(api("bio.analyst").get(sub_url(interim, "reviews")))

    assert [(r["kind"], r["decision"]) for r in rows] == [
        ("qa", "pass"),
        ("client", "request_changes"),
        ("qa", "pass"),
    ]
    assert rows[1]["scores"] == {
        "accuracy": 3,
        "completeness": 2,
        "insight": 3,
        "relevance": 4,
        "presentation": 3,
    }
    assert rows[1]["overall"] == "3.00"


# -- comments ---------------------------------------------------------------------------------


def test_the_discussion_is_listed(api, world):
    interim = world.deliverable("Interim efficacy report")

    rows = results(api("alpha.viewer").get(sub_url(interim, "comments")))

    assert [(c["author"], c["body"]) for c in rows] == [
        (
            world.user("bio.analyst").pk,
            "Per-protocol tables and forest plots added in version 2.",
        )
    ]


@pytest.mark.parametrize("username", ["alpha.manager", "bio.analyst", "bio.qa"])
def test_everyone_on_the_work_may_comment(api, world, username):
    interim = world.deliverable("Interim efficacy report")

    response = api(username).post(sub_url(interim, "comments"), {"body": "Noted."}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["author"] == world.user(username).pk
    assert body["deliverable"] == interim.pk
    assert body["body"] == "Noted."


def test_the_viewer_may_not_comment(api, world):
    interim = world.deliverable("Interim efficacy report")

    response = api("alpha.viewer").post(sub_url(interim, "comments"), {"body": "Hi"})

    assert response.status_code == 403


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {}, {"body": "x" * 10_001}])
def test_an_empty_or_oversized_comment_answers_400(api, world, body):
    interim = world.deliverable("Interim efficacy report")

    response = api("alpha.manager").post(sub_url(interim, "comments"), body, format="json")

    assert response.status_code == 400
    assert "body" in response.json()


def test_comments_of_another_clients_deliverable_answer_404(api, world):
    interim = world.deliverable("Interim efficacy report")

    assert api("northwind.manager").get(sub_url(interim, "comments")).status_code == 404
    assert (
        api("northwind.manager").post(sub_url(interim, "comments"), {"body": "Hi"}).status_code
        == 404
    )
