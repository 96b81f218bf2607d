"""Every HTML page, for every demo role, against its own objects and another tenant's: the
authorization matrix of the REST API (tests/api/test_authorization_matrix.py) for the browser.

The pages are discovered from the URL resolver (everything but /api/, /admin/ and /static/);
`TABLE` says how to call each (pattern name, method) and what each demo user must get. Which
methods a page answers is found by asking it: anything but 405 means the table must know that
method. A page the table does not know fails `test_every_page_is_in_the_table`, so a new page
is covered the day it is added; a table row for a page or method that no longer exists fails
`test_the_table_names_only_pages_that_exist`.

The walks:
- own objects: each demo user gets what the role table of shared/DESIGN.md allows: 200 (or
  the redirect of a successful form, with no error message) where it may act, 403 where it
  sees the object but may not act, 404 where it may not see it; each case is its own
  rolled-back test, arranged through the services so that the action is legal;
- hidden objects: for every engagement a user may not see (another tenant's, or one of its
  own organisation it was not given) every page about it, GET and POST alike, answers
  exactly as for an id that does not exist: 404; the same for another tenant's team,
  vendor approval, scorecard and notification, and a colleague's notification;
- no page shows what the user may not see: every 200 page of the walks above, and every
  list, dashboard and scorecard below (with filters and searches aimed at the other tenant),
  is searched for the titles and references of the engagements the user may not see, their
  deliverables and documents, the other tenant pair's organisations and people, and a
  provider's competitors, all taken from shared/DEMO.md (`VISIBLE`), not from the access
  module; lists also show what the user does see, so an empty page cannot pass;
- forms: a form that names another tenant's person or team where it expects the user's own
  is refused and changes nothing;
- signed out: every page redirects to the sign-in page with `next`, but the sign-in itself.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from deliverables.models import Submission
from engagements.models import Engagement
from kpo.access.models import EngagementUserObjectPermission
from kpo.demo import DEMO_ADMINS, DEMO_PASSWORD
from kpo.notifications import services as notification_services
from kpo.notifications.choices import NotificationKind
from tests.api.conftest import World, pdf
from tests.api.test_authorization_matrix import (
    ALL_FIVE,
    ANALYST,
    C_ADMIN,
    C_MANAGER,
    C_VIEWER,
    E_LEAD,
    EU_BANKS,
    FOREIGN_DELIVERABLE,
    FOREIGN_SUBMITTED,
    MISSING_ID,
    OUTSIDERS,
    P_ADMIN,
    PHASE_TWO,
    QA,
    ROLE_TABLE,
    RWE,
    VISIBLE,
    foreign_approval,
    foreign_notification,
    foreign_provider,
    foreign_team,
)
from tests.support import enrolment_form, force_login_verified

STAFF = "staff"
TENANT_USERS = ROLE_TABLE + OUTSIDERS
USERS = (*TENANT_USERS, STAFF)
ENGAGEMENTS = (PHASE_TWO, RWE, EU_BANKS)
# Platform staff look at everything (DESIGN: superusers belong to no organisation).
VISIBLE_TO = {**VISIBLE, STAFF: set(ENGAGEMENTS)}

# The role table's rows, played by every demo user of that role, whatever their tenant.
CLIENT_ADMINS = {C_ADMIN}
CLIENT_MANAGERS = {C_MANAGER, "northwind.manager"}
CLIENT_VIEWERS = {C_VIEWER}
PROVIDER_ADMINS = {P_ADMIN, "ledger.admin"}
LEADS = {E_LEAD}
ANALYSTS = {ANALYST, "bio.writer", "ledger.analyst"}
QA_REVIEWERS = {QA}
PROVIDER_USERS = PROVIDER_ADMINS | LEADS | ANALYSTS | QA_REVIEWERS
ANYONE = set(USERS)
MANAGE = CLIENT_ADMINS | CLIENT_MANAGERS  # terms, lifecycle, sharing
RESPOND = PROVIDER_ADMINS  # accept or decline a proposal, assign the lead
ASSIGN_TEAMS = PROVIDER_ADMINS | LEADS
PLAN = CLIENT_ADMINS | CLIENT_MANAGERS | LEADS
UPLOAD_DOCUMENTS = CLIENT_ADMINS | CLIENT_MANAGERS
SUBMIT = LEADS | ANALYSTS
QA_ROLES = LEADS | QA_REVIEWERS
REVIEW = CLIENT_ADMINS | CLIENT_MANAGERS
READ_AUDIT = CLIENT_ADMINS | CLIENT_MANAGERS | PROVIDER_ADMINS | LEADS
VENDOR_APPROVALS = CLIENT_ADMINS
MANAGE_TEAMS = PROVIDER_ADMINS
# Everyone on the work talks about it, but viewers are read-only and staff act on nothing.
COMMENT = ANYONE - CLIENT_VIEWERS - {STAFF}

# Straight from shared/DEMO.md.
DELIVERABLES = {
    PHASE_TWO: (
        "Statistical analysis plan",
        "Interim efficacy report",
        "Safety signal memo",
        "Data cleaning log",
        "Subgroup response analysis",
    ),
    RWE: (),
    EU_BANKS: ("Sector initiation report", "Q4 earnings model"),
}
ACCEPTED = {
    PHASE_TWO: ("Statistical analysis plan",),
    RWE: (),
    EU_BANKS: ("Sector initiation report",),
}
DOCUMENTS = {PHASE_TWO: ("Trial protocol v3",), RWE: (), EU_BANKS: ()}
CLIENT_NAMES = {"alpha-pharma": "Alpha Pharmaceuticals", "northwind": "Northwind Capital"}
PROVIDER_NAMES = {
    "bio-analytics": "Bio-Analytics Solutions",
    "ledger-research": "Ledger Research Partners",
    "lexpoint": "LexPoint Legal Research",
}
# The two tenant pairs of the demo: who works with whom.
ALPHA_SIDE = {C_ADMIN, C_MANAGER, C_VIEWER, P_ADMIN, E_LEAD, ANALYST, QA, "bio.writer"}
NORTHWIND_SIDE = {"northwind.manager", "ledger.admin", "ledger.analyst"}
# The organisation of each demo user.
ORGANISATION = {
    **dict.fromkeys((C_ADMIN, C_MANAGER, C_VIEWER), "alpha-pharma"),
    "northwind.manager": "northwind",
    **dict.fromkeys((P_ADMIN, E_LEAD, ANALYST, QA, "bio.writer"), "bio-analytics"),
    **dict.fromkeys(("ledger.admin", "ledger.analyst"), "ledger-research"),
}


def hidden(username):
    """The demo engagements the user may not see, in a stable order."""
    return [title for title in ENGAGEMENTS if title not in VISIBLE_TO[username]]


def seeing(title):
    return {username for username in USERS if title in VISIBLE_TO[username]}


# -- what each user must get ------------------------------------------------------------------


def every(status):
    return dict.fromkeys(USERS, status)


def only(ok, allowed):
    """For pages not about one object: `ok` for the allowed users, 403 for everyone else."""
    return {username: ok if username in allowed else 403 for username in USERS}


def on(readers, ok, allowed=ANYONE):
    """For pages about one object: 404 for who may not see it, `ok` for the allowed users
    among those who do, 403 for the rest."""
    return {
        username: 404 if username not in readers else ok if username in allowed else 403
        for username in USERS
    }


# A new draft of Alpha's shared with the viewer (`World.draft`): providers never see drafts.
DRAFT_READERS = {C_ADMIN, C_MANAGER, C_VIEWER, STAFF}
# Analyst teams are managed by their provider's admin; other people of the provider see the
# team but may not change it; nobody else sees it at all.
TEAM_PAGE = {
    username: 200 if username in MANAGE_TEAMS else 403 if username in PROVIDER_USERS else 404
    for username in USERS
}


# -- how to find the objects -----------------------------------------------------------------


def phase_two(w, u):
    return w.phase_two


def rwe(w, u):
    return w.rwe


def deliverable(title):
    return lambda w, u: w.deliverable(title)


def no_body(w, u):
    return {}


def own_team(w, u):
    return w.team(
        "EU Banks" if ORGANISATION.get(u.username) == "ledger-research" else "Biostatistics"
    )


def own_provider(w, u):
    return w.provider(ORGANISATION[u.username]) if u.provider_id else w.provider("bio-analytics")


def own_approval(w, u):
    return w.approval("alpha-pharma", "ledger-research")


def hidden_engagement(w, title):
    return w.engagement(title)


def hidden_deliverable(w, title):
    return w.deliverable(FOREIGN_DELIVERABLE[title])


def hidden_submission(w, title):
    return w.submission(FOREIGN_SUBMITTED[title])


def hidden_document(w, title):
    return w.document(w.engagement(title))


# What a page about each kind of object needs, and the engagements holding one.
HIDDEN_KINDS = {
    "engagement": (hidden_engagement, set(ENGAGEMENTS)),
    "deliverable": (hidden_deliverable, set(FOREIGN_DELIVERABLE)),
    "submission": (hidden_submission, set(FOREIGN_SUBMITTED)),
    "document": (hidden_document, {PHASE_TWO, EU_BANKS}),
}


def due(days=14):
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def terms(w, engagement):
    """The engagement's terms as its edit form posts them, with a new title."""
    values = {
        "title": f"{engagement.title} (revised)",
        "brief": engagement.brief,
        "service_line": engagement.service_line_id,
        "provider": engagement.provider_id,
        "confidentiality": engagement.confidentiality,
        "start_date": engagement.start_date or "",
        "end_date": engagement.end_date or "",
        "budget": engagement.budget if engagement.budget is not None else "",
        "currency": engagement.currency,
        "pricing_model": engagement.pricing_model,
        "client_manager": engagement.client_manager_id,
        "reminder_lead_hours": engagement.reminder_lead_hours,
        "review_turnaround_hours": engagement.review_turnaround_hours,
        "quality_threshold": engagement.quality_threshold,
    }
    if engagement.qa_required:
        values["qa_required"] = "on"
    return values


