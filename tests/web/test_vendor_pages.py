"""The provider pages: the directory, scorecards with their charts, the side-by-side comparison,
a client's vendor approvals and a provider's analyst teams.

Every demo user of shared/DEMO.md plays its role; anything beyond the demo is made through the
services (providers and users have no service: platform staff create them in the admin, so the
few tests that need more of them write those rows directly).

Queries per page, the same on SQLite and PostgreSQL and the same before and after its list grows
(each is also the bound the query test asserts; four are the layout's on every page: session,
user, the header's unread count and the user's organisation; and these users are admins, whose
pages take one more, the two-factor device their session was verified with):

| page                    | as          | grows with                                 | queries |
|-------------------------|-------------|--------------------------------------------|---------|
| vendors:directory       | alpha.admin | 20 more providers with certificates        | 9       |
| vendors:scorecard       | alpha.admin | 20 more deliverables, 10 of them accepted  | 10      |
| vendors:compare (2)     | alpha.admin | 20 more deliverables, 10 of them accepted  | 11      |
| vendors:approvals       | alpha.admin | 20 more providers assessed                 | 10      |
| vendors:approval_create | alpha.admin | 20 more providers                          | 6       |
| vendors:approval_edit   | alpha.admin | 20 more providers assessed                 | 6       |
| vendors:teams           | bio.admin   | 20 more teams with lead and members        | 12      |
| vendors:team_edit       | bio.admin   | 20 more analysts in the team               | 13      |

The comparison costs three grouped queries per provider compared (its scorecard) and compares
at most four, so it stays under 16.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables import services as deliverable_services
from kpo.accounts.choices import Role
from kpo.audit.models import AuditEvent
from tests.support import force_login_verified
from vendors import charts
from vendors import services as vendor_services
from vendors.models import AnalystTeam, Certification, Provider, ServiceLine, VendorApproval
from vendors.selectors import provider_scorecard

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
SCORES = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}

C_ADMIN, C_MANAGER, C_VIEWER = "alpha.admin", "alpha.manager", "alpha.viewer"
P_ADMIN, E_LEAD, ANALYST, QA = "bio.admin", "bio.lead", "bio.analyst", "bio.qa"
EVERYONE = (
    C_ADMIN,
    C_MANAGER,
    C_VIEWER,
    P_ADMIN,
    E_LEAD,
    ANALYST,
    QA,
    "bio.writer",
    "northwind.manager",
    "ledger.admin",
    "ledger.analyst",
    "staff",
)
CLIENT_USERS = {C_ADMIN, C_MANAGER, C_VIEWER, "northwind.manager"}
PROVIDER_OF = {
    P_ADMIN: "bio-analytics",
    E_LEAD: "bio-analytics",
    ANALYST: "bio-analytics",
    QA: "bio-analytics",
    "bio.writer": "bio-analytics",
    "ledger.admin": "ledger-research",
    "ledger.analyst": "ledger-research",
}
CLIENT_ADMINS = {C_ADMIN}
PROVIDER_ADMINS = {P_ADMIN, "ledger.admin"}

SCRIPT_WITHOUT_SRC = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def html(response) -> str:
    return response.content.decode()


def assert_csp_clean(response):
    text = html(response)
    assert not SCRIPT_WITHOUT_SRC.search(text), SCRIPT_WITHOUT_SRC.search(text).group(0)
    assert not STYLE_ATTRIBUTE.search(text), STYLE_ATTRIBUTE.search(text).group(0)
    assert "<style" not in text.lower()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.fixture
def browser(users):
    def sign_in(username):
        client = Client()
        force_login_verified(client, users[username])
        return client

    return sign_in


def provider(slug):
    return Provider.objects.get(slug=slug)


def team(name):
    return AnalystTeam.objects.get(name=name)


def approval(client_slug, provider_slug):
    return VendorApproval.objects.get(client__slug=client_slug, provider__slug=provider_slug)


def scorecard_url(slug):
    return reverse("vendors:scorecard", args=[provider(slug).pk])


# -- who gets what ------------------------------------------------------------------------


@pytest.mark.parametrize("username", EVERYONE)
def test_each_provider_page_answers_as_the_role_table_says(browser, username):
    client = browser(username)
    assert client.get(reverse("vendors:directory")).status_code == 200

    for slug in ("bio-analytics", "ledger-research", "lexpoint"):
        own_firm = PROVIDER_OF.get(username) == slug
        expected = 200 if username in CLIENT_USERS or own_firm or username == "staff" else 404
        assert client.get(scorecard_url(slug)).status_code == expected, slug

    admin_only = 200 if username in CLIENT_ADMINS else 403
    assert client.get(reverse("vendors:compare")).status_code == admin_only
    assert client.get(reverse("vendors:approvals")).status_code == admin_only
    assert client.get(reverse("vendors:approval_create")).status_code == admin_only
    own = approval("alpha-pharma", "bio-analytics")
    assert client.get(reverse("vendors:approval_edit", args=[own.pk])).status_code == admin_only

    teams_page = 200 if username in PROVIDER_ADMINS else 403
    assert client.get(reverse("vendors:teams")).status_code == teams_page
    biostatistics = reverse("vendors:team_edit", args=[team("Biostatistics").pk])
    if username == P_ADMIN:
        expected = 200
    elif PROVIDER_OF.get(username) == "bio-analytics":
        expected = 403  # their own firm's team, which only the provider admin manages
    else:
        expected = 404
    assert client.get(biostatistics).status_code == expected


def test_another_clients_approval_is_not_found(browser):
    northwind = approval("northwind", "ledger-research")
    response = browser(C_ADMIN).get(reverse("vendors:approval_edit", args=[northwind.pk]))
    assert response.status_code == 404
    response = browser(C_ADMIN).post(
        reverse("vendors:approval_edit", args=[northwind.pk]),
        {"status": "rejected", "risk_tier": "high"},
    )
    assert response.status_code == 404
    assert approval("northwind", "ledger-research").status == "approved"


def test_another_providers_team_is_not_found(browser):
    eu_banks = team("EU Banks")
    response = browser(P_ADMIN).post(
        reverse("vendors:team_edit", args=[eu_banks.pk]),
        {"operation": "rename", "rename-name": "X"},
    )
    assert response.status_code == 404
    assert team("EU Banks").name == "EU Banks"


# -- no other tenant's data ---------------------------------------------------------------


def test_the_directory_shows_only_the_users_own_assessments(browser):
    text = html(browser(C_ADMIN).get(reverse("vendors:directory")))
    # Alpha's Ledger assessment is pending; Northwind's approval of Ledger is not Alpha's business.
    ledger_row = text[text.index("Ledger Research Partners") :]
    ledger_row = ledger_row[: ledger_row.index("</tr>")]
    assert "Pending" in ledger_row and "Approved" not in ledger_row
    assert "Northwind" not in text


def test_a_provider_user_sees_only_their_own_firm(browser):
    text = html(browser("ledger.admin").get(reverse("vendors:directory")))
    assert "Ledger Research Partners" in text
    assert "Bio-Analytics" not in text and "LexPoint" not in text


def test_a_scorecard_is_computed_only_from_the_users_engagements(browser, engagements):
    text = html(browser(C_ADMIN).get(scorecard_url("ledger-research")))
    assert engagements.eu_banks.reference not in text
    assert "EU banks" not in text
    assert "No engagements you can see" in text
    northwind = html(browser("northwind.manager").get(scorecard_url("ledger-research")))
    assert engagements.eu_banks.reference in northwind


def test_a_big_scorecard_lists_only_the_busiest_engagements_but_counts_them_all(
    browser, engagements, monkeypatch
):
    monkeypatch.setattr("vendors.views.SCORECARD_ENGAGEMENTS_SHOWN", 1)
    text = html(browser(C_ADMIN).get(scorecard_url("bio-analytics")))
    card = provider_scorecard(
        get_user_model().objects.get(username=C_ADMIN), provider("bio-analytics")
    )
    total = len(card["by_engagement"])
    assert total > 1
    assert f"The 1 with the most delivered work, of {total}" in text
    busiest = max(card["by_engagement"], key=lambda row: row["deliverables_delivered"])
    listed = [row["reference"] for row in card["by_engagement"] if row["reference"] in text]
    assert listed == [busiest["reference"]]


def test_the_teams_page_shows_only_the_own_firms_teams(browser):
    text = html(browser("ledger.admin").get(reverse("vendors:teams")))
    assert "EU Banks" in text
    assert "Biostatistics" not in text and "Bina Analyst" not in text


def test_the_approvals_page_shows_only_the_own_clients_verdicts(browser):
    text = html(browser(C_ADMIN).get(reverse("vendors:approvals")))
    assert "Northwind" not in text
    for own in ("bio-analytics", "ledger-research"):
        assert reverse("vendors:approval_edit", args=[approval("alpha-pharma", own).pk]) in text
    northwind = approval("northwind", "ledger-research")
    assert reverse("vendors:approval_edit", args=[northwind.pk]) not in text


# -- scorecards and charts ----------------------------------------------------------------


def test_the_scorecard_shows_the_selectors_figures_and_two_charts(browser, users):
    client = browser(C_MANAGER)
    response = client.get(scorecard_url("bio-analytics"))
    assert response.status_code == 200
    card = response.context["card"]
    assert card == provider_scorecard(users[C_MANAGER], provider("bio-analytics"))
    text = html(response)
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg"') >= 2
    assert 'role="img"' in text
    assert "4.40" in text  # the accepted plan's overall score
    assert_csp_clean(response)


def test_pygal_output_carries_no_script_style_or_style_attribute():
    months = [
        {
            "month": timezone.localdate().replace(day=1),
            "delivered": 2,
            "accepted": 1,
            "on_time_rate": 0.5,
            "average_quality": 4.2,
        },
    ]
    rows = [
        {
            "reference": "ENG-1",
            "deliverables_delivered": 2,
            "on_time_rate": 1.0,
            "average_quality": 3.5,
        }
    ]
    for svg in (charts.over_time_chart(months), charts.per_engagement_chart(rows)):
        assert svg.startswith("<svg")
        assert "<script" not in svg and "<style" not in svg
        assert not re.search(r"\sstyle=", svg)
        assert 'id=""' not in svg


def test_monthly_figures_are_one_grouped_query_that_agrees_with_the_scorecard(users):
    user, bio = users[C_MANAGER], provider("bio-analytics")
    with CaptureQueriesContext(connection) as queries:
        months = charts.monthly_figures(user, bio)
    assert len(queries) == 1
    card = provider_scorecard(user, bio)
    assert sum(m["delivered"] for m in months) == card["deliverables_delivered"]
    accepted = [m for m in months if m["accepted"]]
    assert accepted and accepted[-1]["average_quality"] == card["average_quality"]


def test_a_provider_with_nothing_delivered_has_no_chart_but_says_so(browser):
    response = browser(C_ADMIN).get(scorecard_url("lexpoint"))
    assert response.context["over_time_chart"] == ""
    assert response.context["per_engagement_chart"] == ""
    text = html(response)
    assert 'role="img"' not in text
    assert "No engagements you can see" in text


# -- comparison -----------------------------------------------------------------------------


def test_the_client_admin_compares_providers_side_by_side(browser):
    bio, ledger = provider("bio-analytics"), provider("ledger-research")
    response = browser(C_ADMIN).get(reverse("vendors:compare"), {"providers": [bio.pk, ledger.pk]})
    assert response.status_code == 200
    assert [p for p, _card in response.context["scorecards"]] == [bio, ledger]
    text = html(response)
    assert "Side by side" in text and '<svg xmlns="http://www.w3.org/2000/svg"' in text
    assert "EU banks" not in text
    assert_csp_clean(response)


def test_the_comparison_starts_with_the_assessed_providers(browser):
    response = browser(C_ADMIN).get(reverse("vendors:compare"))
    names = [p.slug for p, _card in response.context["scorecards"]]
    assert names == ["bio-analytics", "ledger-research"]


def test_comparing_more_than_four_or_unknown_providers_is_a_form_error(browser):
    lines = list(ServiceLine.objects.all()[:1])
    extra = []
    for number in range(3):
        firm = Provider.objects.create(name=f"Firm {number}", slug=f"firm-{number}", country="DE")
        firm.service_lines.set(lines)
        extra.append(firm.pk)
    ids = [
        *Provider.objects.filter(slug__in=["bio-analytics", "ledger-research"]).values_list(
            "pk", flat=True
        ),
        *extra,
    ]
    response = browser(C_ADMIN).get(reverse("vendors:compare"), {"providers": ids})
    assert response.status_code == 400
    assert "at most 4" in response.context["form"].errors["providers"][0]
    response = browser(C_ADMIN).get(reverse("vendors:compare"), {"providers": ["abc"]})
    assert response.status_code == 400


# -- vendor approvals ---------------------------------------------------------------------


def test_the_client_admin_records_an_assessment(browser, users):
    lexpoint = provider("lexpoint")
    response = browser(C_ADMIN).post(
        reverse("vendors:approval_create"),
        {
            "provider": lexpoint.pk,
            "status": "conditional",
            "risk_tier": "high",
            "assessed_on": "2026-11-01",
            "expires_on": "2027-11-01",
            "notes": "Pen test findings open.",
        },
    )
    assert response.status_code == 302
    recorded = approval("alpha-pharma", "lexpoint")
    assert (recorded.status, recorded.risk_tier) == ("conditional", "high")
    assert recorded.decided_by == users[C_ADMIN]
    assert AuditEvent.objects.filter(action="vendor_approval.create").exists()


def test_a_bad_assessment_keeps_its_input_and_names_the_field(browser):
    response = browser(C_ADMIN).post(
        reverse("vendors:approval_create"),
        {
            "provider": provider("lexpoint").pk,
            "status": "approved",
            "risk_tier": "low",
            "assessed_on": "2026-11-01",
            "expires_on": "2026-10-01",
            "notes": "Keep these notes",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["expires_on"] == [
        "An approval cannot expire before it was assessed."
    ]
    text = html(response)
    assert "Keep these notes" in text and 'id="id_expires_on_error"' in text
    assert not VendorApproval.objects.filter(provider__slug="lexpoint").exists()


def test_an_already_assessed_provider_is_not_offered_again(browser):
    response = browser(C_ADMIN).post(
        reverse("vendors:approval_create"),
        {"provider": provider("bio-analytics").pk, "status": "rejected", "risk_tier": "high"},
    )
    assert response.status_code == 400
    assert "provider" in response.context["form"].errors
    assert approval("alpha-pharma", "bio-analytics").status == "approved"


def test_the_client_admin_updates_an_assessment(browser):
    pending = approval("alpha-pharma", "ledger-research")
    response = browser(C_ADMIN).post(
        reverse("vendors:approval_edit", args=[pending.pk]),
        {
            "status": "approved",
            "risk_tier": "medium",
            "assessed_on": "2026-11-20",
            "expires_on": "2027-11-20",
            "notes": "",
        },
    )
    assert response.status_code == 302
    assert approval("alpha-pharma", "ledger-research").status == "approved"
    event = AuditEvent.objects.filter(action="vendor_approval.update").latest("id")
    assert event.changes["status"] == ["pending", "approved"]


def test_approval_forms_are_refused_to_everyone_but_the_client_admin(browser):
    for username in (C_MANAGER, C_VIEWER, P_ADMIN):
        response = browser(username).post(
            reverse("vendors:approval_create"),
            {"provider": provider("lexpoint").pk, "status": "approved", "risk_tier": "low"},
        )
        assert response.status_code == 403, username
    assert not VendorApproval.objects.filter(provider__slug="lexpoint").exists()


def test_expired_certificates_and_approvals_are_flagged(browser, users):
    bio = provider("bio-analytics")
    today = timezone.localdate()
    vendor_services.certification_add(
        actor=users[P_ADMIN],
        provider=bio,
        kind="hipaa",
        issued_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=2),
    )
    vendor_services.vendor_approval_update(
        actor=users[C_ADMIN],
        approval=approval("alpha-pharma", "bio-analytics"),
        assessed_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=1),
    )
    text = html(browser(C_ADMIN).get(reverse("vendors:approvals")))
    assert "Expired" in text and "Not in force" in text


# -- analyst teams --------------------------------------------------------------------------


def test_the_teams_page_shows_lead_members_and_load(browser):
    response = browser(P_ADMIN).get(reverse("vendors:teams"))
    teams = {t.name: t for t in response.context["teams"]}
    # Phase II has four open deliverables (one in review, two in progress, one planned).
    assert teams["Biostatistics"].open_deliverables == 4
    assert teams["Biostatistics"].open_engagements == 1
    assert teams["Medical Writing"].open_deliverables == 0
    text = html(response)
    assert "Bruno Lead" in text and "Boris Quality" in text
    assert_csp_clean(response)


def test_the_provider_admin_creates_a_team(browser, users):
    response = browser(P_ADMIN).post(
        reverse("vendors:teams"),
        {"name": "Oncology", "lead": users[E_LEAD].pk, "members": [users["bio.writer"].pk]},
    )
    created = team("Oncology")
    assert response.status_code == 302
    assert response["Location"] == reverse("vendors:team_edit", args=[created.pk])
    assert created.lead == users[E_LEAD]
    assert list(created.members.all()) == [users["bio.writer"]]
    assert created.group.user_set.filter(pk=users["bio.writer"].pk).exists()


def test_a_duplicate_team_name_is_shown_next_to_the_name(browser):
    response = browser(P_ADMIN).post(reverse("vendors:teams"), {"name": "biostatistics"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "There is already a team called biostatistics."
    ]
    assert 'value="biostatistics"' in html(response)


def test_the_provider_admin_renames_leads_and_staffs_a_team(browser, users):
    writing = team("Medical Writing")
    url = reverse("vendors:team_edit", args=[writing.pk])
    client = browser(P_ADMIN)
    assert client.post(url, {"operation": "rename", "rename-name": "Writing"}).status_code == 302
    response = client.post(url, {"operation": "set_lead", "lead-lead": users[E_LEAD].pk})
    assert response.status_code == 302
    response = client.post(url, {"operation": "add_member", "add-user": users[QA].pk})
    assert response.status_code == 302
    writing = AnalystTeam.objects.get(pk=writing.pk)
    assert writing.name == "Writing"
    assert writing.lead == users[E_LEAD]
    assert set(writing.members.all()) == {users["bio.writer"], users[QA]}
    actions = set(
        AuditEvent.objects.filter(target_id=writing.pk, action__startswith="team.").values_list(
            "action", flat=True
        )
    )
    assert {"team.rename", "team.set_lead", "team.add_member"} <= actions


def test_removing_an_analyst_takes_their_access_away_at_once(browser, users, engagements):
    phase_two = reverse("engagements:detail", args=[engagements.phase_two.pk])
    assert browser(ANALYST).get(phase_two).status_code == 200
    url = reverse("vendors:team_edit", args=[team("Biostatistics").pk])
    response = browser(P_ADMIN).post(url, {"operation": "remove_member", "user": users[ANALYST].pk})
    assert response.status_code == 302
    assert "no longer sees" in messages_of(response)[0]
    assert browser(ANALYST).get(phase_two).status_code == 404


def test_bad_team_changes_are_explained(browser, users):
    url = reverse("vendors:team_edit", args=[team("Biostatistics").pk])
    client = browser(P_ADMIN)
    response = client.post(url, {"operation": "rename", "rename-name": "Medical Writing"})
    assert response.status_code == 400
    assert response.context["rename_form"].errors["name"] == [
        "There is already a team called Medical Writing."
    ]
    response = client.post(url, {"operation": "add_member", "add-user": users["ledger.analyst"].pk})
    assert response.status_code == 400
    assert response.context["member_form"].errors["user"]
    response = client.post(url, {"operation": "explode"})
    assert response.status_code == 302
    assert messages_of(response)


def test_team_changes_are_refused_to_other_provider_roles(browser, users):
    url = reverse("vendors:team_edit", args=[team("Biostatistics").pk])
    for username in (E_LEAD, ANALYST):
        response = browser(username).post(url, {"operation": "remove_member", "user": users[QA].pk})
        assert response.status_code == 403, username
    response = browser(E_LEAD).post(reverse("vendors:teams"), {"name": "Rogue"})
    assert response.status_code == 403
    assert team("Biostatistics").members.filter(pk=users[QA].pk).exists()


# -- strict CSP -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "url_name"),
    [
        (C_ADMIN, "vendors:directory"),
        (C_ADMIN, "vendors:compare"),
        (C_ADMIN, "vendors:approvals"),
        (C_ADMIN, "vendors:approval_create"),
        (P_ADMIN, "vendors:teams"),
        (P_ADMIN, "vendors:directory"),
        ("northwind.manager", "vendors:directory"),
    ],
)
def test_provider_pages_are_free_of_inline_script_and_style(browser, username, url_name):
    response = browser(username).get(reverse(url_name))
    assert response.status_code == 200
    assert_csp_clean(response)


def test_the_team_page_is_free_of_inline_script_and_style(browser):
    response = browser(P_ADMIN).get(reverse("vendors:team_edit", args=[team("Biostatistics").pk]))
    assert_csp_clean(response)


# -- queries ------------------------------------------------------------------------------


def count_queries(client, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data)
    assert response.status_code == 200, url
    return len(queries)


def _more_providers(users, count=20, assess=False):
    """Providers are registered by platform staff (no service); their certificates and the
    client's verdicts go through the services."""
    lines = list(ServiceLine.objects.order_by("slug")[:2])
    today = timezone.localdate()
    for number in range(count):
        firm = Provider.objects.create(
            name=f"Firm {number:02}", slug=f"firm-{number:02}", country="IN"
        )
        firm.service_lines.set(lines)
        Certification.objects.create(
            provider=firm,
            kind="iso_27001",
            issued_on=today - timedelta(days=10),
            expires_on=today + timedelta(days=20 + number),
        )
        if assess:
            vendor_services.vendor_approval_create(
                actor=users[C_ADMIN], provider=firm, status="pending", risk_tier="medium"
            )


