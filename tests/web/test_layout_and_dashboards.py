"""The shared layout, signing in and out, changing a password, and every role's dashboard.

Each dashboard is checked for every demo user: it renders, it shows that user's own tenant's
work and nothing of another tenant's, it is ready for a strict Content-Security-Policy, and
it costs the same number of queries however much work there is.

Everything beyond the demo data (shared/DEMO.md) is made through the services, by the demo
user who would really do it, inside each test's transaction.
"""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables import services as deliverable_services
from kpo.demo import DEMO_PASSWORD, DEMO_USERNAMES
from kpo.notifications import services as notification_services
from kpo.notifications.choices import NotificationKind
from tests.support import force_login_verified

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
MIXED = {"accuracy": 3, "completeness": 2, "insight": 3, "relevance": 4, "presentation": 3}

# The most queries any dashboard may take, counting the session, the user, the user's
# organisation and the header's unread count (and for admins the two-factor device their
# session was verified with). Measured (SQLite and PostgreSQL alike): client admin 15, client
# manager 14 (three of them per provider scorecard), viewer 8, provider admin 11, engagement
# lead 12, analyst 7, QA reviewer 9, staff 11.
MAX_DASHBOARD_QUERIES = 16

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)

PHASE_TWO_WORK = (
    "Phase II oncology trial analysis",
    "Interim efficacy report",
    "Safety signal memo",
    "Data cleaning log",
)
EU_BANKS_WORK = ("EU banks equity coverage", "Q4 earnings model", "Northwind")
ALPHA_ONLY = ("Real-world evidence dashboard", "Alpha Pharmaceuticals", *PHASE_TWO_WORK)

# username → (what the dashboard must show, what it must never show)
TENANT_VIEWS = {
    "alpha.admin": (("Phase II oncology trial analysis", "Bio-Analytics Solutions"), EU_BANKS_WORK),
    "alpha.manager": (
        ("Phase II oncology trial analysis", "Interim efficacy report", "Data cleaning log"),
        (*EU_BANKS_WORK, "Ledger Research"),
    ),
    "alpha.viewer": (
        ("Phase II oncology trial analysis", "Subgroup response analysis"),
        ("Real-world evidence dashboard", *EU_BANKS_WORK),
    ),
    "northwind.manager": (("EU banks equity coverage", "Ledger Research Partners"), ALPHA_ONLY),
    "bio.admin": (
        ("Real-world evidence dashboard", "Biostatistics", "Data cleaning log"),
        (*EU_BANKS_WORK, "Ledger Research", "EU Banks"),
    ),
    "bio.lead": (("Phase II oncology trial analysis", "Safety signal memo"), EU_BANKS_WORK),
    "bio.analyst": (("Data cleaning log", "Subgroup response analysis"), EU_BANKS_WORK),
    "bio.qa": (("QA queue",), EU_BANKS_WORK),
    "bio.writer": (("Nothing assigned to you",), (*PHASE_TWO_WORK, *EU_BANKS_WORK, "ONC-221")),
    "ledger.admin": (("EU banks equity coverage", "EU Banks"), ALPHA_ONLY),
    "ledger.analyst": (("Q4 earnings model",), ALPHA_ONLY),
    "staff": (("EU banks equity coverage", "Phase II oncology trial analysis"), ()),
}