def new_terms(w, u):
    return {
        "title": "Biomarker discovery",
        "service_line": w.service_line("clinical_data_analysis").pk,
        "provider": w.provider("bio-analytics").pk,
        "confidentiality": "confidential",
        "currency": "USD",
        "pricing_model": "fixed_fee",
        "qa_required": "on",
        "reminder_lead_hours": 24,
        "review_turnaround_hours": 72,
        "quality_threshold": "3.00",
    }


NEW_PASSWORD = "Another-long-passphrase-2026"


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """How to call one page with one method, and what each demo user must get.

    `target` gives the user's own object whose id fills `<pk>`; `kwargs` the other parts of
    the URL. `hidden_kind` says which kind of object the page is about, so that the hidden
    walk can point it at each engagement the user may not see; `foreign` gives another
    tenant's object for pages not about an engagement, and `foreign_status` what a user gets
    on it when that is not 404 (the whole page is closed to the role, whatever the id; or the
    object is open to everyone of the role, as the provider directory is to clients).
    """

    name: str
    method: str
    expect: Mapping[str, int]
    label: str = ""
    target: Callable | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    query: str = ""
    body: Callable = no_body
    setup: Callable | None = None
    password: bool = False
    hidden_kind: str | None = None
    foreign: Callable | None = None
    foreign_status: Callable | None = None

    @property
    def key(self):
        return (self.name, self.method)

    @property
    def title(self):
        return f"{self.name} {self.method}" + (f" ({self.label})" if self.label else "")


