"""The deliverable pages in the browser: who sees what, which forms each role is offered, the
whole review flow posted through the forms, errors next to their fields, stale pages, files,
and query counts that do not grow with the page's lists.

Everything beyond the demo data (shared/DEMO.md) is made through the services or the pages,
by the demo user who would really do it, inside each test's transaction.
"""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables import services
from deliverables.choices import DeliverableStatus
from deliverables.models import Deliverable, Submission
from kpo.audit.models import AuditEvent
from tests.support import force_login_verified

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
GOOD = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}
MIXED = {"accuracy": 3, "completeness": 2, "insight": 3, "relevance": 4, "presentation": 3}
LOW = dict.fromkeys(GOOD, 2)

S = DeliverableStatus

EVERYONE = (
    "staff",
    "alpha.admin",
    "alpha.manager",
    "alpha.viewer",
    "northwind.manager",
    "bio.admin",
    "bio.lead",
    "bio.analyst",
    "bio.qa",
    "bio.writer",
    "ledger.admin",
    "ledger.analyst",
)
# Who sees the Phase II engagement (Alpha ↔ Bio-Analytics) and who sees EU banks.
SEES_PHASE_TWO = {
    "staff",
    "alpha.admin",
    "alpha.manager",
    "alpha.viewer",
    "bio.admin",
    "bio.lead",
    "bio.analyst",
    "bio.qa",
}
SEES_EU_BANKS = {"staff", "northwind.manager", "ledger.admin", "ledger.analyst"}

# Roles of the Phase II engagement allowed each action (DESIGN.md's role table).
SUBMITTERS = {"bio.lead", "bio.analyst"}
QA_ROLES = {"bio.lead", "bio.qa"}
REVIEWERS = {"alpha.admin", "alpha.manager"}
PLANNERS = {"alpha.admin", "alpha.manager", "bio.lead"}
AUDIT_READERS = {"alpha.admin", "alpha.manager", "bio.admin", "bio.lead"}
COMMENTERS = SEES_PHASE_TWO - {"staff", "alpha.viewer"}


# -- helpers -------------------------------------------------------------------------------


def pdf(name="report.pdf", body=PDF):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


@pytest.fixture
def browser(users):
    """`browser("alpha.manager")`: a test client signed in as that demo user."""

    def sign_in(username):
        client = Client()
        force_login_verified(client, users[username])
        return client

    return sign_in


def detail_url(deliverable):
    return reverse("deliverables:detail", args=[deliverable.pk])


def action_url(name, deliverable):
    return reverse(f"deliverables:{name}", args=[deliverable.pk])


def html(response):
    return response.content.decode()


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def assert_csp_clean(page: str) -> None:
    """Ready for a strict Content-Security-Policy: no inline script, no style attribute."""
    assert not INLINE_SCRIPT.findall(page), INLINE_SCRIPT.findall(page)
    assert not STYLE_ATTRIBUTE.search(page)


def form_ids(page: str) -> set[str]:
    return set(re.findall(r'<form[^>]*\bid="([a-z-]+)"', page))


def start_button(page: str) -> bool:
    return ">Start work</button>" in page


def in_qa(deliverable, users, by="bio.analyst"):
    """Take an in-progress demo deliverable to QA: `by` uploads a version."""
    services.deliverable_submit(actor=users[by], deliverable=deliverable, file=pdf())
    deliverable.refresh_from_db()
    return deliverable


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# -- who may open the pages ----------------------------------------------------------------


@pytest.mark.parametrize("username", EVERYONE)
def test_the_detail_page_answers_only_those_who_see_the_engagement(browser, deliverable, username):
    client = browser(username)
    for title, audience in (
        ("Interim efficacy report", SEES_PHASE_TWO),
        ("Sector initiation report", SEES_EU_BANKS),
    ):
        response = client.get(detail_url(deliverable(title)))
        assert response.status_code == (200 if username in audience else 404), title
        if response.status_code == 200:
            assert_csp_clean(html(response))


