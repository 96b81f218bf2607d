"""The engagement pages in the browser's terms: who gets 200, 403 or 404 on each page, what each
role is offered, what the forms do with good and bad input, and how many queries each page
costs.

Every demo user of shared/DEMO.md plays its role; anything a test needs beyond the demo is made
through the services, inside the test's own transaction.

Queries per page, the same on SQLite and PostgreSQL and the same before and after 20 more
rows in the page's list (drafts, deliverables, documents; five more teams with members for the
overview). Each is also the bound the query test asserts. Four of them are the layout's, on
every page: session, user, the header's unread count and the user's organisation; an admin's
pages take a fifth, the two-factor device their session was verified with.

| page                                 | as            | grows with              | queries |
|--------------------------------------|---------------|-------------------------|---------|
| engagements:list                     | alpha.manager | 20 more drafts          | 8       |
| engagements:detail (overview)        | alpha.manager | 5 more teams on it      | 9       |
| engagements:detail (overview)        | bio.admin     | 5 more teams on it      | 11      |
| engagements:detail ?tab=deliverables | alpha.manager | 20 more deliverables    | 8       |
| engagements:detail ?tab=documents    | alpha.manager | 20 more documents       | 7       |
| engagements:detail ?tab=activity     | alpha.manager | 20 more plans (events)  | 6       |
| engagements:create                   | alpha.manager | 20 more drafts          | 8       |
| engagements:edit                     | alpha.manager | 5 more teams on it      | 9       |
| engagements:audit_csv                | alpha.manager | 20 more plans (events)  | 8       |
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.models import Deliverable
from engagements import services
from engagements.choices import EngagementStatus
from engagements.models import Document, Engagement
from kpo.access import grants
from kpo.audit.models import AuditEvent
from tests.support import force_login_verified
from vendors.models import AnalystTeam, Provider, ServiceLine

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"

PHASE_TWO = "Phase II oncology trial analysis"
RWE = "Real-world evidence dashboard"
EU_BANKS = "EU banks equity coverage"

C_ADMIN, C_MANAGER, C_VIEWER = "alpha.admin", "alpha.manager", "alpha.viewer"
P_ADMIN, E_LEAD, ANALYST, QA = "bio.admin", "bio.lead", "bio.analyst", "bio.qa"
OUTSIDERS = ("bio.writer", "northwind.manager", "ledger.admin", "ledger.analyst")
EVERYONE = (C_ADMIN, C_MANAGER, C_VIEWER, P_ADMIN, E_LEAD, ANALYST, QA, *OUTSIDERS, "staff")

# Straight from shared/DEMO.md, not from the code under test.
VISIBLE = {
    C_ADMIN: {PHASE_TWO, RWE},
    C_MANAGER: {PHASE_TWO, RWE},
    C_VIEWER: {PHASE_TWO},
    P_ADMIN: {PHASE_TWO, RWE},
    E_LEAD: {PHASE_TWO},
    ANALYST: {PHASE_TWO},
    QA: {PHASE_TWO},
    "bio.writer": set(),
    "northwind.manager": {EU_BANKS},
    "ledger.admin": {EU_BANKS},
    "ledger.analyst": {EU_BANKS},
    "staff": {PHASE_TWO, RWE, EU_BANKS},
}
# The design's role table: who may change terms, read the audit trail, plan, upload.
MANAGE = {C_ADMIN, C_MANAGER, "northwind.manager"}
READ_AUDIT = {C_ADMIN, C_MANAGER, P_ADMIN, E_LEAD, "northwind.manager", "ledger.admin"}
PLAN = {C_ADMIN, C_MANAGER, E_LEAD, "northwind.manager"}
UPLOAD = {C_ADMIN, C_MANAGER, "northwind.manager"}
CREATE = {C_ADMIN, C_MANAGER, "northwind.manager"}
CLIENTS = {C_ADMIN, C_MANAGER, C_VIEWER, "northwind.manager"}
PROVIDER_NAMES = {"Ledger Research Partners", "Bio-Analytics"}

SCRIPT_WITHOUT_SRC = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def pdf(name="input.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def html(response) -> str:
    return response.content.decode()


def assert_csp_clean(response):
    """No inline script and no style attribute: the page works under a strict CSP."""
    text = html(response)
    assert not SCRIPT_WITHOUT_SRC.search(text), SCRIPT_WITHOUT_SRC.search(text).group(0)
    assert not STYLE_ATTRIBUTE.search(text), STYLE_ATTRIBUTE.search(text).group(0)


@pytest.fixture
def browser(users):
    """`browser("alpha.manager")`: a test client signed in as that demo user."""

    def sign_in(username):
        client = Client()
        force_login_verified(client, users[username])
        return client

    return sign_in


@pytest.fixture
def demo(engagements):
    by_title = {
        PHASE_TWO: lambda: engagements.phase_two,
        RWE: lambda: engagements.rwe,
        EU_BANKS: lambda: engagements.eu_banks,
    }
    return lambda title: by_title[title]()


def detail(engagement, tab=None):
    url = reverse("engagements:detail", args=[engagement.pk])
    return f"{url}?tab={tab}" if tab else url


def transition(engagement, action):
    return reverse("engagements:transition", args=[engagement.pk, action])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


# -- who gets what ------------------------------------------------------------------------


def _expected(username, title, page):
    if title not in VISIBLE[username]:
        return 404
    if page in ("activity", "audit_csv"):
        return 200 if username in READ_AUDIT else 403
    if page == "edit":
        return 200 if username in MANAGE else 403
    return 200


PAGES = ("overview", "deliverables", "documents", "activity", "edit", "audit_csv")


def _page_url(engagement, page):
    if page == "edit":
        return reverse("engagements:edit", args=[engagement.pk])
    if page == "audit_csv":
        return reverse("engagements:audit_csv", args=[engagement.pk])
    return detail(engagement, page)


@pytest.mark.parametrize("username", EVERYONE)
@pytest.mark.parametrize("title", [PHASE_TWO, RWE, EU_BANKS])
def test_each_engagement_page_answers_as_the_role_table_says(browser, demo, username, title):
    client = browser(username)
    engagement = demo(title)
    for page in PAGES:
        response = client.get(_page_url(engagement, page))
        assert response.status_code == _expected(username, title, page), (page, username)


def test_a_missing_engagement_is_a_404_like_a_foreign_one(browser):
    client = browser(C_MANAGER)
    assert client.get(reverse("engagements:detail", args=[987654])).status_code == 404
    assert client.get(reverse("engagements:edit", args=[987654])).status_code == 404


def test_northwinds_manager_gets_404_on_every_page_of_phase_two(browser, demo):
    phase_two = demo(PHASE_TWO)
    document = Document.objects.filter(engagement=phase_two).first()
    client = browser("northwind.manager")
    for page in PAGES:
        assert client.get(_page_url(phase_two, page)).status_code == 404, page
    posts = [
        transition(phase_two, "hold"),
        reverse("engagements:assign_lead", args=[phase_two.pk]),
        reverse("engagements:set_teams", args=[phase_two.pk]),
        reverse("engagements:grant_access", args=[phase_two.pk]),
        reverse("engagements:revoke_access", args=[phase_two.pk]),
        reverse("engagements:plan_deliverable", args=[phase_two.pk]),
        reverse("engagements:document_upload", args=[phase_two.pk]),
    ]
    for url in posts:
        assert client.post(url, {"title": "x"}).status_code == 404, url
    download = reverse("engagements:document_download", args=[document.pk])
    assert client.get(download).status_code == 404
    assert demo(PHASE_TWO).status == EngagementStatus.ACTIVE


def test_the_viewer_does_not_see_the_proposal_she_was_not_given(browser, demo):
    assert browser(C_VIEWER).get(detail(demo(RWE))).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(demo):
    response = Client().get(detail(demo(PHASE_TWO)))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("username", EVERYONE)
def test_the_list_shows_exactly_the_engagements_the_user_may_see(browser, demo, username):
    response = browser(username).get(reverse("engagements:list"))
    assert response.status_code == 200
    text = html(response)
    for title in (PHASE_TWO, RWE, EU_BANKS):
        engagement = demo(title)
        if title in VISIBLE[username]:
            assert title in text and engagement.reference in text, title
        else:
            assert title not in text and engagement.reference not in text, title


@pytest.mark.parametrize(
    ("username", "foreign"),
    [
        (C_MANAGER, (EU_BANKS, "Northwind", "Ledger Research Partners")),
        (P_ADMIN, (EU_BANKS, "Northwind", "Ledger Research Partners")),
        ("northwind.manager", (PHASE_TWO, RWE, "Alpha Pharmaceuticals", "Bio-Analytics")),
        ("ledger.analyst", (PHASE_TWO, RWE, "Alpha Pharmaceuticals", "Bio-Analytics")),
    ],
)
def test_no_page_shows_another_tenants_data(browser, demo, username, foreign):
    client = browser(username)
    own = [demo(title) for title in VISIBLE[username]]
    others = [demo(t) for t in (PHASE_TWO, RWE, EU_BANKS) if t not in VISIBLE[username]]
    pages = [reverse("engagements:list")]
    for engagement in own:
        pages += [detail(engagement, tab) for tab in ("overview", "deliverables", "documents")]
        if username in READ_AUDIT:
            pages.append(detail(engagement, "activity"))
    for url in pages:
        text = html(client.get(url))
        for name in foreign:
            if (
                name in PROVIDER_NAMES
                and url == reverse("engagements:list")
                and username in CLIENTS
            ):
                continue  # the provider filter lists every active provider, as the directory does
            assert name not in text, (url, name)
        for engagement in others:
            assert engagement.reference not in text, (url, engagement.reference)


# -- what each role is offered --------------------------------------------------------------


def test_new_engagement_is_offered_to_client_admins_and_managers_only(browser):
    create = reverse("engagements:create")
    for username in EVERYONE:
        text = html(browser(username).get(reverse("engagements:list")))
        assert (create in text) == (username in CREATE), username
        expected = 200 if username in CREATE else 403
        assert browser(username).get(create).status_code == expected, username


LIFECYCLE = ("propose", "accept", "decline", "hold", "resume", "complete", "terminate")


@pytest.mark.parametrize(
    ("username", "title", "offered"),
    [
        (C_MANAGER, PHASE_TWO, {"hold", "complete", "terminate"}),
        (C_ADMIN, PHASE_TWO, {"hold", "complete", "terminate"}),
        (C_VIEWER, PHASE_TWO, set()),
        (P_ADMIN, PHASE_TWO, set()),
        (E_LEAD, PHASE_TWO, set()),
        (ANALYST, PHASE_TWO, set()),
        (P_ADMIN, RWE, {"accept", "decline"}),
        (C_MANAGER, RWE, set()),
        ("northwind.manager", EU_BANKS, {"hold", "complete", "terminate"}),
    ],
)
def test_lifecycle_buttons_follow_role_and_state(browser, demo, username, title, offered):
    engagement = demo(title)
    text = html(browser(username).get(detail(engagement)))
    for action in LIFECYCLE:
        assert (transition(engagement, action) in text) == (action in offered), action


def test_a_draft_offers_propose_to_its_manager(browser, users):
    draft = services.engagement_create(
        actor=users[C_MANAGER],
        provider=Provider.objects.get(slug="bio-analytics"),
        service_line=ServiceLine.objects.get(slug="data_analytics"),
        title="Biomarker discovery",
    )
    text = html(browser(C_MANAGER).get(detail(draft)))
    assert transition(draft, "propose") in text
    assert transition(draft, "hold") not in text


def test_an_on_hold_engagement_offers_resume_not_hold(browser, demo, users):
    services.engagement_hold(actor=users[C_MANAGER], engagement=demo(PHASE_TWO))
    phase_two = demo(PHASE_TWO)
    text = html(browser(C_MANAGER).get(detail(phase_two)))
    assert transition(phase_two, "resume") in text
    assert transition(phase_two, "hold") not in text


@pytest.mark.parametrize(
    ("username", "edit", "lead", "teams", "share"),
    [
        (C_ADMIN, True, False, False, True),
        (C_MANAGER, True, False, False, True),
        (C_VIEWER, False, False, False, False),
        (P_ADMIN, False, True, True, False),
        (E_LEAD, False, False, True, False),
        (ANALYST, False, False, False, False),
        (QA, False, False, False, False),
    ],
)
def test_overview_forms_follow_the_role_table(browser, demo, username, edit, lead, teams, share):
    phase_two = demo(PHASE_TWO)
    text = html(browser(username).get(detail(phase_two)))
    pk = phase_two.pk
    assert (reverse("engagements:edit", args=[pk]) in text) == edit
    assert (reverse("engagements:assign_lead", args=[pk]) in text) == lead
    assert (reverse("engagements:set_teams", args=[pk]) in text) == teams
    assert (reverse("engagements:revoke_access", args=[pk]) in text) == share
    # People with access (client colleagues) are the client's own business.
    assert ("Ava Viewer" in text) == username.startswith("alpha.")


@pytest.mark.parametrize("username", [C_ADMIN, C_MANAGER, C_VIEWER, P_ADMIN, E_LEAD, ANALYST, QA])
def test_tab_forms_and_the_activity_tab_follow_the_role_table(browser, demo, username):
    phase_two = demo(PHASE_TWO)
    client = browser(username)
    plan_url = reverse("engagements:plan_deliverable", args=[phase_two.pk])
    upload_url = reverse("engagements:document_upload", args=[phase_two.pk])
    deliverables = html(client.get(detail(phase_two, "deliverables")))
    documents = html(client.get(detail(phase_two, "documents")))
    assert (plan_url in deliverables) == (username in PLAN)
    assert (upload_url in documents) == (username in UPLOAD)
    assert ("?tab=activity" in deliverables) == (username in READ_AUDIT)


def test_a_closed_engagement_offers_no_change(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    services.engagement_terminate(actor=users[C_MANAGER], engagement=phase_two)
    client = browser(C_MANAGER)
    text = html(client.get(detail(phase_two, "deliverables")))
    assert reverse("engagements:plan_deliverable", args=[phase_two.pk]) not in text
    assert reverse("engagements:edit", args=[phase_two.pk]) not in text
    response = client.get(reverse("engagements:edit", args=[phase_two.pk]), follow=True)
    assert "can no longer be changed" in html(response)


# -- lifecycle actions --------------------------------------------------------------------


def test_the_manager_puts_an_engagement_on_hold_with_a_reason(browser, demo):
    phase_two = demo(PHASE_TWO)
    response = browser(C_MANAGER).post(
        transition(phase_two, "hold"), {"reason": "Budget review", "next": detail(phase_two)}
    )
    assert response.status_code == 302
    assert response["Location"] == detail(phase_two)
    assert demo(PHASE_TWO).status == EngagementStatus.ON_HOLD
    event = AuditEvent.objects.filter(engagement=phase_two, action="engagement.hold").get()
    assert event.changes["reason"] == "Budget review"
    assert any("on hold" in message for message in messages_of(response))


def test_accepting_an_active_engagement_is_a_message_not_an_error(browser, demo):
    phase_two = demo(PHASE_TWO)
    client = browser(P_ADMIN)
    response = client.post(transition(phase_two, "accept"), {"next": detail(phase_two)})
    assert response.status_code == 302
    assert response["Location"] == detail(phase_two)
    assert messages_of(response) == ["Cannot accept an engagement that is active."]
    assert demo(PHASE_TWO).status == EngagementStatus.ACTIVE
    page = client.get(response["Location"])
    assert "Cannot accept an engagement that is active." in html(page)


def test_a_client_cannot_accept_its_own_proposal(browser, demo):
    rwe = demo(RWE)
    response = browser(C_MANAGER).post(transition(rwe, "accept"))
    assert response.status_code == 403
    assert demo(RWE).status == EngagementStatus.PROPOSED


def test_an_unknown_action_is_a_404_and_get_is_refused(browser, demo):
    phase_two = demo(PHASE_TWO)
    client = browser(C_MANAGER)
    assert client.post(transition(phase_two, "explode")).status_code == 404
    assert client.get(transition(phase_two, "hold")).status_code == 405


def test_the_provider_accepts_a_proposal(browser, demo):
    rwe = demo(RWE)
    response = browser(P_ADMIN).post(transition(rwe, "accept"))
    assert response["Location"] == detail(rwe)
    assert demo(RWE).status == EngagementStatus.ACTIVE


def test_a_declined_proposal_leaves_the_providers_sight_and_the_page_goes_to_the_list(
    browser, demo
):
    rwe = demo(RWE)
    response = browser(P_ADMIN).post(transition(rwe, "decline"), {"reason": "No capacity"})
    assert response["Location"] == reverse("engagements:list")
    assert demo(RWE).status == EngagementStatus.DRAFT


def test_completing_with_open_deliverables_says_why(browser, demo):
    phase_two = demo(PHASE_TWO)
    response = browser(C_MANAGER).post(transition(phase_two, "complete"))
    assert response.status_code == 302
    assert "still open" in messages_of(response)[0]
    assert demo(PHASE_TWO).status == EngagementStatus.ACTIVE


# -- staffing and sharing -----------------------------------------------------------------


def test_the_provider_admin_staffs_a_proposal(browser, demo, users):
    rwe = demo(RWE)
    client = browser(P_ADMIN)
    biostatistics = AnalystTeam.objects.get(name="Biostatistics")
    response = client.post(
        reverse("engagements:assign_lead", args=[rwe.pk]), {"lead": users[E_LEAD].pk}
    )
    assert response.status_code == 302
    response = client.post(
        reverse("engagements:set_teams", args=[rwe.pk]), {"teams": [biostatistics.pk]}
    )
    assert response.status_code == 302
    rwe = demo(RWE)
    assert rwe.provider_lead == users[E_LEAD]
    assert list(rwe.teams.all()) == [biostatistics]
    # The team's analyst sees the proposal at once.
    assert browser(ANALYST).get(detail(rwe)).status_code == 200


def test_a_lead_from_another_firm_is_refused_with_a_message(browser, demo, users):
    rwe = demo(RWE)
    response = browser(P_ADMIN).post(
        reverse("engagements:assign_lead", args=[rwe.pk]), {"lead": users["ledger.admin"].pk}
    )
    assert response.status_code == 302
    assert messages_of(response)
    assert demo(RWE).provider_lead is None


@pytest.mark.parametrize(
    ("username", "url_name", "status"),
    [
        (E_LEAD, "set_teams", 302),
        (E_LEAD, "assign_lead", 403),
        (ANALYST, "set_teams", 403),
        (C_MANAGER, "assign_lead", 403),
        (C_MANAGER, "set_teams", 403),
        (C_VIEWER, "grant_access", 403),
        (P_ADMIN, "grant_access", 403),
    ],
)
def test_staffing_and_sharing_are_refused_to_other_roles(browser, demo, username, url_name, status):
    phase_two = demo(PHASE_TWO)
    team = AnalystTeam.objects.get(name="Biostatistics")
    data = {"teams": [team.pk], "lead": "", "user": ""}
    response = browser(username).post(reverse(f"engagements:{url_name}", args=[phase_two.pk]), data)
    assert response.status_code == status


def test_the_manager_shares_and_unshares_an_engagement(browser, demo, users):
    rwe = demo(RWE)
    viewer = users[C_VIEWER]
    client = browser(C_MANAGER)
    response = client.post(reverse("engagements:grant_access", args=[rwe.pk]), {"user": viewer.pk})
    assert response.status_code == 302
    assert browser(C_VIEWER).get(detail(rwe)).status_code == 200
    response = client.post(reverse("engagements:revoke_access", args=[rwe.pk]), {"user": viewer.pk})
    assert response.status_code == 302
    assert browser(C_VIEWER).get(detail(rwe)).status_code == 404


def test_the_managers_own_access_cannot_be_withdrawn(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    manager = users[C_MANAGER]
    response = browser(C_ADMIN).post(
        reverse("engagements:revoke_access", args=[phase_two.pk]), {"user": manager.pk}
    )
    assert response.status_code == 302
    assert "keeps access" in messages_of(response)[0]
    assert grants.user_is_granted(phase_two, manager)


# -- the terms form -----------------------------------------------------------------------


def _terms(**overrides):
    values = {
        "title": "Biomarker discovery",
        "brief": "Which biomarkers predict response?",
        "service_line": ServiceLine.objects.get(slug="clinical_data_analysis").pk,
        "provider": Provider.objects.get(slug="bio-analytics").pk,
        "confidentiality": "confidential",
        "start_date": "2027-01-04",
        "end_date": "2027-06-30",
        "budget": "50000.00",
        "currency": "eur",
        "pricing_model": "fixed_fee",
        "client_manager": "",
        "qa_required": "on",
        "reminder_lead_hours": "24",
        "review_turnaround_hours": "72",
        "quality_threshold": "3.5",
    }
    return values | overrides


def test_the_manager_creates_a_draft(browser, users):
    response = browser(C_MANAGER).post(reverse("engagements:create"), _terms())
    engagement = Engagement.objects.get(title="Biomarker discovery")
    assert response.status_code == 302
    assert response["Location"] == detail(engagement)
    assert engagement.status == EngagementStatus.DRAFT
    assert engagement.client_manager == users[C_MANAGER]
    assert engagement.currency == "EUR"
    assert AuditEvent.objects.filter(engagement=engagement, action="engagement.create").exists()


def test_a_bad_form_keeps_what_was_typed_and_says_what_is_wrong_next_to_each_field(browser):
    data = _terms(
        title="Keep this title",
        end_date="2026-12-01",
        start_date="2027-01-04",
        currency="dollars",
        quality_threshold="7",
        reminder_lead_hours="0",
    )
    response = browser(C_MANAGER).post(reverse("engagements:create"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["end_date"] == ["The end date cannot be before the start date."]
    assert "currency" in form.errors
    assert "quality_threshold" in form.errors
    assert "reminder_lead_hours" in form.errors
    text = html(response)
    assert 'value="Keep this title"' in text
    assert 'id="id_end_date_error"' in text
    assert not Engagement.objects.filter(title="Keep this title").exists()
    assert_csp_clean(response)


def test_a_service_rule_is_shown_next_to_its_field(browser):
    data = _terms(service_line=ServiceLine.objects.get(slug="equity_research").pk)
    response = browser(C_MANAGER).post(reverse("engagements:create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["service_line"] == [
        "Bio-Analytics Solutions does not offer Equity research."
    ]
    assert 'id="id_service_line_error"' in html(response)


def test_the_manager_edits_the_terms(browser, demo):
    phase_two = demo(PHASE_TWO)
    client = browser(C_MANAGER)
    form = client.get(reverse("engagements:edit", args=[phase_two.pk])).context["form"]
    data = {
        name: ("on" if value is True else "" if value in (None, False) else value)
        for name, value in form.initial.items()
    }
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    data |= {"title": "Phase II oncology trial analysis (extended)", "budget": "260000.00"}
    response = client.post(reverse("engagements:edit", args=[phase_two.pk]), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    phase_two = Engagement.objects.get(pk=phase_two.pk)
    assert phase_two.title == "Phase II oncology trial analysis (extended)"
    event = AuditEvent.objects.filter(engagement=phase_two, action="engagement.update").get()
    assert set(event.changes) == {"title", "budget"}


def test_the_provider_of_a_proposed_engagement_cannot_be_changed_from_the_form(browser, demo):
    rwe = demo(RWE)
    client = browser(C_MANAGER)
    form = client.get(reverse("engagements:edit", args=[rwe.pk])).context["form"]
    assert form.fields["provider"].disabled
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in form.initial.items()}
    data = {k: ("on" if v is True else "" if v in (None, False) else v) for k, v in data.items()}
    data["provider"] = Provider.objects.get(slug="lexpoint").pk
    response = client.post(reverse("engagements:edit", args=[rwe.pk]), data)
    assert response.status_code == 302
    assert demo(RWE).provider.slug == "bio-analytics"


# -- planning deliverables ----------------------------------------------------------------


def test_the_manager_plans_a_deliverable(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    due = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    response = browser(C_MANAGER).post(
        reverse("engagements:plan_deliverable", args=[phase_two.pk]),
        {
            "title": "Biomarker appendix",
            "kind": "report",
            "due_at": due,
            "assignee": users[ANALYST].pk,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == detail(phase_two, "deliverables")
    deliverable = Deliverable.objects.get(title="Biomarker appendix")
    assert deliverable.assignee == users[ANALYST]
    assert AuditEvent.objects.filter(action="deliverable.plan", target_id=deliverable.pk).exists()


def test_a_bad_plan_keeps_its_input_and_names_the_problem(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    response = browser(C_MANAGER).post(
        reverse("engagements:plan_deliverable", args=[phase_two.pk]),
        {
            "title": "Half typed",
            "kind": "report",
            "due_at": "next tuesday",
            "assignee": users["ledger.analyst"].pk,
        },
    )
    assert response.status_code == 400
    errors = response.context["plan_form"].errors
    assert set(errors) == {"due_at", "assignee"}
    text = html(response)
    assert 'value="Half typed"' in text
    assert 'id="id_due_at_error"' in text
    assert not Deliverable.objects.filter(title="Half typed").exists()


@pytest.mark.parametrize(("username", "status"), [(ANALYST, 403), (C_VIEWER, 403), (P_ADMIN, 403)])
def test_planning_is_refused_to_roles_that_may_not_plan(browser, demo, username, status):
    phase_two = demo(PHASE_TWO)
    due = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    url = reverse("engagements:plan_deliverable", args=[phase_two.pk])
    response = browser(username).post(url, {"title": "Sneaky", "kind": "memo", "due_at": due})
    assert response.status_code == status
    assert not Deliverable.objects.filter(title="Sneaky").exists()


def test_the_lead_plans_on_the_provider_side(browser, demo):
    phase_two = demo(PHASE_TWO)
    due = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = browser(E_LEAD).post(
        reverse("engagements:plan_deliverable", args=[phase_two.pk]),
        {"title": "QC checklist", "kind": "memo", "due_at": due},
    )
    assert response.status_code == 302
    assert Deliverable.objects.filter(title="QC checklist", engagement=phase_two).exists()


def test_a_stale_plan_or_upload_on_a_closed_engagement_is_a_message(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    client = browser(C_MANAGER)
    client.get(detail(phase_two, "deliverables"))  # the page is open in another tab...
    services.engagement_terminate(actor=users[C_ADMIN], engagement=phase_two)  # ...meanwhile
    due = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("engagements:plan_deliverable", args=[phase_two.pk]),
        {"title": "Late idea", "kind": "memo", "due_at": due},
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Cannot plan deliverables in a terminated engagement."]
    assert not Deliverable.objects.filter(title="Late idea").exists()
    response = client.post(
        reverse("engagements:document_upload", args=[phase_two.pk]),
        {"file": pdf(), "classification": "internal"},
    )
    assert response.status_code == 302
    assert "The data room of a terminated engagement is closed." in messages_of(response)


# -- data room ----------------------------------------------------------------------------


def test_the_manager_uploads_and_the_analyst_downloads(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    response = browser(C_MANAGER).post(
        reverse("engagements:document_upload", args=[phase_two.pk]),
        {"file": pdf("Lab manual.pdf"), "title": "", "classification": "restricted"},
    )
    assert response.status_code == 302
    document = Document.objects.get(filename="Lab manual.pdf")
    assert document.title == "Lab manual.pdf"
    assert document.classification == "restricted"

    response = browser(ANALYST).get(reverse("engagements:document_download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(
        action="document.download", actor=users[ANALYST], target_id=document.pk
    ).exists()


def test_a_refused_file_is_explained_next_to_the_file_field(browser, demo):
    phase_two = demo(PHASE_TWO)
    before = Document.objects.count()
    fake = SimpleUploadedFile("run.exe", b"MZ\x90\x00 not a document", "application/octet-stream")
    response = browser(C_MANAGER).post(
        reverse("engagements:document_upload", args=[phase_two.pk]),
        {"file": fake, "title": "Keep me", "classification": "internal"},
    )
    assert response.status_code == 400
    assert response.context["upload_form"].errors["file"]
    text = html(response)
    assert 'id="id_file_error"' in text
    assert 'value="Keep me"' in text
    assert Document.objects.count() == before


def test_providers_do_not_upload_to_the_data_room(browser, demo):
    phase_two = demo(PHASE_TWO)
    response = browser(E_LEAD).post(
        reverse("engagements:document_upload", args=[phase_two.pk]),
        {"file": pdf(), "classification": "internal"},
    )
    assert response.status_code == 403


# -- activity and its export --------------------------------------------------------------


def test_the_csv_export_holds_only_this_engagements_events_and_is_audited(browser, demo, users):
    phase_two, eu_banks = demo(PHASE_TWO), demo(EU_BANKS)
    response = browser(C_MANAGER).get(reverse("engagements:audit_csv", args=[phase_two.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert phase_two.reference in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "time", "actor", "action"]
    ids = {int(row[0]) for row in rows[1:]}
    own = set(AuditEvent.objects.filter(engagement=phase_two).values_list("pk", flat=True))
    foreign = set(AuditEvent.objects.filter(engagement=eu_banks).values_list("pk", flat=True))
    assert ids and ids <= own
    assert not ids & foreign
    assert "EU banks" not in "".join(",".join(row) for row in rows)
    export = AuditEvent.objects.get(action="engagement.audit_export", engagement=phase_two)
    assert export.actor == users[C_MANAGER]
    assert export.pk in ids


def test_csv_cells_are_not_read_as_formulas(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    deliverable_services.deliverable_plan(
        actor=users[C_MANAGER],
        engagement=phase_two,
        title='=HYPERLINK("http://evil")',
        due_at=timezone.now() + timedelta(days=5),
    )
    response = browser(C_MANAGER).get(reverse("engagements:audit_csv", args=[phase_two.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    column = rows[0].index("object")
    objects = [row[column] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in objects
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_the_activity_tab_pages_by_keyset(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    for number in range(60):
        deliverable_services.deliverable_plan(
            actor=users[C_MANAGER],
            engagement=phase_two,
            title=f"Table {number:02}",
            due_at=timezone.now() + timedelta(days=30),
        )
    client = browser(C_MANAGER)
    first = client.get(detail(phase_two, "activity"))
    assert len(first.context["events"]) == 50
    older = first.context["older_url"]
    assert older
    second = client.get(older)
    assert second.status_code == 200
    assert second.context["events"][0].pk < first.context["events"][-1].pk
    assert second.context["newer_url"]


# -- htmx partials and strict CSP ----------------------------------------------------------


def test_tabs_load_as_fragments_over_htmx(browser, demo):
    phase_two = demo(PHASE_TWO)
    response = browser(C_MANAGER).get(
        detail(phase_two, "deliverables"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="engagement-tabs"
    )
    text = html(response)
    assert response.status_code == 200
    assert "<html" not in text
    assert 'id="engagement-tabs"' in text
    assert "Statistical analysis plan" in text
    assert "HX-Request" in response["Vary"]


def test_the_list_filters_over_htmx_return_only_the_results(browser):
    response = browser(C_MANAGER).get(
        reverse("engagements:list") + "?status=proposed",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="engagement-results",
    )
    text = html(response)
    assert "<html" not in text
    assert RWE in text and PHASE_TWO not in text


def test_filters_narrow_the_list(browser):
    client = browser(C_MANAGER)
    by_status = html(client.get(reverse("engagements:list") + "?status=active"))
    assert PHASE_TWO in by_status and RWE not in by_status
    by_line = html(client.get(reverse("engagements:list") + "?service_line=data_analytics"))
    assert RWE in by_line and PHASE_TWO not in by_line
    nothing = html(client.get(reverse("engagements:list") + "?status=completed"))
    assert "No engagements match these filters" in nothing
    bogus = client.get(reverse("engagements:list") + "?status=bogus")
    assert bogus.status_code == 200


@pytest.mark.parametrize("username", [C_MANAGER, P_ADMIN, C_VIEWER])
def test_every_engagement_page_is_free_of_inline_script_and_style(browser, demo, username):
    client = browser(username)
    phase_two = demo(PHASE_TWO)
    urls = [
        reverse("engagements:list"),
        *(detail(phase_two, tab) for tab in ("overview", "deliverables", "documents")),
    ]
    if username in READ_AUDIT:
        urls.append(detail(phase_two, "activity"))
    if username in MANAGE:
        urls += [reverse("engagements:create"), reverse("engagements:edit", args=[phase_two.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_csp_clean(response)


# -- queries ------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


def _more_drafts(users, count=20):
    manager = users[C_MANAGER]
    for number in range(count):
        services.engagement_create(
            actor=manager,
            provider=Provider.objects.get(slug="bio-analytics"),
            service_line=ServiceLine.objects.get(slug="data_analytics"),
            title=f"Dashboard {number:02}",
        )


def _more_deliverables(users, engagement, count=20):
    for number in range(count):
        deliverable_services.deliverable_plan(
            actor=users[C_MANAGER],
            engagement=engagement,
            title=f"Table {number:02}",
            due_at=timezone.now() + timedelta(days=20 + number),
            assignee=users[ANALYST],
        )


def _more_documents(users, engagement, count=20):
    for number in range(count):
        services.document_upload(
            actor=users[C_MANAGER], engagement=engagement, file=pdf(f"extract-{number}.pdf")
        )


def _more_access(users, engagement):
    """More teams (with members) on the engagement and more grants on it."""
    admin = users[P_ADMIN]
    from vendors import services as vendor_services

    for number in range(5):
        team = vendor_services.team_create(
            actor=admin, name=f"Pod {number}", members=[users[ANALYST], users[QA]]
        )
        services.engagement_assign_team(actor=admin, engagement=engagement, team=team)


PAGE_BUDGETS = [
    # (page, user, url of Phase II, what grows, the bound asserted)
    ("list", C_MANAGER, lambda e: reverse("engagements:list"), "drafts", 8),
    ("overview", C_MANAGER, lambda e: detail(e), "access", 9),
    ("overview", P_ADMIN, lambda e: detail(e), "access", 11),
    ("deliverables", C_MANAGER, lambda e: detail(e, "deliverables"), "deliverables", 8),
    ("documents", C_MANAGER, lambda e: detail(e, "documents"), "documents", 7),
    ("activity", C_MANAGER, lambda e: detail(e, "activity"), "deliverables", 6),
    ("create", C_MANAGER, lambda e: reverse("engagements:create"), "drafts", 8),
    ("edit", C_MANAGER, lambda e: reverse("engagements:edit", args=[e.pk]), "access", 9),
    (
        "audit_csv",
        C_MANAGER,
        lambda e: reverse("engagements:audit_csv", args=[e.pk]),
        "deliverables",
        8,
    ),
]


@pytest.mark.parametrize(
    ("page", "username", "url", "grow", "bound"),
    PAGE_BUDGETS,
    ids=[f"{row[0]}-{row[1]}" for row in PAGE_BUDGETS],
)
def test_each_page_costs_the_same_queries_however_long_its_lists(
    browser, demo, users, page, username, url, grow, bound
):
    phase_two = demo(PHASE_TWO)
    client = browser(username)
    count_queries(client, url(phase_two))  # warm caches (content types, sessions)
    before = count_queries(client, url(phase_two))
    {
        "drafts": lambda: _more_drafts(users),
        "deliverables": lambda: _more_deliverables(users, phase_two),
        "documents": lambda: _more_documents(users, phase_two),
        "access": lambda: _more_access(users, phase_two),
    }[grow]()
    after = count_queries(client, url(demo(PHASE_TWO)))
    assert before == after, (page, before, after)
    assert after <= bound, (page, after)


def test_the_timeline_shows_every_planned_deliverable_in_due_order(browser, demo, users):
    phase_two = demo(PHASE_TWO)
    _more_deliverables(users, phase_two, count=3)
    page = browser(C_MANAGER).get(detail(phase_two, "deliverables")).context["page"]
    due = [deliverable.due_at for deliverable in page.object_list]
    assert due == sorted(due)
    assert page.paginator.count == Deliverable.objects.filter(engagement=phase_two).count()