TABLE = [
    # -- the dashboard and the account pages --------------------------------------------------
    Page("home", "GET", every(200)),
    # Signed in already: back to the dashboard.
    Page("accounts:login", "GET", every(302)),
    Page(
        "accounts:login",
        "POST",
        every(302),
        body=lambda w, u: {"username": u.username, "password": DEMO_PASSWORD},
    ),
    Page("accounts:logout", "POST", every(302)),
    Page("accounts:password_change", "GET", every(200)),
    Page(
        "accounts:password_change",
        "POST",
        every(302),
        password=True,
        body=lambda w, u: {
            "old_password": DEMO_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    ),
    Page("accounts:password_change_done", "GET", every(200)),
    Page("accounts:security", "GET", every(200)),
    # Past the code step already (or no app to ask): on to the dashboard.
    Page("accounts:two_factor_verify", "GET", every(302)),
    Page("accounts:two_factor_verify", "POST", every(302), body=lambda w, u: {"code": "123456"}),
    # Who has an app already (every demo admin) goes back to the security page.
    Page("accounts:two_factor_enrol", "GET", {u: 302 if u in DEMO_ADMINS else 200 for u in USERS}),
    Page(
        "accounts:two_factor_enrol",
        "POST",
        every(200),
        label="nobody has an app yet",
        setup=lambda w: TOTPDevice.objects.all().delete(),
        body=lambda w, u: enrolment_form(u),
    ),
    Page(
        "accounts:two_factor_disable",
        "POST",
        every(302),
        password=True,
        body=lambda w, u: {"password": DEMO_PASSWORD},
    ),
    Page("accounts:token_create", "POST", every(200)),
    Page("accounts:token_revoke", "POST", every(302)),
    # -- engagements ------------------------------------------------------------------------
    Page("engagements:list", "GET", every(200)),
    Page("engagements:create", "GET", only(200, MANAGE)),
    Page("engagements:create", "POST", only(302, MANAGE), body=new_terms),
    Page(
        "engagements:detail",
        "GET",
        on(seeing(PHASE_TWO), 200),
        target=phase_two,
        hidden_kind="engagement",
    ),
    Page(
        "engagements:detail",
        "GET",
        on(seeing(PHASE_TWO), 200),
        label="deliverables tab",
        target=phase_two,
        query="?tab=deliverables",
    ),
    Page(
        "engagements:detail",
        "GET",
        on(seeing(PHASE_TWO), 200),
        label="data room tab",
        target=phase_two,
        query="?tab=documents",
    ),
    Page(
        "engagements:detail",
        "GET",
        on(seeing(PHASE_TWO), 200, READ_AUDIT),
        label="activity tab",
        target=phase_two,
        query="?tab=activity",
        hidden_kind="engagement",
    ),
    Page(
        "engagements:detail",
        "GET",
        on(seeing(RWE), 200),
        label="the RWE proposal",
        target=rwe,
    ),
    Page(
        "engagements:edit",
        "GET",
        on(seeing(PHASE_TWO), 200, MANAGE),
        target=phase_two,
        hidden_kind="engagement",
    ),
    Page(
        "engagements:edit",
        "POST",
        on(seeing(PHASE_TWO), 302, MANAGE),
        target=phase_two,
        body=lambda w, u: terms(w, w.phase_two),
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        on(DRAFT_READERS, 302, MANAGE),
        label="propose a draft",
        kwargs={"action": "propose"},
        setup=lambda w: w.draft(),
        target=lambda w, u: Engagement.objects.get(title="Biomarker discovery"),
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        on(seeing(RWE), 302, RESPOND),
        label="accept the RWE proposal",
        kwargs={"action": "accept"},
        target=rwe,
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        on(seeing(RWE), 302, RESPOND),
        label="decline the RWE proposal",
        kwargs={"action": "decline"},
        target=rwe,
        body=lambda w, u: {"reason": "No capacity this quarter."},
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        on(seeing(PHASE_TWO), 302, MANAGE),
        label="hold",
        kwargs={"action": "hold"},
        target=phase_two,
        body=lambda w, u: {"reason": "Budget review"},
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        on(seeing(PHASE_TWO), 302, MANAGE),
        label="resume when held",
        kwargs={"action": "resume"},
        setup=lambda w: w.hold(w.phase_two),
        target=phase_two,
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        on(seeing(PHASE_TWO), 302, MANAGE),
        label="complete when every deliverable is closed",
        kwargs={"action": "complete"},
        setup=lambda w: w.close_open_deliverables(w.phase_two),
        target=phase_two,
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        on(seeing(PHASE_TWO), 302, MANAGE),
        label="terminate",
        kwargs={"action": "terminate"},
        target=phase_two,
        body=lambda w, u: {"reason": "Trial stopped"},
        hidden_kind="engagement",
    ),
    Page(
        "engagements:transition",
        "POST",
        every(404),
        label="an action that does not exist",
        kwargs={"action": "archive"},
        target=phase_two,
    ),
    Page(
        "engagements:assign_lead",
        "POST",
        on(seeing(PHASE_TWO), 302, RESPOND),
        target=phase_two,
        body=lambda w, u: {"lead": w.user(E_LEAD).pk},
        hidden_kind="engagement",
    ),
    Page(
        "engagements:set_teams",
        "POST",
        on(seeing(PHASE_TWO), 302, ASSIGN_TEAMS),
        target=phase_two,
        body=lambda w, u: {"teams": [w.team("Biostatistics").pk]},
        hidden_kind="engagement",
    ),
    Page(
        "engagements:grant_access",
        "POST",
        on(seeing(RWE), 302, MANAGE),
        label="the viewer to the RWE proposal",
        target=rwe,
        body=lambda w, u: {"user": w.user(C_VIEWER).pk},
        hidden_kind="engagement",
    ),
    Page(
        "engagements:revoke_access",
        "POST",
        on(seeing(PHASE_TWO), 302, MANAGE),
        label="the viewer from Phase II",
        target=phase_two,
        body=lambda w, u: {"user": w.user(C_VIEWER).pk},
        hidden_kind="engagement",
    ),
    Page(
        "engagements:plan_deliverable",
        "POST",
        on(seeing(PHASE_TWO), 302, PLAN),
        target=phase_two,
        body=lambda w, u: {
            "title": "Biomarker subgroup tables",
            "kind": "report",
            "due_at": due(),
            "assignee": w.user(ANALYST).pk,
        },
        hidden_kind="engagement",
    ),
    Page(
        "engagements:document_upload",
        "POST",
        on(seeing(PHASE_TWO), 302, UPLOAD_DOCUMENTS),
        target=phase_two,
        body=lambda w, u: {
            "file": pdf("site-list.pdf"),
            "title": "Site list",
            "classification": "confidential",
        },
        hidden_kind="engagement",
    ),
    Page(
        "engagements:audit_csv",
        "GET",
        on(seeing(PHASE_TWO), 200, READ_AUDIT),
        target=phase_two,
        hidden_kind="engagement",
    ),
    Page(
        "engagements:document_download",
        "GET",
        on(seeing(PHASE_TWO), 200),
        target=lambda w, u: w.document(w.phase_two),
        hidden_kind="document",
    ),
    # -- deliverables ------------------------------------------------------------------------
    Page("deliverables:list", "GET", every(200)),
    Page("deliverables:knowledge", "GET", every(200)),
    Page(
        "deliverables:detail",
        "GET",
        on(seeing(PHASE_TWO), 200),
        target=deliverable("Interim efficacy report"),
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:start",
        "POST",
        on(seeing(PHASE_TWO), 302, SUBMIT),
        target=deliverable("Subgroup response analysis"),
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:submit",
        "POST",
        on(seeing(PHASE_TWO), 302, SUBMIT),
        target=deliverable("Safety signal memo"),
        body=lambda w, u: {"file": pdf("memo.pdf"), "notes": "First cut."},
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:qa",
        "POST",
        # The analyst's role does not QA at all (and this is their own version).
        on(seeing(PHASE_TWO), 302, QA_ROLES),
        label="submitted by bio.analyst",
        setup=lambda w: w.submit("Safety signal memo"),
        target=deliverable("Safety signal memo"),
        body=lambda w, u: {"decision": "pass", "comment": "Checked."},
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:review",
        "POST",
        on(seeing(PHASE_TWO), 302, REVIEW),
        target=deliverable("Interim efficacy report"),
        body=lambda w, u: {"decision": "accept", "comment": "Thorough.", **ALL_FIVE},
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:comment",
        "POST",
        on(seeing(PHASE_TWO), 302, COMMENT),
        target=deliverable("Interim efficacy report"),
        body=lambda w, u: {"body": "Can we see the per-site breakdown?"},
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:edit",
        "POST",
        on(seeing(PHASE_TWO), 302, PLAN),
        target=deliverable("Subgroup response analysis"),
        body=lambda w, u: {"due_at": due(21), "assignee": w.user(ANALYST).pk},
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:cancel",
        "POST",
        on(seeing(PHASE_TWO), 302, PLAN),
        target=deliverable("Subgroup response analysis"),
        body=lambda w, u: {"reason": "Out of scope", "confirm": "on"},
        hidden_kind="deliverable",
    ),
    Page(
        "deliverables:submission_download",
        "GET",
        on(seeing(PHASE_TWO), 200),
        target=lambda w, u: w.submission("Interim efficacy report"),
        hidden_kind="submission",
    ),
    # -- providers ---------------------------------------------------------------------------
    Page("vendors:directory", "GET", every(200)),
    Page(
        "vendors:scorecard",
        "GET",
        every(200),
        label="of the user's own firm, or Bio-Analytics for clients and staff",
        target=own_provider,
        foreign=foreign_provider,
        # Clients may engage any active provider, so every scorecard is open to them; what
        # it counts is limited to their own engagements (see the list walk).
        foreign_status=lambda u: 200 if u.client_id else 404,
    ),
    Page("vendors:compare", "GET", only(200, VENDOR_APPROVALS)),
    Page("vendors:approvals", "GET", only(200, VENDOR_APPROVALS)),
    Page("vendors:approval_create", "GET", only(200, VENDOR_APPROVALS)),
    Page(
        "vendors:approval_create",
        "POST",
        only(302, VENDOR_APPROVALS),
        body=lambda w, u: {
            "provider": w.provider("lexpoint").pk,
            "status": "pending",
            "risk_tier": "medium",
        },
    ),
    Page(
        "vendors:approval_edit",
        "GET",
        only(200, VENDOR_APPROVALS),
        label="Alpha's pending assessment of Ledger",
        target=own_approval,
        foreign=foreign_approval,
        # Closed to every role but the client admin, whatever the id (like a missing one).
        foreign_status=lambda u: 404 if u.username in VENDOR_APPROVALS else 403,
    ),
    Page(
        "vendors:approval_edit",
        "POST",
        only(302, VENDOR_APPROVALS),
        label="Alpha's pending assessment of Ledger",
        target=own_approval,
        body=lambda w, u: {"status": "pending", "risk_tier": "high", "notes": "Reassessed."},
        foreign=foreign_approval,
        foreign_status=lambda u: 404 if u.username in VENDOR_APPROVALS else 403,
    ),
    Page("vendors:teams", "GET", only(200, MANAGE_TEAMS)),
    Page("vendors:teams", "POST", only(302, MANAGE_TEAMS), body=lambda w, u: {"name": "Oncology"}),
    Page(
        "vendors:team_edit",
        "GET",
        TEAM_PAGE,
        label="a team of the user's firm",
        target=own_team,
        foreign=foreign_team,
    ),
    Page(
        "vendors:team_edit",
        "POST",
        {**TEAM_PAGE, **{u: 302 for u, status in TEAM_PAGE.items() if status == 200}},
        label="a team of the user's firm",
        target=own_team,
        body=lambda w, u: {"operation": "rename", "rename-name": "Renamed team"},
        foreign=foreign_team,
    ),
    # -- notifications -------------------------------------------------------------------------
    Page("notifications:list", "GET", every(200)),
    Page(
        "notifications:read",
        "POST",
        every(302),
        label="one of the user's own",
        target=lambda w, u: w.notification_for(u.username),
        foreign=foreign_notification,
    ),
    Page("notifications:read_all", "POST", every(302)),
    Page(
        "notifications:email_mode",
        "POST",
        every(302),
        body=lambda w, u: {"email_mode": "digest"},
    ),
    # -- the organisation's audit trail: its admins, and staff for every organisation ---------
    Page("audit:trail", "GET", only(200, CLIENT_ADMINS | PROVIDER_ADMINS | {STAFF})),
    Page("audit:export", "GET", only(200, CLIENT_ADMINS | PROVIDER_ADMINS | {STAFF})),
]


# -- page discovery --------------------------------------------------------------------------

EXCLUDED_PREFIXES = ("api/", "admin/", "static/")
PROBED_METHODS = ("GET", "POST")
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name


def html_pages() -> dict[str, str]:
    """Every HTML page of the project: pattern name → route."""
    pages = {}
    for route, name in _walk(get_resolver().url_patterns):
        if route.startswith(EXCLUDED_PREFIXES):
            continue
        assert name, f"{route} has no name, so no table row can refer to it"
        pages[name] = route
    return pages


def _probe_kwargs(route):
    """Stand-ins for the route's parts: an id that does not exist, a slug that means nothing."""
    return {
        part: MISSING_ID if converter == "int" else "probe"
        for converter, part in _CONVERTER.findall(route)
    }


@pytest.fixture
def browser(users):
    """`browser("alpha.manager")`: a test client signed in as that demo user;
    `browser(None)`: a signed-out visitor."""

    def sign_in(username):
        client = Client()
        if username is not None:
            force_login_verified(client, users[username])
        return client

    return sign_in


_DISCOVERED: dict[str, frozenset] = {}


def discovered_pages(browser) -> frozenset[tuple[str, str]]:
    """(name, method) of every page and every method it answers: whatever a signed-in user
    gets that is not 405 (a fresh session each time, as the sign-out page ends it). Asked
    once per run: the answer depends on the code, not on the data."""
    if "pages" not in _DISCOVERED:
        found = set()
        for name, route in html_pages().items():
            url = reverse(name, kwargs=_probe_kwargs(route))
            for method in PROBED_METHODS:
                response = getattr(browser(C_ADMIN), method.lower())(url)
                if response.status_code != 405:
                    found.add((name, method))
        _DISCOVERED["pages"] = frozenset(found)
    return _DISCOVERED["pages"]


@pytest.fixture
def world(users, engagements, deliverable):
    return World(users, engagements, deliverable)


@pytest.fixture
def cheap_password(settings):
    """Checking a password at the production hasher's cost takes half a second; a test that
    only needs the demo password to work re-hashes it with a fast hasher, in its own
    transaction, before the user signs in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def rehash(user):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    return rehash


def test_the_page_walk_finds_the_html_pages(browser, db):
    pages = html_pages()
    # Sanity of the walk itself, so that an empty walk cannot make the next tests pass.
    assert pages["engagements:transition"] == "engagements/<int:pk>/actions/<slug:action>/"
    assert pages["accounts:login"] == "accounts/login/"
    assert not any(name.startswith("admin:") for name in pages)
    assert "schema" not in pages and "api:engagement-list" not in pages
    found = discovered_pages(browser)
    assert ("deliverables:detail", "GET") in found
    assert ("deliverables:detail", "POST") not in found
    assert ("deliverables:review", "POST") in found
    assert ("deliverables:review", "GET") not in found
    assert ("accounts:logout", "GET") not in found  # Django signs out on POST only


def test_every_page_is_in_the_table(browser, db):
    unknown = discovered_pages(browser) - {page.key for page in TABLE}
    assert not unknown, (
        f"These pages (and methods) are not in the page table of {__name__}; say how to call "
        f"them and what each demo user gets: {sorted(unknown)}"
    )


def test_the_table_names_only_pages_that_exist(browser, db):
    gone = {page.key for page in TABLE} - discovered_pages(browser)
    assert not gone, f"The page table names pages or methods that no longer exist: {sorted(gone)}"


def test_every_page_has_an_expectation_for_every_demo_user():
    for page in TABLE:
        assert set(page.expect) == set(USERS), page.title


# -- what must never be on a page ------------------------------------------------------------


def _people(usernames, users):
    return {users[username].get_full_name() for username in usernames}


_FORBIDDEN: dict[str, frozenset] = {}


def forbidden_text(username, users) -> frozenset[str]:
    """What the user may not see, from shared/DEMO.md: the engagements they are not on (title,
    reference, deliverables, documents); the other tenant pair's organisations and people; a
    provider's competitors. The demo is built once per run, so this is worked out once."""
    if username not in _FORBIDDEN:
        _FORBIDDEN[username] = frozenset(_forbidden_text(username, users))
    return _FORBIDDEN[username]


def _forbidden_text(username, users) -> set[str]:
    if username == STAFF:
        return set()
    strings = set()
    for title in hidden(username):
        strings.add(title)
        strings.add(Engagement.objects.get(title=title).reference)
        strings.update(DELIVERABLES[title], DOCUMENTS[title])
    other_side = NORTHWIND_SIDE if username in ALPHA_SIDE else ALPHA_SIDE
    strings |= _people(other_side, users)
    strings |= {
        CLIENT_NAMES[ORGANISATION[person]]
        for person in other_side
        if ORGANISATION[person] in CLIENT_NAMES
    }
    organisation = ORGANISATION[username]
    if organisation in PROVIDER_NAMES:
        strings |= {name for slug, name in PROVIDER_NAMES.items() if slug != organisation}
    return strings


def page_text(response) -> str:
    """The text of an HTML page or a CSV export; nothing for a downloaded file."""
    content_type = response.get("Content-Type", "")
    if not content_type.startswith(("text/html", "text/csv")):
        return ""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def assert_shows_nothing_hidden(response, username, users):
    text = page_text(response)
    leaks = sorted(s for s in forbidden_text(username, users) if s in text)
    assert not leaks, f"{response.request['PATH_INFO']} shows {username} {leaks}"


# -- calling a page --------------------------------------------------------------------------


def _url(page, pk=None):
    kwargs = dict(page.kwargs)
    if "<int:pk>" in html_pages()[page.name]:
        kwargs["pk"] = pk
    return reverse(page.name, kwargs=kwargs) + page.query


def _call(client, page, *, pk=None, body=None):
    url = _url(page, pk)
    if page.method == "GET":
        return client.get(url)
    return client.post(url, body or {})


def _explain(response):
    if response.streaming:
        return f"{response.status_code} {response.get('Content-Type')}"
    where = f" → {response['Location']}" if response.has_header("Location") else ""
    return f"{response.status_code}{where}: {response.content[:300]!r}"


def _errors(response):
    return [
        str(message)
        for message in get_messages(response.wsgi_request)
        if message.level >= message_levels.ERROR
    ]


OWN_CASES = [
    pytest.param(page, username, id=f"{page.title} as {username}")
    for page in TABLE
    for username in USERS
]


@pytest.mark.parametrize(("page", "username"), OWN_CASES)
def test_each_user_gets_what_the_role_table_allows_on_its_own_objects(
    page, username, world, users, browser, request
):
    if page.setup:
        page.setup(world)
    user = world.user(username)
    if page.password:
        request.getfixturevalue("cheap_password")(user)
    target = page.target(world, user) if page.target else None
    response = _call(
        browser(username), page, pk=target.pk if target else None, body=page.body(world, user)
    )
    assert response.status_code == page.expect[username], _explain(response)
    if response.status_code == 302 and page.method == "POST":
        # A refusal of a stale page also redirects; success says nothing is wrong.
        assert not _errors(response), _errors(response)
    if response.status_code == 200:
        assert_shows_nothing_hidden(response, username, users)


def _hidden_targets(page, username):
    """The titles of the engagements the user may not see that hold an object of the page's
    kind; or `[None]` for the other tenant's object of a page not about an engagement."""
    if page.hidden_kind:
        holders = HIDDEN_KINDS[page.hidden_kind][1]
        return [title for title in hidden(username) if title in holders]
    return [None] if page.foreign else []


HIDDEN_CASES = [
    pytest.param(page, username, id=f"{page.title} as {username}")
    for page in TABLE
    for username in TENANT_USERS
    if _hidden_targets(page, username)
]


@pytest.mark.parametrize(("page", "username"), HIDDEN_CASES)
def test_what_the_user_may_not_see_is_answered_as_if_it_did_not_exist(
    page, username, world, users, browser
):
    # No setup: it arranges the user's own object, and the answer must not depend on the
    # state of the hidden one.
    user = world.user(username)
    client = browser(username)
    # A fresh body for each request: an uploaded file is read once.
    # Nothing tells a hidden object apart from one that does not exist.
    missing = _call(client, page, pk=MISSING_ID, body=page.body(world, user))
    for title in _hidden_targets(page, username):
        if title is not None:
            stranger = HIDDEN_KINDS[page.hidden_kind][0](world, title)
            expected = 404
        else:
            stranger = page.foreign(world, user)
            expected = page.foreign_status(user) if page.foreign_status else 404
        response = _call(client, page, pk=stranger.pk, body=page.body(world, user))
        assert response.status_code == expected, (title, _explain(response))
        if expected == 200:
            assert_shows_nothing_hidden(response, username, users)
            continue
        assert missing.status_code == response.status_code, (title, _explain(missing))
        assert missing.content == response.content, title


def test_the_hidden_walk_covers_every_page_about_an_object():
    """Every page with an id in its URL is pointed at objects the user may not see."""
    walked = {page.name for page in TABLE if page.hidden_kind or page.foreign}
    with_id = {name for name, route in html_pages().items() if "<int:pk>" in route}
    assert with_id == walked, sorted(with_id ^ walked)


# -- lists, dashboards and scorecards -----------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    label: str
    url: Callable  # (world) -> url
    expect: Mapping[str, int]
    # The strings the page must show each user (what they do see), so that an empty page,
    # or the wrong user's page, cannot pass.
    shows: Callable = lambda username: set()
    # Whether the page lists notifications, which the demo leaves one-sided.
    notifications: bool = False


def _visible_deliverables(username):
    return {t for title in VISIBLE_TO[username] for t in DELIVERABLES[title]}


def _visible_accepted(username, *only):
    return {t for title in VISIBLE_TO[username] for t in ACCEPTED[title] if not only or t in only}


def _knowledge(q):
    return lambda w: reverse("deliverables:knowledge") + "?" + urlencode({"q": q})


def _filtered(name, **filters):
    """A list filtered by the id of a demo object: an engagement by title, a client or a
    provider by slug."""

    def url(w):
        ids = {}
        for key, value in filters.items():
            if key == "engagement":
                ids[key] = w.engagement(value).pk
            elif key == "client":
                ids[key] = w.client(value).pk
            else:
                ids[key] = w.provider(value).pk
        return reverse(name) + "?" + urlencode(ids)

    return url


def _scorecard(slug):
    return lambda w: reverse("vendors:scorecard", args=[w.provider(slug).pk])


def _compare(w):
    ids = [w.provider(slug).pk for slug in PROVIDER_NAMES]
    return reverse("vendors:compare") + "?" + urlencode({"providers": ids}, doseq=True)


# Who works for whom in the demo engagements (shared/DEMO.md).
ENGAGEMENT_PROVIDER = {
    PHASE_TWO: "bio-analytics",
    RWE: "bio-analytics",
    EU_BANKS: "ledger-research",
}


def _scorecard_scope(username, slug):
    """How many engagements the card says it counts: those the user sees with that provider."""
    count = sum(1 for title in VISIBLE_TO[username] if ENGAGEMENT_PROVIDER[title] == slug)
    plural = "" if count == 1 else "s"
    return f"Computed from the {count} engagement{plural} with {PROVIDER_NAMES[slug]}"


def _scorecard_status(slug):
    """Clients and staff see every provider's card, a provider only its own firm's."""
    return {
        username: 404 if username in PROVIDER_USERS and ORGANISATION[username] != slug else 200
        for username in USERS
    }


LISTINGS = [
    Listing("home", lambda w: reverse("home"), every(200), notifications=True),
    Listing(
        "engagements:list",
        lambda w: reverse("engagements:list"),
        every(200),
        shows=lambda username: set(VISIBLE_TO[username]),
    ),
    Listing(
        "deliverables:list",
        lambda w: reverse("deliverables:list"),
        every(200),
        shows=_visible_deliverables,
    ),
    Listing(
        "deliverables:knowledge",
        lambda w: reverse("deliverables:knowledge"),
        every(200),
        shows=_visible_accepted,
    ),
    *(
        Listing(
            f"deliverables:knowledge q={q}",
            _knowledge(q),
            every(200),
            shows=lambda username, q=q: {
                title for title in _visible_accepted(username) if q in title.lower()
            },
        )
        # Words of each tenant's accepted titles, not the titles themselves: the search box
        # shows the query back to whoever typed it.
        for q in ("analysis plan", "initiation")
    ),
    Listing("deliverables:knowledge q=report", _knowledge("report"), every(200)),
    *(
        # A filter naming an engagement the user may not see narrows to nothing of it.
        Listing(
            f"deliverables:list engagement={title}",
            _filtered("deliverables:list", engagement=title),
            every(200),
        )
        for title in (PHASE_TWO, EU_BANKS)
    ),
    *(
        Listing(
            f"engagements:list client={slug}",
            _filtered("engagements:list", client=slug),
            every(200),
        )
        for slug in CLIENT_NAMES
    ),
    *(
        Listing(
            f"engagements:list provider={slug}",
            _filtered("engagements:list", provider=slug),
            every(200),
        )
        for slug in ("bio-analytics", "ledger-research")
    ),
    Listing("vendors:directory", lambda w: reverse("vendors:directory"), every(200)),
    *(
        Listing(
            f"vendors:scorecard of {slug}",
            _scorecard(slug),
            _scorecard_status(slug),
            shows=lambda username, slug=slug: {_scorecard_scope(username, slug)},
        )
        for slug in ("bio-analytics", "ledger-research")
    ),
    Listing("vendors:compare every provider", _compare, only(200, VENDOR_APPROVALS)),
    Listing(
        "vendors:approvals", lambda w: reverse("vendors:approvals"), only(200, VENDOR_APPROVALS)
    ),
    Listing("vendors:teams", lambda w: reverse("vendors:teams"), only(200, MANAGE_TEAMS)),
    Listing(
        "notifications:list",
        lambda w: reverse("notifications:list"),
        every(200),
        notifications=True,
    ),
    Listing(
        "audit:trail",
        lambda w: reverse("audit:trail"),
        only(200, CLIENT_ADMINS | PROVIDER_ADMINS | {STAFF}),
    ),
]


def _news_on_every_side(world):
    """A notification about each engagement to people who see it."""
    for username, title in (
        (C_MANAGER, PHASE_TWO),
        (P_ADMIN, RWE),
        (ANALYST, PHASE_TWO),
        ("northwind.manager", EU_BANKS),
        ("ledger.analyst", EU_BANKS),
    ):
        notification_services.notify(
            kind=NotificationKind.ENGAGEMENT_STATUS_CHANGED,
            recipients=[world.user(username)],
            title=f"{title} has news",
            engagement=world.engagement(title),
        )


LISTING_CASES = [
    pytest.param(listing, username, id=f"{listing.label} as {username}")
    for listing in LISTINGS
    for username in USERS
]


@pytest.mark.parametrize(("listing", "username"), LISTING_CASES)
def test_a_list_shows_what_the_user_sees_and_nothing_else(listing, username, world, users, browser):
    if listing.notifications:
        _news_on_every_side(world)
    response = browser(username).get(listing.url(world))
    assert response.status_code == listing.expect[username], _explain(response)
    if response.status_code != 200:
        return
    assert_shows_nothing_hidden(response, username, users)
    text = page_text(response)
    missing = sorted(s for s in listing.shows(username) if s not in text)
    assert not missing, f"{username} should see {missing}"


def test_the_lists_are_every_list_page():
    """The list walk covers every page without an id that shows rows of engagements."""
    listed = {listing.label.split()[0] for listing in LISTINGS}
    assert listed >= {
        "home",
        "engagements:list",
        "deliverables:list",
        "deliverables:knowledge",
        "vendors:directory",
        "vendors:approvals",
        "vendors:teams",
        "notifications:list",
    }


# -- another tenant's objects named in a form -----------------------------------------------


@dataclass(frozen=True)
class Smuggled:
    """A form posted by a user allowed to use it, naming someone or something of another
    tenant where the form expects the user's own: refused, and nothing changes."""

    label: str
    page: Page
    username: str
    body: Callable  # (world) -> the form's data
    state: Callable  # (world) -> what must not change
    status: int = 400


def _page(name, method="POST"):
    return next(page for page in TABLE if page.key == (name, method))


def _people_on(engagement_title):
    return lambda w: sorted(
        w.engagement(engagement_title)
        .deliverables.exclude(assignee=None)
        .values_list("title", "assignee__username")
    )


SMUGGLED = [
    Smuggled(
        "plan work for another provider's analyst",
        _page("engagements:plan_deliverable"),
        C_MANAGER,
        lambda w: {
            "title": "Planted",
            "kind": "report",
            "due_at": due(),
            "assignee": w.user("ledger.analyst").pk,
        },
        lambda w: w.phase_two.deliverables.filter(title="Planted").exists(),
    ),
    Smuggled(
        "assign a deliverable to another provider's analyst",
        _page("deliverables:edit"),
        E_LEAD,
        lambda w: {"due_at": due(21), "assignee": w.user("ledger.analyst").pk},
        _people_on(PHASE_TWO),
    ),
    Smuggled(
        "make another client's manager the engagement's manager",
        _page("engagements:create"),
        C_MANAGER,
        lambda w: {**new_terms(w, None), "client_manager": w.user("northwind.manager").pk},
        lambda w: Engagement.objects.filter(title="Biomarker discovery").exists(),
    ),
    Smuggled(
        "share an engagement with another client's manager",
        _page("engagements:grant_access"),
        C_MANAGER,
        lambda w: {"user": w.user("northwind.manager").pk},
        lambda w: EngagementUserObjectPermission.objects.filter(
            user=w.user("northwind.manager"), content_object=w.rwe
        ).exists(),
        status=302,
    ),
    Smuggled(
        "staff an engagement with another provider's team",
        _page("engagements:set_teams"),
        E_LEAD,
        lambda w: {"teams": [w.team("EU Banks").pk]},
        lambda w: sorted(w.phase_two.teams.values_list("name", flat=True)),
        status=302,
    ),
    Smuggled(
        "make another provider's admin the lead",
        _page("engagements:assign_lead"),
        P_ADMIN,
        lambda w: {"lead": w.user("ledger.admin").pk},
        lambda w: w.phase_two.provider_lead_id,
        status=302,
    ),
    Smuggled(
        "create a team with another provider's analyst",
        _page("vendors:teams"),
        P_ADMIN,
        lambda w: {"name": "Planted", "members": [w.user("ledger.analyst").pk]},
        lambda w: sorted(w.user("ledger.analyst").groups.values_list("name", flat=True)),
    ),
    Smuggled(
        "add another provider's analyst to a team",
        _page("vendors:team_edit"),
        P_ADMIN,
        lambda w: {"operation": "add_member", "add-user": w.user("ledger.analyst").pk},
        lambda w: sorted(w.team("Biostatistics").members.values_list("username", flat=True)),
    ),
    Smuggled(
        "remove another provider's analyst from a team",
        _page("vendors:team_edit"),
        P_ADMIN,
        lambda w: {"operation": "remove_member", "user": w.user("ledger.analyst").pk},
        lambda w: sorted(w.team("EU Banks").members.values_list("username", flat=True)),
        status=302,
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.label) for c in SMUGGLED])
def test_a_form_naming_another_tenants_object_is_refused(case, world, browser):
    user = world.user(case.username)
    target = case.page.target(world, user) if case.page.target else None
    before = case.state(world)
    response = _call(
        browser(case.username), case.page, pk=target.pk if target else None, body=case.body(world)
    )
    assert response.status_code == case.status, _explain(response)
    if case.status == 302:
        assert _errors(response), "a refusal must say why"
    assert case.state(world) == before