def test_a_missing_deliverable_answers_404_like_a_foreign_one(browser):
    assert browser("alpha.manager").get("/deliverables/999999/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(deliverable):
    response = Client().get(detail_url(deliverable("Interim efficacy report")))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("username", EVERYONE)
def test_downloads_answer_only_those_who_see_the_version(browser, deliverable, username):
    interim = deliverable("Interim efficacy report")
    version = Submission.objects.filter(deliverable=interim).latest("version")
    response = browser(username).get(reverse("deliverables:submission_download", args=[version.pk]))
    assert response.status_code == (200 if username in SEES_PHASE_TWO else 404)


# The action of each form, the demo deliverable it is posted to, a valid body, and who may.
ACTIONS = [
    ("start", "Subgroup response analysis", {}, SUBMITTERS),
    ("qa", "Interim efficacy report", {"decision": "pass"}, QA_ROLES),
    ("review", "Interim efficacy report", {"decision": "reject"}, REVIEWERS),
    ("comment", "Interim efficacy report", {"body": "Hello"}, COMMENTERS - {"staff"}),
    ("edit", "Safety signal memo", {"due_at": "2030-01-01T10:00"}, PLANNERS),
    ("cancel", "Safety signal memo", {"confirm": "on"}, PLANNERS),
    ("submit", "Safety signal memo", {}, SUBMITTERS),
]


@pytest.mark.parametrize(
    ("action", "title", "body", "username"),
    [
        pytest.param(action, title, body, username, id=f"{action}-{username}")
        for action, title, body, allowed in ACTIONS
        for username in EVERYONE
        if username not in allowed
    ],
)
def test_actions_answer_404_to_outsiders_and_403_to_roles_that_may_not(
    browser, deliverable, action, title, body, username
):
    target = deliverable(title)
    response = browser(username).post(action_url(action, target), body)
    assert response.status_code == (403 if username in SEES_PHASE_TWO else 404)
    target.refresh_from_db()
    assert target.status == deliverable(title).status


# -- what each role is offered -------------------------------------------------------------


@pytest.mark.parametrize("username", sorted(SEES_PHASE_TWO))
def test_each_role_is_offered_only_the_forms_it_may_use(browser, deliverable, users, username):
    client = browser(username)

    review_page = html(client.get(detail_url(deliverable("Interim efficacy report"))))
    assert ("review-form" in form_ids(review_page)) == (username in REVIEWERS)
    assert "qa-form" not in form_ids(review_page)
    assert "upload-form" not in form_ids(review_page)
    assert ("comment-form" in form_ids(review_page)) == (username in COMMENTERS)
    assert ("edit-form" in form_ids(review_page)) == (username in PLANNERS)
    assert ("cancel-form" in form_ids(review_page)) == (username in PLANNERS)
    assert ('id="audit"' in review_page) == (username in AUDIT_READERS)

    working_page = html(client.get(detail_url(deliverable("Safety signal memo"))))
    assert ("upload-form" in form_ids(working_page)) == (username in SUBMITTERS)
    assert "review-form" not in form_ids(working_page)

    planned_page = html(client.get(detail_url(deliverable("Subgroup response analysis"))))
    assert start_button(planned_page) == (username in SUBMITTERS)
    assert "upload-form" not in form_ids(planned_page)

    accepted_page = html(client.get(detail_url(deliverable("Statistical analysis plan"))))
    assert not form_ids(accepted_page) - {"comment-form"}


def test_qa_is_offered_to_qa_roles_on_a_deliverable_in_qa(browser, deliverable, users):
    memo = in_qa(deliverable("Safety signal memo"), users)
    for username in sorted(SEES_PHASE_TWO):
        page = html(browser(username).get(detail_url(memo)))
        assert ("qa-form" in form_ids(page)) == (username in QA_ROLES), username
        assert "upload-form" not in form_ids(page)


def test_nobody_is_offered_qa_of_their_own_version_and_is_told_why(browser, deliverable, users):
    memo = in_qa(deliverable("Safety signal memo"), users, by="bio.lead")
    page = html(browser("bio.lead").get(detail_url(memo)))
    assert "qa-form" not in form_ids(page)
    assert "You submitted version 1 yourself" in page
    # bio.qa did not submit it, so they are offered it.
    assert "qa-form" in form_ids(html(browser("bio.qa").get(detail_url(memo))))


def test_forcing_qa_of_ones_own_version_gives_a_message_not_an_error(browser, deliverable, users):
    memo = in_qa(deliverable("Safety signal memo"), users, by="bio.lead")
    response = browser("bio.lead").post(
        action_url("qa", memo), {"decision": "pass", "next": detail_url(memo)}, follow=True
    )
    assert response.status_code == 200
    assert "You cannot QA your own submission." in messages_of(response)
    memo.refresh_from_db()
    assert memo.status == S.IN_QA


def test_the_review_form_shows_the_threshold_and_the_five_part_rubric(browser, deliverable):
    page = html(browser("alpha.manager").get(detail_url(deliverable("Interim efficacy report"))))
    assert "Accepting needs an average of at least <strong>3.50</strong>" in page
    for criterion in ("accuracy", "completeness", "insight", "relevance", "presentation"):
        for score in range(1, 6):
            assert f'name="{criterion}" value="{score}"' in page
    for decision in ("accept", "request_changes", "reject"):
        assert f'name="decision" value="{decision}"' in page


def test_the_header_shows_status_sla_due_countdown_assignee_version_and_score(browser, deliverable):
    page = html(browser("alpha.manager").get(detail_url(deliverable("Safety signal memo"))))
    assert '<span class="badge badge-in_progress">In progress</span>' in page
    assert '<span class="badge badge-sla-at_risk">SLA at risk</span>' in page
    assert re.search(r"Due in (11|12)\shours", page)
    assert "Bina Analyst" in page

    plan = deliverable("Statistical analysis plan")
    accepted = html(browser("alpha.manager").get(detail_url(plan)))
    assert re.search(r"Delivered .* ago, on time", accepted)
    assert f'<span class="stat-value">{plan.overall_score}</span>' in accepted
    assert '<span class="stat-value">v1</span>' in accepted

    breached = html(browser("bio.analyst").get(detail_url(deliverable("Data cleaning log"))))
    assert '<span class="badge badge-sla-breached">SLA breached</span>' in breached
    assert re.search(r"Overdue by 1\sday", breached)


def test_the_engagement_is_linked_from_the_header(browser, deliverable):
    interim = deliverable("Interim efficacy report")
    page = html(browser("alpha.manager").get(detail_url(interim)))
    assert interim.engagement.reference in page
    engagement_url = reverse("engagements:detail", args=[interim.engagement_id])
    assert f'href="{engagement_url}"' in page


# -- the whole review flow, through the forms ----------------------------------------------


def post_review(client, deliverable, decision, scores=None, comment="", **extra):
    body = {"decision": decision, "comment": comment, "next": detail_url(deliverable), **extra}
    body.update(scores or {})
    return client.post(action_url("review", deliverable), body)


def test_the_whole_review_flow_runs_through_the_forms(browser, deliverable):
    analyst, qa, manager = browser("bio.analyst"), browser("bio.qa"), browser("alpha.manager")
    memo = deliverable("Safety signal memo")

    def status():
        memo.refresh_from_db()
        return memo.status

    response = analyst.post(
        action_url("submit", memo),
        {"file": pdf("memo-v1.pdf"), "notes": "First cut.", "next": detail_url(memo)},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(memo)
    assert status() == S.IN_QA
    assert memo.current_version == 1

    response = qa.post(action_url("qa", memo), {"decision": "pass", "comment": "Checked."})
    assert response.status_code == 302
    assert status() == S.IN_REVIEW

    response = post_review(manager, memo, "request_changes", MIXED, "Add the forest plots.")
    assert response.status_code == 302
    assert status() == S.CHANGES_REQUESTED

    response = analyst.post(action_url("submit", memo), {"file": pdf("memo-v2.pdf")})
    assert response.status_code == 302
    assert status() == S.IN_QA
    assert memo.current_version == 2

    assert qa.post(action_url("qa", memo), {"decision": "pass"}).status_code == 302
    assert status() == S.IN_REVIEW

    response = post_review(manager, memo, "accept", GOOD, "Thank you.")
    assert response.status_code == 302
    assert status() == S.ACCEPTED
    assert str(memo.overall_score) == "4.40"

    page = html(manager.get(detail_url(memo)))
    assert "memo-v1.pdf" in page
    assert "memo-v2.pdf" in page
    assert "Client review: Accept" in page
    assert "Client review: Request changes" in page
    assert "Add the forest plots." in page
    assert "Accepted. It is now in the knowledge library." in page
    assert "deliverable.accept" in page  # the audit trail, for a manager


def test_work_is_started_from_the_page(browser, deliverable, users):
    subgroup = deliverable("Subgroup response analysis")
    response = browser("bio.analyst").post(action_url("start", subgroup))
    assert response.status_code == 302
    subgroup.refresh_from_db()
    assert subgroup.status == S.IN_PROGRESS
    page = html(browser("bio.analyst").get(detail_url(subgroup)))
    assert "upload-form" in form_ids(page)


def test_qa_can_return_a_version_with_a_comment(browser, deliverable, users):
    memo = in_qa(deliverable("Safety signal memo"), users)
    response = browser("bio.qa").post(
        action_url("qa", memo), {"decision": "return", "comment": "Tables are missing."}
    )
    assert response.status_code == 302
    memo.refresh_from_db()
    assert memo.status == S.CHANGES_REQUESTED
    page = html(browser("bio.analyst").get(detail_url(memo)))
    assert "Tables are missing." in page
    assert "upload-form" in form_ids(page)


def test_qa_without_a_decision_says_so_next_to_the_decision(browser, deliverable, users):
    memo = in_qa(deliverable("Safety signal memo"), users)
    response = browser("bio.qa").post(action_url("qa", memo), {"comment": "Fine"})
    assert response.status_code == 400
    page = html(response)
    assert "Choose pass or return." in page
    assert "Fine</textarea>" in page


# -- errors next to the field, keeping what was chosen -------------------------------------


def rubric_block(page: str) -> str:
    return page[page.index('id="rubric"') : page.index("</fieldset>\n", page.rindex("criterion"))]


def test_accepting_below_the_threshold_shows_the_error_at_the_rubric_and_keeps_the_choices(
    browser, deliverable
):
    interim = deliverable("Interim efficacy report")
    response = post_review(browser("alpha.manager"), interim, "accept", LOW, "Not quite.")
    assert response.status_code == 400
    page = html(response)
    rubric = rubric_block(page)
    assert "below this engagement&#x27;s quality threshold of 3.50" in rubric
    for criterion in GOOD:
        assert re.search(rf'name="{criterion}" value="2"[^>]*checked', page), criterion
    assert re.search(r'name="decision" value="accept"[^>]*checked', page)
    assert "Not quite.</textarea>" in page
    interim.refresh_from_db()
    assert interim.status == S.IN_REVIEW
    assert_csp_clean(page)


def test_accepting_without_scores_asks_for_every_criterion(browser, deliverable):
    interim = deliverable("Interim efficacy report")
    response = post_review(browser("alpha.manager"), interim, "accept", {"accuracy": 4})
    assert response.status_code == 400
    rubric = rubric_block(html(response))
    assert "Score every criterion from 1 to 5; missing: completeness" in rubric
    assert re.search(r'name="accuracy" value="4"[^>]*checked', html(response))


def test_a_review_without_a_decision_is_refused_next_to_the_decision(browser, deliverable):
    interim = deliverable("Interim efficacy report")
    response = post_review(browser("alpha.manager"), interim, "", GOOD)
    assert response.status_code == 400
    assert "Choose accept, request changes or reject." in html(response)


def test_a_bad_upload_is_refused_next_to_the_file_field_and_nothing_is_stored(
    browser, deliverable, media_files
):
    memo = deliverable("Safety signal memo")
    stored = media_files()
    response = browser("bio.analyst").post(
        action_url("submit", memo),
        {
            "file": SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 64),
            "notes": "Please run this.",
        },
    )
    assert response.status_code == 400
    page = html(response)
    file_field = page[page.index("data-dropzone") : page.index('id="id_notes"')]
    assert "File type not allowed: .exe." in file_field
    assert "Please run this.</textarea>" in page
    assert not Submission.objects.filter(deliverable=memo).exists()
    assert media_files() == stored
    memo.refresh_from_db()
    assert memo.status == S.IN_PROGRESS


def test_content_that_does_not_match_its_name_is_refused(browser, deliverable):
    memo = deliverable("Safety signal memo")
    response = browser("bio.analyst").post(
        action_url("submit", memo), {"file": pdf("report.pdf", b"MZ\x90\x00" + b"\x00" * 64)}
    )
    assert response.status_code == 400
    assert "not accepted" in html(response) or "is not" in html(response)
    assert not Submission.objects.filter(deliverable=memo).exists()


def test_an_upload_without_a_file_asks_for_one(browser, deliverable):
    memo = deliverable("Safety signal memo")
    response = browser("bio.analyst").post(action_url("submit", memo), {"notes": "x"})
    assert response.status_code == 400
    assert "Choose the file to upload." in html(response)


@pytest.fixture
def media_files():
    import os

    from django.conf import settings

    def listing():
        root = settings.MEDIA_ROOT
        return {
            os.path.relpath(os.path.join(folder, name), root)
            for folder, _, names in os.walk(root)
            for name in names
        }

    return listing


def test_cancelling_needs_the_confirmation(browser, deliverable):
    memo = deliverable("Safety signal memo")
    manager = browser("alpha.manager")
    response = manager.post(action_url("cancel", memo), {"reason": "Out of scope"})
    assert response.status_code == 400
    page = html(response)
    assert "Tick the box to confirm the cancellation." in page
    assert 'value="Out of scope"' in page
    memo.refresh_from_db()
    assert memo.status == S.IN_PROGRESS

    response = manager.post(action_url("cancel", memo), {"reason": "Out of scope", "confirm": "on"})
    assert response.status_code == 302
    memo.refresh_from_db()
    assert memo.status == S.CANCELLED


def test_planners_change_the_due_time_and_assignee(browser, deliverable, users):
    memo = deliverable("Safety signal memo")
    response = browser("bio.lead").post(
        action_url("edit", memo),
        {"due_at": "2030-03-04T09:30", "assignee": users["bio.lead"].pk},
    )
    assert response.status_code == 302
    memo.refresh_from_db()
    assert (memo.due_at.year, memo.due_at.month, memo.due_at.hour) == (2030, 3, 9)
    assert memo.assignee == users["bio.lead"]


def test_only_people_on_the_work_can_be_assigned(browser, deliverable, users):
    memo = deliverable("Safety signal memo")
    page = html(browser("alpha.manager").get(detail_url(memo)))
    edit_form = page[page.index('id="edit-form"') :]
    assert "Writer" not in edit_form.split("</form>")[0]
    response = browser("alpha.manager").post(
        action_url("edit", memo),
        {"due_at": "2030-03-04T09:30", "assignee": users["bio.writer"].pk},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in html(response)
    memo.refresh_from_db()
    assert memo.assignee != users["bio.writer"]


def test_a_due_date_is_required(browser, deliverable):
    memo = deliverable("Safety signal memo")
    response = browser("alpha.manager").post(action_url("edit", memo), {"due_at": ""})
    assert response.status_code == 400
    assert "Give a due date and time." in html(response)


# -- stale pages ---------------------------------------------------------------------------


def test_a_stale_qa_pass_gives_a_clear_message(browser, deliverable):
    interim = deliverable("Interim efficacy report")  # in client review, no longer in QA
    response = browser("bio.qa").post(
        action_url("qa", interim), {"decision": "pass", "next": detail_url(interim)}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == detail_url(interim)
    assert any("Only a deliverable in QA can be checked" in m for m in messages_of(response))
    interim.refresh_from_db()
    assert interim.status == S.IN_REVIEW


def test_a_stale_review_gives_a_clear_message(browser, deliverable):
    plan = deliverable("Statistical analysis plan")  # already accepted
    manager = browser("alpha.manager")
    response = post_review(manager, plan, "accept", GOOD)
    assert response.status_code == 302
    follow = manager.get(response["Location"])
    assert "Only a deliverable in client review can be reviewed" in html(follow)


def test_stale_upload_and_start_give_clear_messages(browser, deliverable, users):
    memo = in_qa(deliverable("Safety signal memo"), users)
    analyst = browser("bio.analyst")
    response = analyst.post(
        action_url("submit", memo), {"file": pdf(), "next": detail_url(memo)}, follow=True
    )
    assert any("A new version can only be submitted" in m for m in messages_of(response))
    assert Submission.objects.filter(deliverable=memo).count() == 1

    response = analyst.post(action_url("start", memo), {"next": detail_url(memo)}, follow=True)
    assert response.status_code == 200
    assert messages_of(response)


def test_an_engagement_on_hold_does_not_offer_uploads_and_says_why(
    browser, deliverable, users, engagements
):
    from engagements import services as engagement_services

    engagement_services.engagement_hold(
        actor=users["alpha.manager"], engagement=engagements.phase_two
    )
    page = html(browser("bio.analyst").get(detail_url(deliverable("Safety signal memo"))))
    assert "upload-form" not in form_ids(page)
    assert "The engagement is on hold" in page


# -- comments ------------------------------------------------------------------------------


def test_a_comment_posted_without_javascript_redirects_to_it(browser, deliverable):
    interim = deliverable("Interim efficacy report")
    response = browser("bio.analyst").post(action_url("comment", interim), {"body": "Ready."})
    assert response.status_code == 302
    assert response["Location"].startswith(detail_url(interim) + "#comment-")
    assert "Ready." in html(browser("alpha.manager").get(detail_url(interim)))


def test_a_comment_posted_with_htmx_comes_back_as_the_new_item_and_a_fresh_form(
    browser, deliverable
):
    interim = deliverable("Interim efficacy report")
    response = browser("alpha.manager").post(
        action_url("comment", interim), {"body": "Looks <b>good</b>"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = html(response)
    assert page.lstrip().startswith('<li class="comment"')
    assert "Looks &lt;b&gt;good&lt;/b&gt;" in page
    assert 'id="comment-form"' in page
    assert 'hx-swap-oob="true"' in page
    assert "Looks" not in page.split('id="comment-form"')[1]  # the form is empty again
    assert_csp_clean(page)


def test_an_empty_comment_is_refused_next_to_the_field(browser, deliverable):
    interim = deliverable("Interim efficacy report")
    client = browser("alpha.manager")
    with_htmx = client.post(action_url("comment", interim), {"body": "  "}, HTTP_HX_REQUEST="true")
    assert with_htmx.status_code == 200
    assert "<li" not in html(with_htmx)
    assert "Write something before posting." in html(with_htmx)

    without = client.post(action_url("comment", interim), {"body": ""})
    assert without.status_code == 400
    assert "Write something before posting." in html(without)


def test_the_comment_form_works_without_javascript_and_enhances_with_htmx(browser, deliverable):
    page = html(browser("bio.qa").get(detail_url(deliverable("Interim efficacy report"))))
    form = page[page.index('id="comment-form"') - 200 :].split("</form>")[0]
    assert 'method="post"' in form
    assert 'action="/deliverables/' in form
    assert "hx-post=" in form


# -- files and the audit trail ---------------------------------------------------------------


def test_a_download_is_an_attachment_and_is_audited(browser, deliverable, users):
    interim = deliverable("Interim efficacy report")
    version = Submission.objects.filter(deliverable=interim).latest("version")
    before = AuditEvent.objects.filter(action="submission.download").count()
    response = browser("alpha.viewer").get(
        reverse("deliverables:submission_download", args=[version.pk])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert version.filename in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    event = AuditEvent.objects.filter(action="submission.download").latest("id")
    assert AuditEvent.objects.filter(action="submission.download").count() == before + 1
    assert event.actor == users["alpha.viewer"]
    assert event.target_id == str(version.pk)


def test_a_refused_download_is_not_recorded_as_one(browser, deliverable):
    version = Submission.objects.filter(deliverable=deliverable("Interim efficacy report")).first()
    before = AuditEvent.objects.filter(action="submission.download").count()
    response = browser("northwind.manager").get(
        reverse("deliverables:submission_download", args=[version.pk])
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="submission.download").count() == before


def test_audit_readers_see_the_deliverables_events_including_downloads_and_comments(
    browser, deliverable
):
    interim = deliverable("Interim efficacy report")
    version = Submission.objects.filter(deliverable=interim).latest("version")
    browser("bio.analyst").get(reverse("deliverables:submission_download", args=[version.pk]))
    page = html(browser("bio.lead").get(detail_url(interim)))
    audit = page[page.index('id="audit"') :]
    for action in ("submission.download", "comment.add", "deliverable.submit", "deliverable.plan"):
        assert action in audit, action
    # Another deliverable's events stay on its own page.
    assert "Safety signal memo" not in audit


def test_the_history_shows_reviews_with_their_scores_to_everyone(browser, deliverable):
    page = html(browser("bio.analyst").get(detail_url(deliverable("Interim efficacy report"))))
    history = page[page.index('id="history"') :]
    assert "Client review: Request changes" in history
    assert "Completeness" in history
    assert "Please add the per-protocol population and forest plots." in history
    assert 'id="audit"' not in page


# -- no other tenant's data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "title", "foreign"),
    [
        ("alpha.manager", "Interim efficacy report", ("Northwind", "Ledger", "EU banks")),
        ("bio.analyst", "Safety signal memo", ("Northwind", "Ledger", "EU banks")),
        ("northwind.manager", "Q4 earnings model", ("Alpha", "Bio-Analytics", "Phase II")),
        ("ledger.analyst", "Q4 earnings model", ("Alpha", "Bio-Analytics", "Phase II")),
    ],
)
def test_no_page_shows_another_tenants_data(browser, deliverable, username, title, foreign):
    client = browser(username)
    pages = [
        client.get(detail_url(deliverable(title))),
        client.get(reverse("deliverables:list")),
        client.get(reverse("deliverables:knowledge")),
        client.get(reverse("deliverables:knowledge"), {"q": "report"}),
    ]
    for response in pages:
        assert response.status_code == 200
        page = html(response)
        for name in foreign:
            assert name not in page, (response.request["PATH_INFO"], name)
        assert_csp_clean(page)


# -- the deliverable list ----------------------------------------------------------------------


@pytest.mark.parametrize("username", EVERYONE)
def test_the_list_shows_what_each_role_may_see(browser, username):
    page = html(browser(username).get(reverse("deliverables:list")))
    assert ("Interim efficacy report" in page) == (username in SEES_PHASE_TWO)
    assert ("Q4 earnings model" in page) == (username in SEES_EU_BANKS)
    assert_csp_clean(page)


def test_the_list_filters_by_status_sla_and_due_range(browser, users):
    client = browser("alpha.manager")
    page = html(client.get(reverse("deliverables:list"), {"status": "in_review"}))
    assert "Interim efficacy report" in page
    assert "Safety signal memo" not in page

    page = html(client.get(reverse("deliverables:list"), {"sla_state": "breached"}))
    assert "Data cleaning log" in page
    assert "Safety signal memo" not in page

    soon = (timezone.now() + timedelta(days=2)).date().isoformat()
    page = html(client.get(reverse("deliverables:list"), {"due_before": soon}))
    assert "Safety signal memo" in page
    assert "Subgroup response analysis" not in page

    page = html(client.get(reverse("deliverables:list"), {"status": "nonsense"}))
    assert "Select a valid choice" in page


def test_my_deliverables_are_those_assigned_to_me(browser, deliverable, users):
    services.deliverable_update(
        actor=users["bio.lead"],
        deliverable=deliverable("Data cleaning log"),
        assignee=users["bio.lead"],
    )
    page = html(browser("bio.lead").get(reverse("deliverables:list"), {"mine": "1"}))
    assert "Data cleaning log" in page
    assert "Safety signal memo" not in page


# -- query counts ------------------------------------------------------------------------------


def count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


DETAIL_QUERY_BOUND = 12


@pytest.mark.parametrize("username", ["alpha.manager", "bio.analyst", "bio.lead", "alpha.viewer"])
def test_the_detail_page_costs_the_same_queries_however_long_its_lists(
    browser, deliverable, users, username
):
    """20 more versions (each with a QA review), 20 more comments and their audit events."""
    memo = deliverable("Safety signal memo")
    client = browser(username)
    url = detail_url(memo)
    client.get(url)  # content types and the like are cached from here on
    before = count_queries(client, url)

    analyst, qa = users["bio.analyst"], users["bio.qa"]
    for number in range(20):
        memo.refresh_from_db()
        services.deliverable_submit(actor=analyst, deliverable=memo, file=pdf(f"v{number}.pdf"))
        services.deliverable_qa(actor=qa, deliverable=memo, decision="return", comment="Again")
        services.comment_add(actor=qa, deliverable=memo, body=f"Comment {number}")
    assert Submission.objects.filter(deliverable=memo).count() == 20

    after = count_queries(client, url)
    assert after == before
    assert after <= DETAIL_QUERY_BOUND


def test_the_review_page_with_errors_costs_no_more_than_the_page(browser, deliverable):
    interim = deliverable("Interim efficacy report")
    client = browser("alpha.manager")
    client.get(detail_url(interim))
    page = count_queries(client, detail_url(interim))
    with CaptureQueriesContext(connection) as queries:
        response = post_review(client, interim, "accept", LOW)
    assert response.status_code == 400
    # The page, plus the service's look at the deliverable inside its (rolled back) work.
    assert len(queries) <= page + 8


def test_the_list_costs_the_same_queries_however_many_deliverables(browser, users, engagements):
    client = browser("alpha.manager")
    url = reverse("deliverables:list")
    client.get(url)
    before = count_queries(client, url)
    for number in range(25):
        services.deliverable_plan(
            actor=users["alpha.manager"],
            engagement=engagements.phase_two,
            title=f"Extra analysis {number}",
            due_at=timezone.now() + timedelta(days=30 + number),
            assignee=users["bio.analyst"],
        )
    assert Deliverable.objects.restrict(users["alpha.manager"]).count() > 20
    after = count_queries(client, url)
    assert after == before
    assert after <= 8