def _more_delivered_work(users, engagement, count=20):
    """Deliverables planned, and every other one delivered and accepted, through the
    services as the demo users would."""
    manager, analyst, qa = users[C_MANAGER], users[ANALYST], users[QA]
    for number in range(count):
        deliverable = deliverable_services.deliverable_plan(
            actor=manager,
            engagement=engagement,
            title=f"Cohort table {number:02}",
            due_at=timezone.now() + timedelta(days=5 + number),
            assignee=analyst,
        )
        if number % 2:
            continue
        deliverable_services.deliverable_start(actor=analyst, deliverable=deliverable)
        deliverable_services.deliverable_submit(
            actor=analyst,
            deliverable=deliverable,
            file=SimpleUploadedFile("table.pdf", PDF, content_type="application/pdf"),
        )
        deliverable_services.deliverable_qa(actor=qa, deliverable=deliverable, decision="pass")
        deliverable_services.deliverable_review(
            actor=manager, deliverable=deliverable, decision="accept", scores=SCORES
        )


def _more_teams(users, count=20):
    for number in range(count):
        vendor_services.team_create(
            actor=users[P_ADMIN],
            name=f"Pod {number:02}",
            lead=users[E_LEAD],
            members=[users[ANALYST], users[QA]],
        )


def _more_members(users, count=20):
    """More analysts of Bio-Analytics (accounts are made by admins; no service), each added to
    Biostatistics through the service."""
    biostatistics = team("Biostatistics")
    bio = provider("bio-analytics")
    for number in range(count):
        analyst = get_user_model().objects.create_user(
            f"bio.analyst{number:02}", role=Role.ANALYST, provider=bio, first_name=f"A{number:02}"
        )
        vendor_services.team_add_member(actor=users[P_ADMIN], team=biostatistics, user=analyst)