# Someone of the user's own organisation, whose notifications are theirs alone.
COLLEAGUE = {
    C_ADMIN: C_MANAGER,
    C_MANAGER: C_VIEWER,
    C_VIEWER: C_ADMIN,
    P_ADMIN: E_LEAD,
    E_LEAD: ANALYST,
    ANALYST: QA,
    QA: "bio.writer",
    "bio.writer": P_ADMIN,
    "ledger.admin": "ledger.analyst",
    "ledger.analyst": "ledger.admin",
    STAFF: C_ADMIN,
}


@pytest.mark.parametrize(("username", "colleague"), sorted(COLLEAGUE.items()))
def test_a_colleagues_notification_is_answered_as_if_it_did_not_exist(
    username, colleague, world, browser
):
    theirs = world.notification_for(colleague)
    page = _page("notifications:read")
    client = browser(username)
    response = _call(client, page, pk=theirs.pk)
    missing = _call(client, page, pk=MISSING_ID)
    assert response.status_code == missing.status_code == 404, _explain(response)
    theirs.refresh_from_db()
    assert theirs.read_at is None


# -- signed out --------------------------------------------------------------------------------


SIGNED_OUT_CASES = [
    pytest.param(page, id=page.title)
    for page in {page.key: page for page in reversed(TABLE)}.values()
]


