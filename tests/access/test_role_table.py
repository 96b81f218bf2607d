"""The design's role table, proved role by role against the real services.

`ROLE_TABLE` is the table of DESIGN.md "Roles and what they may do", copied as it stands:
it is the expected matrix. `ACTIONS` says how each row is exercised, one or more real actions
per row (a service call, or a read through `Model.objects.restrict`). The generic test walks
every (action, role) pair and expects:

- a ✓ → the action is done, and its effect is in the database;
- a blank → `ActionNotAllowed` (403) when the role can see the object, `NotVisible` (404)
  when it cannot (`hidden_from`: providers never see a client's draft).

A qualified cell such as "✓ (teams)" allows only the row's actions whose name mentions the
qualifier.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.choices import DeliverableStatus
from deliverables.models import Comment, Deliverable, Review, Submission
from engagements import services as engagement_services
from engagements.choices import EngagementStatus
from engagements.models import Document, Engagement
from kpo.access import policy
from kpo.accounts.choices import Role
from kpo.audit.models import AuditEvent
from kpo.domain import ActionNotAllowed, NotVisible
from vendors import services as vendor_services
from vendors.models import Provider, ServiceLine, VendorApproval

from .support import GOOD_SCORES, ROLES, must_see, pdf

ROLE_TABLE = """
| action | c_admin | c_manager | c_viewer | p_admin | e_lead | analyst | qa |
|---|---|---|---|---|---|---|---|
| see engagement, its deliverables, documents, comments | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| create / edit engagement terms, propose, hold, resume, complete, terminate | ✓ | ✓ | | | | | |
| accept or decline a proposal; assign lead and teams | | | | ✓ | ✓ (teams) | | |
| plan deliverables | ✓ | ✓ | | | ✓ | | |
| upload data-room documents | ✓ | ✓ | | | | | |
| upload a submission | | | | | ✓ | ✓ | |
| QA pass / return (never one's own submission) | | | | | ✓ | | ✓ |
| client review: accept / request changes / reject | ✓ | ✓ | | | | | |
| read the audit trail | ✓ | ✓ | | ✓ | ✓ | | |
| vendor approvals and due diligence | ✓ | | | | | | |
"""


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_role_table(table):
    """{row label: {role: cell}} from a markdown table."""
    header, _rule, *rows = table.strip().splitlines()
    roles = _cells(header)[1:]
    matrix = {}
    for line in rows:
        label, *cells = _cells(line)
        matrix[label] = dict(zip(roles, cells, strict=True))
    return matrix


MATRIX = parse_role_table(ROLE_TABLE)
SEE, MANAGE, RESPOND, PLAN, DOCUMENTS, SUBMIT, QA, REVIEW, AUDIT, VENDORS = MATRIX

# The table's column names for the roles of `kpo.accounts.choices.Role`.
TABLE_ROLES = {
    "c_admin": Role.CLIENT_ADMIN,
    "c_manager": Role.CLIENT_MANAGER,
    "c_viewer": Role.CLIENT_VIEWER,
    "p_admin": Role.PROVIDER_ADMIN,
    "e_lead": Role.ENGAGEMENT_LEAD,
    "analyst": Role.ANALYST,
    "qa": Role.QA_REVIEWER,
}

DONE, FORBIDDEN, HIDDEN = "done", "forbidden (403)", "hidden (404)"
PROVIDER_ROLES = frozenset({"p_admin", "e_lead", "analyst", "qa"})


@dataclass(frozen=True)
class Action:
    row: str
    name: str
    # act(demo, user, target): does the action as `user` and asserts its effect; raises
    # ActionNotAllowed or NotVisible exactly as the service does.
    act: Callable
    # The policy action the services check for it.
    policy_action: str
    # arrange(demo) -> target: what must exist first, done by the people who would do it.
    arrange: Callable | None = None
    hidden_from: frozenset = frozenset()

    def __str__(self):
        return self.name.replace(" ", "_")


def allowed(row, role, action_name):
    cell = MATRIX[row][role]
    if not cell.startswith("✓"):
        return False
    qualifier = cell.removeprefix("✓").strip().strip("()")
    return not qualifier or qualifier in action_name


def expected_outcome(action, role):
    if allowed(action.row, role, action.name):
        assert role not in action.hidden_from, "a role cannot be allowed what it cannot see"
        return DONE
    return HIDDEN if role in action.hidden_from else FORBIDDEN


def attempt(action, demo, user):
    target = action.arrange(demo) if action.arrange else None
    try:
        action.act(demo, user, target)
    except ActionNotAllowed:
        return FORBIDDEN
    except NotVisible:
        return HIDDEN
    return DONE


# --- see engagement, its deliverables, documents, comments -------------------------------


def see_engagement(demo, user, _):
    must_see(Engagement.objects.restrict(user, "view"), [demo.phase_two])


def see_deliverables(demo, user, _):
    phase_two = demo.phase_two
    must_see(Deliverable.objects.restrict(user, "view"), phase_two.deliverables.all())
    submissions = Submission.objects.filter(deliverable__engagement=phase_two)
    must_see(Submission.objects.restrict(user, "view"), submissions)
    must_see(
        Review.objects.restrict(user, "view"),
        Review.objects.filter(deliverable__engagement=phase_two),
    )
    latest = submissions.get(deliverable__title="Interim efficacy report", version=2)
    with deliverable_services.submission_download(actor=user, submission=latest) as file:
        assert file.read().startswith(b"%PDF")


def see_documents(demo, user, _):
    documents = Document.objects.filter(engagement=demo.phase_two)
    must_see(Document.objects.restrict(user, "view"), documents)
    with engagement_services.document_download(actor=user, document=documents.get()) as file:
        assert file.read().startswith(b"%PDF")


def see_comments(demo, user, _):
    must_see(
        Comment.objects.restrict(user, "view"),
        Comment.objects.filter(deliverable__engagement=demo.phase_two),
    )


# --- create / edit engagement terms, propose, hold, resume, complete, terminate ----------


def create_engagement(demo, user, _):
    engagement = engagement_services.engagement_create(
        actor=user,
        provider=demo.bio,
        service_line=ServiceLine.objects.get(slug="medical_writing"),
        title="Clinical study report",
    )
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.DRAFT
    assert engagement.client_id == user.client_id


def edit_terms(demo, user, _):
    engagement_services.engagement_update(
        actor=user, engagement=demo.phase_two, quality_threshold=Decimal("4.00")
    )
    assert demo.phase_two.quality_threshold == Decimal("4.00")


def propose(demo, user, draft):
    engagement_services.engagement_propose(actor=user, engagement=draft)
    draft.refresh_from_db()
    assert draft.status == EngagementStatus.PROPOSED


def hold(demo, user, _):
    engagement_services.engagement_hold(actor=user, engagement=demo.phase_two)
    assert demo.phase_two.status == EngagementStatus.ON_HOLD


def hold_phase_two(demo):
    engagement_services.engagement_hold(actor=demo.manager, engagement=demo.phase_two)


def resume(demo, user, _):
    engagement_services.engagement_resume(actor=user, engagement=demo.phase_two)
    assert demo.phase_two.status == EngagementStatus.ACTIVE


def complete(demo, user, _):
    engagement_services.engagement_complete(actor=user, engagement=demo.phase_two)
    assert demo.phase_two.status == EngagementStatus.COMPLETED


def terminate(demo, user, _):
    engagement_services.engagement_terminate(actor=user, engagement=demo.phase_two)
    assert demo.phase_two.status == EngagementStatus.TERMINATED


# --- accept or decline a proposal; assign lead and teams ---------------------------------


def accept_proposal(demo, user, rwe):
    engagement_services.engagement_accept(actor=user, engagement=rwe)
    rwe.refresh_from_db()
    assert rwe.status == EngagementStatus.ACTIVE


def decline_proposal(demo, user, rwe):
    engagement_services.engagement_decline(actor=user, engagement=rwe, reason="No capacity.")
    rwe.refresh_from_db()
    assert rwe.status == EngagementStatus.DRAFT


def assign_lead(demo, user, _):
    new_lead = demo.user("bio.admin")
    engagement_services.engagement_assign_lead(actor=user, engagement=demo.phase_two, lead=new_lead)
    assert demo.phase_two.provider_lead_id == new_lead.pk


def assign_teams(demo, user, _):
    writing = demo.team("Medical Writing")
    engagement_services.engagement_assign_team(actor=user, engagement=demo.phase_two, team=writing)
    assert demo.phase_two.teams.filter(pk=writing.pk).exists()


def remove_teams(demo, user, _):
    biostatistics = demo.team("Biostatistics")
    engagement_services.engagement_remove_team(
        actor=user, engagement=demo.phase_two, team=biostatistics
    )
    assert not demo.phase_two.teams.filter(pk=biostatistics.pk).exists()


# --- plan deliverables --------------------------------------------------------------------


def plan_deliverable(demo, user, _):
    deliverable_services.deliverable_plan(
        actor=user,
        engagement=demo.phase_two,
        title="Exploratory biomarker tables",
        due_at=demo.plan_due_at(),
    )
    assert demo.phase_two.deliverables.filter(title="Exploratory biomarker tables").exists()


def reschedule_deliverable(demo, user, _):
    due_at = demo.plan_due_at().replace(microsecond=0)
    deliverable_services.deliverable_update(
        actor=user, deliverable=demo.deliverable("Subgroup response analysis"), due_at=due_at
    )
    assert demo.deliverable("Subgroup response analysis").due_at == due_at


# --- upload data-room documents -----------------------------------------------------------


def upload_document(demo, user, _):
    document = engagement_services.document_upload(
        actor=user, engagement=demo.phase_two, file=pdf("Site list.pdf")
    )
    assert Document.objects.filter(pk=document.pk, uploaded_by=user).exists()


# --- upload a submission ------------------------------------------------------------------


def submit_version(demo, user, _):
    deliverable_services.deliverable_submit(
        actor=user, deliverable=demo.deliverable("Safety signal memo"), file=pdf("Memo v1.pdf")
    )
    memo = demo.deliverable("Safety signal memo")
    assert memo.status == DeliverableStatus.IN_QA
    assert memo.submissions.get(version=1).submitted_by_id == user.pk


# --- QA pass / return ---------------------------------------------------------------------


def submitted_by_a_colleague(demo):
    """The memo waits in QA, submitted by nobody in the table: bio.writer, whose Medical
    Writing team the lead brings onto the engagement for it."""
    engagement_services.engagement_assign_team(
        actor=demo.user("bio.lead"), engagement=demo.phase_two, team=demo.team("Medical Writing")
    )
    deliverable_services.deliverable_submit(
        actor=demo.user("bio.writer"),
        deliverable=demo.deliverable("Safety signal memo"),
        file=pdf("Memo v1.pdf"),
    )


def qa_pass(demo, user, _):
    deliverable_services.deliverable_qa(
        actor=user, deliverable=demo.deliverable("Safety signal memo"), decision="pass"
    )
    assert demo.deliverable("Safety signal memo").status == DeliverableStatus.IN_REVIEW


def qa_return(demo, user, _):
    deliverable_services.deliverable_qa(
        actor=user, deliverable=demo.deliverable("Safety signal memo"), decision="return"
    )
    assert demo.deliverable("Safety signal memo").status == DeliverableStatus.CHANGES_REQUESTED


# --- client review: accept / request changes / reject ------------------------------------


def _review(decision, status, scores=None):
    def review(demo, user, _):
        deliverable_services.deliverable_review(
            actor=user,
            deliverable=demo.deliverable("Interim efficacy report"),
            decision=decision,
            scores=scores,
            comment="Reviewed.",
        )
        assert demo.deliverable("Interim efficacy report").status == status

    return review


# --- read the audit trail -----------------------------------------------------------------


def read_audit_trail(demo, user, _):
    phase_two = demo.phase_two
    trail = AuditEvent.objects.restrict(user).filter(engagement=phase_two)
    if not trail.exists():
        # An empty trail is what a role without the right is given.
        raise ActionNotAllowed("no audit events")
    assert trail.count() == AuditEvent.objects.filter(engagement=phase_two).count()


# --- vendor approvals and due diligence ---------------------------------------------------


def record_verdict(demo, user, _):
    lexpoint = Provider.objects.get(slug="lexpoint")
    vendor_services.vendor_approval_create(
        actor=user, provider=lexpoint, status="pending", risk_tier="high"
    )
    assert VendorApproval.objects.filter(client__slug="alpha-pharma", provider=lexpoint).exists()


def change_verdict(demo, user, _):
    approval = VendorApproval.objects.get(
        client__slug="alpha-pharma", provider__slug="ledger-research"
    )
    today = timezone.localdate()
    vendor_services.vendor_approval_update(
        actor=user,
        approval=approval,
        status="approved",
        assessed_on=today,
        expires_on=today + timedelta(days=365),
    )
    approval.refresh_from_db()
    assert approval.status == "approved"


ACTIONS = [
    Action(SEE, "see the engagement", see_engagement, "view"),
    Action(SEE, "see its deliverables and versions", see_deliverables, "view"),
    Action(SEE, "see its documents", see_documents, "view"),
    Action(SEE, "see its comments", see_comments, "view"),
    Action(MANAGE, "create an engagement", create_engagement, "create_engagement"),
    Action(MANAGE, "edit the terms", edit_terms, "manage"),
    Action(
        MANAGE,
        "propose a draft",
        propose,
        "manage",
        arrange=lambda demo: demo.draft(),
        hidden_from=PROVIDER_ROLES,
    ),
    Action(MANAGE, "hold", hold, "manage"),
    Action(MANAGE, "resume", resume, "manage", arrange=hold_phase_two),
    Action(
        MANAGE,
        "complete",
        complete,
        "manage",
        arrange=lambda demo: demo.close_open_deliverables(demo.phase_two),
    ),
    Action(MANAGE, "terminate", terminate, "manage"),
    Action(
        RESPOND, "accept a proposal", accept_proposal, "respond", arrange=lambda d: d.staff_rwe()
    ),
    Action(
        RESPOND, "decline a proposal", decline_proposal, "respond", arrange=lambda d: d.staff_rwe()
    ),
    Action(RESPOND, "assign the lead", assign_lead, "assign_lead"),
    Action(RESPOND, "assign teams", assign_teams, "assign_teams"),
    Action(RESPOND, "remove teams", remove_teams, "assign_teams"),
    Action(PLAN, "plan a deliverable", plan_deliverable, "plan"),
    Action(PLAN, "reschedule a deliverable", reschedule_deliverable, "plan"),
    Action(DOCUMENTS, "upload a document", upload_document, "upload_document"),
    Action(SUBMIT, "submit a version", submit_version, "submit"),
    Action(QA, "qa pass", qa_pass, "qa", arrange=submitted_by_a_colleague),
    Action(QA, "qa return", qa_return, "qa", arrange=submitted_by_a_colleague),
    Action(
        REVIEW,
        "accept a version",
        _review("accept", DeliverableStatus.ACCEPTED, GOOD_SCORES),
        "review",
    ),
    Action(
        REVIEW,
        "request changes",
        _review("request_changes", DeliverableStatus.CHANGES_REQUESTED),
        "review",
    ),
    Action(REVIEW, "reject a version", _review("reject", DeliverableStatus.REJECTED), "review"),
    Action(AUDIT, "read the audit trail", read_audit_trail, "read_audit"),
    Action(VENDORS, "record a vendor verdict", record_verdict, "vendor_approvals"),
    Action(VENDORS, "change a vendor verdict", change_verdict, "vendor_approvals"),
]


def test_the_role_table_has_a_column_for_every_demo_role_and_an_action_for_every_row():
    assert all(tuple(cells) == ROLES for cells in MATRIX.values())
    assert set(TABLE_ROLES) == set(ROLES)
    assert set(TABLE_ROLES.values()) == set(Role)
    assert {action.row for action in ACTIONS} == set(MATRIX)
    assert len({action.name for action in ACTIONS}) == len(ACTIONS)


@pytest.mark.parametrize("role", ROLES)
def test_each_column_is_played_by_a_demo_user_of_that_role(role, demo):
    assert demo.user(role).role == TABLE_ROLES[role]


@pytest.mark.parametrize(
    ("action", "role"),
    [pytest.param(action, role, id=f"{action}-{role}") for action in ACTIONS for role in ROLES],
)
def test_each_role_may_do_exactly_what_the_role_table_allows(action, role, demo):
    assert attempt(action, demo, demo.user(role)) == expected_outcome(action, role)


@pytest.mark.parametrize(
    ("action", "role"),
    [pytest.param(action, role, id=f"{action}-{role}") for action in ACTIONS for role in ROLES],
)
def test_the_policy_grants_each_action_to_the_roles_the_table_names(action, role):
    roles = policy.ACTION_ROLES.get(action.policy_action) or policy.ORGANISATION_ACTIONS.get(
        action.policy_action
    )
    assert (TABLE_ROLES[role] in roles) is allowed(action.row, role, action.name)


STATE_CHANGES = [action for action in ACTIONS if action.row not in (SEE, AUDIT)]


@pytest.mark.parametrize("action", [pytest.param(a, id=str(a)) for a in STATE_CHANGES])
def test_staff_may_look_at_everything_but_act_on_nothing(action, demo):
    assert attempt(action, demo, demo.user("staff")) == FORBIDDEN


@pytest.mark.parametrize("action", [pytest.param(a, id=str(a)) for a in ACTIONS if a.row == SEE])
def test_staff_see_every_engagement_and_everything_in_it(action, demo):
    assert attempt(action, demo, demo.user("staff")) == DONE


def test_a_lead_cannot_qa_a_version_they_submitted_but_the_qa_reviewer_can(demo):
    lead, qa = demo.user("bio.lead"), demo.user("bio.qa")
    deliverable_services.deliverable_submit(
        actor=lead, deliverable=demo.deliverable("Safety signal memo"), file=pdf("Memo v1.pdf")
    )

    for decision in ("pass", "return"):
        with pytest.raises(ActionNotAllowed):
            deliverable_services.deliverable_qa(
                actor=lead, deliverable=demo.deliverable("Safety signal memo"), decision=decision
            )
    assert demo.deliverable("Safety signal memo").status == DeliverableStatus.IN_QA

    deliverable_services.deliverable_qa(
        actor=qa, deliverable=demo.deliverable("Safety signal memo"), decision="pass"
    )
    assert demo.deliverable("Safety signal memo").status == DeliverableStatus.IN_REVIEW


def test_an_analyst_cannot_check_their_own_version_but_the_lead_can(demo):
    analyst = demo.user("bio.analyst")
    deliverable_services.deliverable_submit(
        actor=analyst, deliverable=demo.deliverable("Safety signal memo"), file=pdf("Memo v1.pdf")
    )
    with pytest.raises(ActionNotAllowed):
        deliverable_services.deliverable_qa(
            actor=analyst, deliverable=demo.deliverable("Safety signal memo"), decision="pass"
        )
    deliverable_services.deliverable_qa(
        actor=demo.user("bio.lead"),
        deliverable=demo.deliverable("Safety signal memo"),
        decision="return",
    )
    assert demo.deliverable("Safety signal memo").status == DeliverableStatus.CHANGES_REQUESTED