def page_of(client, users, username, path=None):
    force_login_verified(client, users[username])
    response = client.get(path or reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def cheap_password(settings):
    """The production hasher takes half a second per check; tests that sign in with a
    password re-hash it with a fast one, inside their own transaction."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def rehash(user):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    return rehash


def pdf(name="version.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def more_work(users, engagements):
    """30 more deliverables in Phase II and 15 in EU banks, planned by the clients' managers and
    pushed along the workflow by the people who would really do it, so that every dashboard
    list (assignments, QA queue, client review, returned work, at risk) has more than 10 rows."""
    now = timezone.now()
    manager, analyst, qa = users.alpha_manager, users.bio_analyst, users.bio_qa
    planned = [
        deliverable_services.deliverable_plan(
            actor=manager,
            engagement=engagements.phase_two,
            title=f"Extra analysis {n:02d}",
            # Half of them are due within the reminder window, so they are at risk.
            due_at=now + timedelta(hours=6 if n % 2 else 24 * 20, minutes=n),
            assignee=analyst,
        )
        for n in range(30)
    ]
    for deliverable in planned[:24]:
        deliverable_services.deliverable_start(actor=analyst, deliverable=deliverable)
        deliverable_services.deliverable_submit(actor=analyst, deliverable=deliverable, file=pdf())
    for deliverable in planned[:18]:
        deliverable_services.deliverable_qa(actor=qa, deliverable=deliverable, decision="pass")
    for deliverable in planned[:12]:
        deliverable_services.deliverable_review(
            actor=manager,
            deliverable=deliverable,
            decision="request_changes",
            scores=MIXED,
            comment="Please add the sensitivity analysis.",
        )
    for n in range(15):
        deliverable_services.deliverable_plan(
            actor=users.northwind_manager,
            engagement=engagements.eu_banks,
            title=f"Bank note {n:02d}",
            due_at=now + timedelta(hours=5, minutes=n),
            assignee=users.ledger_analyst,
        )
    return planned


# -- every dashboard, every role --------------------------------------------------------


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_every_demo_user_lands_on_their_dashboard(client, users, username):
    force_login_verified(client, users[username])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert any(t.name.startswith("dashboard/") for t in response.templates)


@pytest.mark.parametrize("username", sorted(TENANT_VIEWS))
def test_a_dashboard_shows_only_its_users_tenant(client, users, username):
    page = page_of(client, users, username)
    shown, never = TENANT_VIEWS[username]
    for text in shown:
        assert text in page, f"{username} should see {text!r}"
    for text in never:
        assert text not in page, f"{username} must not see {text!r}"


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_a_dashboard_costs_the_same_queries_however_much_work_there_is(
    client, users, username, request, django_assert_max_num_queries
):
    force_login_verified(client, users[username])
    with CaptureQueriesContext(connection) as before:
        assert client.get(reverse("home")).status_code == 200
    request.getfixturevalue("more_work")
    with (
        django_assert_max_num_queries(MAX_DASHBOARD_QUERIES),
        CaptureQueriesContext(connection) as after,
    ):
        assert client.get(reverse("home")).status_code == 200
    assert len(after) == len(before), [q["sql"][:120] for q in after.captured_queries]


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# -- what each dashboard shows -----------------------------------------------------------


def test_the_client_manager_sees_the_review_clock_of_what_waits_for_them(client, users):
    page = page_of(client, users, "alpha.manager")
    review = page[page.index("Awaiting your review") :]
    assert "Interim efficacy report" in review
    assert "hours left" in review
    assert "72 h turnaround" in review
    assert "badge-review-on_track" in review


def test_an_overdue_review_is_flagged(client, users, deliverable):
    interim = deliverable("Interim efficacy report")
    type(interim).objects.filter(pk=interim.pk).update(
        review_started_at=timezone.now() - timedelta(hours=80)
    )
    page = page_of(client, users, "alpha.manager")
    assert "badge-review-overdue" in page
    assert "overdue by" in page


def test_the_client_manager_sees_at_risk_and_breached_work_and_provider_scorecards(client, users):
    page = page_of(client, users, "alpha.manager")
    attention = page[page.index("At risk and breached") : page.index("Your engagements")]
    assert "Data cleaning log" in attention
    assert "Safety signal memo" in attention
    assert "badge-sla-breached" in attention
    assert "badge-sla-at_risk" in attention
    assert "Subgroup response analysis" not in attention
    providers = page[page.index("Your providers") :]
    assert "Bio-Analytics Solutions" in providers
    assert "100%" in providers
    assert "4.4" in providers


def test_the_analyst_sees_their_work_by_due_date(client, users):
    page = page_of(client, users, "bio.analyst")
    work = page[page.index("Your work by due date") :]
    order = [work.index(t) for t in ("Data cleaning log", "Safety signal memo", "Subgroup")]
    assert order == sorted(order)
    assert 'id="returned-title"' not in page


def test_work_sent_back_to_the_analyst_shows_with_the_feedback(client, users, deliverable):
    deliverable_services.deliverable_review(
        actor=users.alpha_manager,
        deliverable=deliverable("Interim efficacy report"),
        decision="request_changes",
        scores=MIXED,
        comment="Add the sensitivity analysis.",
    )
    page = page_of(client, users, "bio.analyst")
    returned = page[page.index('id="returned-title"') : page.index("Your work by due date")]
    assert "Interim efficacy report" in returned
    assert "Add the sensitivity analysis." in returned
    assert "returned by the client" in returned


def test_the_qa_queue_leaves_out_the_reviewers_own_submissions(client, users, deliverable):
    memo, log = deliverable("Safety signal memo"), deliverable("Data cleaning log")
    deliverable_services.deliverable_submit(actor=users.bio_analyst, deliverable=memo, file=pdf())
    deliverable_services.deliverable_submit(actor=users.bio_lead, deliverable=log, file=pdf())

    qa_page = page_of(client, users, "bio.qa")
    queue = qa_page[qa_page.index('id="qa-title"') :]
    assert "Safety signal memo" in queue
    assert "Data cleaning log" in queue

    lead_page = page_of(client, users, "bio.lead")
    lead_queue = lead_page[lead_page.index('id="qa-title"') :]
    assert "Safety signal memo" in lead_queue
    assert "Data cleaning log" not in lead_queue


def test_the_qa_reviewer_sees_their_recent_checks(client, users):
    page = page_of(client, users, "bio.qa")
    checks = page[page.index('id="checks-title"') :]
    assert "Statistical analysis plan" in checks
    assert "Checked against the protocol." in checks
    assert "Passed" in checks


def test_the_lead_sees_the_engagements_they_lead(client, users):
    page = page_of(client, users, "bio.lead")
    led = page[page.index("Engagements you lead") :]
    assert "Phase II oncology trial analysis" in led


def test_the_provider_admin_sees_proposals_and_team_load(client, users):
    page = page_of(client, users, "bio.admin")
    proposals = page[page.index("Proposals to accept") : page.index("At risk and breached")]
    assert "Real-world evidence dashboard" in proposals
    assert "Alpha Pharmaceuticals" in proposals
    teams = page[page.index("Teams and their load") :]
    assert "Biostatistics" in teams
    assert "Medical Writing" in teams
    assert "Lead: Bruno Lead" in teams


def test_the_viewer_is_told_their_access_is_read_only(client, users):
    page = page_of(client, users, "alpha.viewer")
    assert "read-only" in page
    assert "Recent deliverables" in page


def test_staff_get_a_platform_summary_and_the_administration_site(client, users):
    page = page_of(client, users, "staff")
    assert "Platform summary" in page
    assert reverse("admin:index") in page


def test_empty_lists_say_what_to_do_next(client, users):
    page = page_of(client, users, "bio.writer")
    assert "Nothing assigned to you" in page
    assert "assigns them when they plan the work" in page


# -- the layout --------------------------------------------------------------------------


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_pages_are_ready_for_a_strict_content_security_policy(client, users, username):
    for path in (
        reverse("home"),
        reverse("notifications:list"),
        reverse("accounts:password_change"),
    ):
        page = page_of(client, users, username, path)
        assert not INLINE_SCRIPT.search(page), path
        assert not STYLE_ATTRIBUTE.search(page), path
        assert page.count("django_htmx/htmx-2") == 1, path


def test_the_sign_in_page_has_no_inline_script_or_style(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    assert not INLINE_SCRIPT.search(page)
    assert not STYLE_ATTRIBUTE.search(page)


def test_the_layout_has_landmarks_a_skip_link_and_the_htmx_csrf_header(client, users):
    page = page_of(client, users, "alpha.manager")
    assert 'href="#main"' in page
    assert '<main id="main"' in page
    assert '<nav class="site-nav" aria-label="Main">' in page
    assert "<header" in page
    assert "<footer" in page
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[\w-]+\"\}'", page)


def test_the_header_shows_who_is_signed_in_and_the_unread_count(client, users):
    user = users.alpha_manager
    notification_services.notify(
        kind=NotificationKind.COMMENT_ADDED, recipients=[user], title="Unread news"
    )
    unread = user.notifications.filter(read_at__isnull=True).count()
    page = page_of(client, users, "alpha.manager")
    assert "Amir Manager" in page
    assert "Alpha Pharmaceuticals" in page
    assert "Client manager" in page
    assert f"({unread} unread)" in page
    assert reverse("accounts:password_change") in page
    assert f'action="{reverse("accounts:logout")}"' in page


@pytest.mark.parametrize(
    "username, action, label",
    [
        ("alpha.admin", "vendor_approvals", "Vendor approvals"),
        ("bio.admin", "manage_teams", "Teams"),
    ],
)
def test_navigation_offers_admin_pages_only_to_admins(client, users, username, action, label):
    template = Template("{% load ui %}{% url_or_none name as url %}{{ url }}")
    name = {"vendor_approvals": "vendors:approvals", "manage_teams": "vendors:teams"}[action]
    url = template.render(Context({"name": name}))
    admin_nav = page_of(client, users, username)
    other_nav = page_of(client, users, "alpha.manager")
    if url:
        assert f'href="{url}"' in admin_nav
        assert f'href="{url}"' not in other_nav
    assert f">{label}</a>" not in other_nav


def test_url_or_none_answers_nothing_for_a_page_that_does_not_exist():
    template = Template("{% load ui %}{% url_or_none 'nowhere:page' 3 as url %}[{{ url }}]")
    assert template.render(Context()) == "[]"


def test_breadcrumbs_start_at_the_dashboard_and_mark_the_current_page(rf):
    html = Template('{% load ui %}{% breadcrumbs "Engagements" "/engagements/" "ENG-1" %}').render(
        Context()
    )
    assert f'<a href="{reverse("home")}">Dashboard</a>' in html
    assert '<a href="/engagements/">Engagements</a>' in html
    assert '<li aria-current="page">ENG-1</li>' in html


# -- signing in and out, changing the password --------------------------------------------


def test_signing_in_lands_on_the_dashboard_with_a_welcome(client, users, cheap_password):
    cheap_password(users.bio_analyst)
    response = client.post(
        reverse("accounts:login"),
        {"username": "bio.analyst", "password": DEMO_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Signed in as Bina Analyst." in response.content.decode()


def test_a_wrong_password_is_explained_and_the_username_kept(client, users):
    response = client.post(
        reverse("accounts:login"), {"username": "bio.analyst", "password": "not it"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="alert alert-error form-errors"' in page
    assert "correct username and password" in page
    assert 'value="bio.analyst"' in page


def test_signing_out_is_a_post_and_says_so(client, users):
    client.force_login(users.bio_analyst)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "You have been signed out." in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_changing_the_password_shows_errors_next_to_the_fields(client, users, cheap_password):
    cheap_password(users.bio_analyst)
    client.force_login(users.bio_analyst)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="id_old_password_error">\s*<p class="field-error">', page)
    assert "old password was entered incorrectly" in page
    assert 'aria-invalid="true"' in page


def test_a_too_weak_new_password_is_refused_next_to_its_field(client, users, cheap_password):
    cheap_password(users.bio_analyst)
    client.force_login(users.bio_analyst)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEMO_PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    page = response.content.decode()
    assert re.search(r'id="id_new_password2_error">\s*<p class="field-error">[^<]*too short', page)


def test_changing_the_password_keeps_the_session_and_confirms(client, users, cheap_password):
    cheap_password(users.bio_analyst)
    client.force_login(users.bio_analyst)
    new = "a much longer passphrase 42"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEMO_PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password_change_done")
    page = response.content.decode()
    assert "Your password has been changed." in page
    assert "Password changed" in page
    assert client.get(reverse("home")).status_code == 200
    assert users.bio_analyst.check_password(new)


def test_changing_the_password_needs_a_signed_in_user(client, db):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