@pytest.mark.parametrize("page", SIGNED_OUT_CASES)
def test_a_signed_out_visitor_is_sent_to_sign_in_everywhere_but_the_sign_in(
    page, world, browser, cheap_password
):
    if page.setup:
        page.setup(world)
    owner = world.user(C_MANAGER)
    cheap_password(owner)
    target = page.target(world, owner) if page.target else None
    pk = target.pk if target else None
    response = _call(browser(None), page, pk=pk, body=page.body(world, owner))
    if page.name == "accounts:login":
        # The page itself, and a good password signs in.
        assert response.status_code == (200 if page.method == "GET" else 302), _explain(response)
        if page.method == "POST":
            assert response["Location"] == reverse("home")
        return
    assert response.status_code == 302, _explain(response)
    login = reverse("accounts:login")
    if page.name == "accounts:logout":
        assert response["Location"] == login
        return
    assert response["Location"] == f"{login}?{urlencode({'next': _url(page, pk)}, safe='/')}"


def test_nothing_changed_for_a_signed_out_visitor(world, browser):
    """The redirects above come before the work: a signed-out POST changes nothing."""
    client = browser(None)
    phase_two = world.phase_two
    memo = world.deliverable("Safety signal memo")
    client.post(reverse("engagements:transition", args=[phase_two.pk, "hold"]), {"reason": "x"})
    client.post(reverse("deliverables:submit", args=[memo.pk]), {"file": pdf("memo.pdf")})
    assert world.phase_two.status == phase_two.status
    assert not Submission.objects.filter(deliverable=memo).exists()