PAGE_BUDGETS = [
    # (page, user, url, query, what grows, the bound asserted)
    ("directory", C_ADMIN, lambda: reverse("vendors:directory"), None, "providers", 9),
    ("scorecard", C_ADMIN, lambda: scorecard_url("bio-analytics"), None, "work", 10),
    (
        "compare",
        C_ADMIN,
        lambda: reverse("vendors:compare"),
        lambda: {"providers": [provider("bio-analytics").pk, provider("ledger-research").pk]},
        "work",
        11,
    ),
    ("approvals", C_ADMIN, lambda: reverse("vendors:approvals"), None, "assessed", 10),
    ("approval_create", C_ADMIN, lambda: reverse("vendors:approval_create"), None, "providers", 6),
    (
        "approval_edit",
        C_ADMIN,
        lambda: reverse("vendors:approval_edit", args=[approval("alpha-pharma", "lexpoint").pk]),
        None,
        "assessed",
        6,
    ),
    ("teams", P_ADMIN, lambda: reverse("vendors:teams"), None, "teams", 12),
    (
        "team_edit",
        P_ADMIN,
        lambda: reverse("vendors:team_edit", args=[team("Biostatistics").pk]),
        None,
        "members",
        13,
    ),
]


@pytest.mark.parametrize(
    ("page", "username", "url", "query", "grow", "bound"),
    PAGE_BUDGETS,
    ids=[row[0] for row in PAGE_BUDGETS],
)
def test_each_page_costs_the_same_queries_however_long_its_lists(
    browser, users, engagements, page, username, url, query, grow, bound
):
    if page == "approval_edit":
        vendor_services.vendor_approval_create(
            actor=users[C_ADMIN], provider=provider("lexpoint"), status="pending"
        )
    client = browser(username)
    data = query() if query else None
    count_queries(client, url(), data)  # warm caches (content types, sessions)
    before = count_queries(client, url(), data)
    {
        "providers": lambda: _more_providers(users),
        "assessed": lambda: _more_providers(users, assess=True),
        "work": lambda: _more_delivered_work(users, engagements.phase_two),
        "teams": lambda: _more_teams(users),
        "members": lambda: _more_members(users),
    }[grow]()
    after = count_queries(client, url(), data)
    assert before == after, (page, before, after)
    assert after <= bound, (page, after)
