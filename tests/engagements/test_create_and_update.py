"""Creating an engagement and changing its terms."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from engagements import services
from engagements.choices import EngagementStatus
from engagements.models import Engagement, ReferenceSequence
from kpo.access import grants, policy
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, InvalidTransition, NotVisible


def test_a_manager_creates_a_draft_for_their_own_client_and_manages_it(
    users, provider, service_line
):
    manager = users.alpha_manager

    engagement = services.engagement_create(
        actor=manager,
        provider=provider("bio-analytics"),
        service_line=service_line("medical_writing"),
        title="Clinical study report",
        brief="Write the CSR for ONC-221.",
        quality_threshold=Decimal("4.00"),
    )

    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.DRAFT
    assert engagement.client == manager.client
    assert engagement.client_manager == manager
    assert engagement.created_by == manager
    assert engagement.quality_threshold == Decimal("4.00")
    assert grants.user_is_granted(engagement, manager)
    assert policy.can_see(manager, engagement)


def test_the_reference_has_the_year_and_a_four_digit_number(new_engagement):
    engagement = new_engagement()

    year = timezone.localdate().year
    assert re.fullmatch(rf"ENG-{year}-\d{{4}}", engagement.reference)


def test_references_are_unique_and_increase_with_each_engagement(new_engagement):
    existing = set(Engagement.objects.values_list("reference", flat=True))

    first = new_engagement(title="First")
    second = new_engagement(title="Second")

    assert first.reference not in existing
    assert second.reference not in existing | {first.reference}
    highest_before = max(int(ref.rsplit("-", 1)[1]) for ref in existing)
    first_number = int(first.reference.rsplit("-", 1)[1])
    second_number = int(second.reference.rsplit("-", 1)[1])
    assert highest_before < first_number < second_number
    assert second_number == first_number + 1


def test_the_client_is_always_the_actors_own(users, provider, service_line):
    engagement = services.engagement_create(
        actor=users.northwind_manager,
        provider=provider("ledger-research"),
        service_line=service_line("credit_analysis"),
        title="Credit review",
    )

    assert engagement.client.slug == "northwind"


def test_the_client_cannot_be_chosen_by_the_caller(users, provider, service_line):
    with pytest.raises(TypeError):
        services.engagement_create(
            actor=users.northwind_manager,
            provider=provider("ledger-research"),
            service_line=service_line("credit_analysis"),
            title="Credit review",
            client=users.alpha_manager.client,
        )


def test_an_admin_can_name_a_colleague_as_manager_who_is_then_granted(
    users, provider, service_line
):
    engagement = services.engagement_create(
        actor=users.alpha_admin,
        provider=provider("bio-analytics"),
        service_line=service_line("data_analytics"),
        title="Enrolment dashboard",
        client_manager=users.alpha_manager,
    )

    assert engagement.client_manager == users.alpha_manager
    assert grants.user_is_granted(engagement, users.alpha_manager)


@pytest.mark.parametrize("manager", ["northwind.manager", "alpha.viewer", "bio.lead"])
def test_a_manager_from_elsewhere_or_without_the_role_is_refused(
    users, provider, service_line, manager
):
    count = Engagement.objects.count()

    with pytest.raises(BusinessRuleViolation):
        services.engagement_create(
            actor=users.alpha_admin,
            provider=provider("bio-analytics"),
            service_line=service_line("data_analytics"),
            title="Enrolment dashboard",
            client_manager=users[manager],
        )

    assert Engagement.objects.count() == count


@pytest.mark.parametrize("username", ["alpha.viewer", "bio.admin", "bio.analyst"])
def test_only_client_admins_and_managers_create_engagements(
    users, provider, service_line, username
):
    count = Engagement.objects.count()

    with pytest.raises(ActionNotAllowed):
        services.engagement_create(
            actor=users[username],
            provider=provider("bio-analytics"),
            service_line=service_line("data_analytics"),
            title="Enrolment dashboard",
        )

    assert Engagement.objects.count() == count


def test_a_provider_that_does_not_offer_the_service_line_is_refused_and_nothing_is_created(
    users, provider, service_line
):
    count = Engagement.objects.count()
    sequence = list(ReferenceSequence.objects.values_list("year", "last_number"))

    with pytest.raises(BusinessRuleViolation) as refused:
        services.engagement_create(
            actor=users.alpha_manager,
            provider=provider("bio-analytics"),
            service_line=service_line("equity_research"),
            title="Pharma sector coverage",
        )

    assert refused.value.field == "service_line"
    assert Engagement.objects.count() == count
    assert list(ReferenceSequence.objects.values_list("year", "last_number")) == sequence


def test_an_end_date_before_the_start_date_is_refused(users, provider, service_line):
    today = timezone.localdate()

    with pytest.raises(BusinessRuleViolation) as refused:
        services.engagement_create(
            actor=users.alpha_manager,
            provider=provider("bio-analytics"),
            service_line=service_line("data_analytics"),
            title="Backwards",
            start_date=today,
            end_date=today.replace(year=today.year - 1),
        )

    assert refused.value.field == "end_date"


def test_the_manager_updates_the_terms_of_an_active_engagement(users, engagements):
    engagement = services.engagement_update(
        actor=users.alpha_manager,
        engagement=engagements.phase_two,
        title="Phase II oncology trial analysis (extended)",
        budget=Decimal("260000.00"),
        quality_threshold=Decimal("4.00"),
        reminder_lead_hours=48,
    )

    engagement.refresh_from_db()
    assert engagement.title == "Phase II oncology trial analysis (extended)"
    assert engagement.budget == Decimal("260000.00")
    assert engagement.quality_threshold == Decimal("4.00")
    assert engagement.reminder_lead_hours == 48


def test_an_update_that_changes_nothing_writes_nothing(users, engagements, snapshot):
    engagement = engagements.phase_two
    before = snapshot(engagement)

    services.engagement_update(
        actor=users.alpha_manager, engagement=engagement, title=engagement.title
    )

    assert snapshot(engagement) == before


def test_provider_and_service_line_can_change_while_a_draft(
    users, new_engagement, provider, service_line
):
    draft = new_engagement(line="data_analytics")

    services.engagement_update(
        actor=users.alpha_manager,
        engagement=draft,
        provider=provider("ledger-research"),
        service_line=service_line("financial_research"),
    )

    draft.refresh_from_db()
    assert draft.provider.slug == "ledger-research"
    assert draft.service_line.slug == "financial_research"


def test_a_draft_cannot_switch_to_a_service_line_its_provider_does_not_offer(
    users, new_engagement, service_line, snapshot
):
    draft = new_engagement()
    before = snapshot(draft)

    with pytest.raises(BusinessRuleViolation):
        services.engagement_update(
            actor=users.alpha_manager, engagement=draft, service_line=service_line("ip_research")
        )

    assert snapshot(draft) == before


@pytest.mark.parametrize(
    "status",
    [EngagementStatus.PROPOSED, EngagementStatus.ACTIVE, EngagementStatus.ON_HOLD],
)
@pytest.mark.parametrize(
    ("field", "slug"),
    [("provider", "ledger-research"), ("service_line", "data_analytics")],
)
def test_provider_and_service_line_are_fixed_once_proposed(
    users, new_engagement, provider, service_line, snapshot, status, field, slug
):
    engagement = new_engagement(status)
    value = provider(slug) if field == "provider" else service_line(slug)
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_update(
            actor=users.alpha_manager, engagement=engagement, **{field: value}
        )

    assert snapshot(engagement) == before


def test_repeating_the_current_provider_after_proposal_is_not_a_change(users, engagements):
    engagement = engagements.phase_two

    services.engagement_update(
        actor=users.alpha_manager,
        engagement=engagement,
        provider=engagement.provider,
        title="Renamed",
    )

    engagement.refresh_from_db()
    assert engagement.title == "Renamed"


@pytest.mark.parametrize("status", [EngagementStatus.COMPLETED, EngagementStatus.TERMINATED])
def test_a_closed_engagement_can_no_longer_be_changed(users, new_engagement, snapshot, status):
    engagement = new_engagement(status)
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_update(actor=users.alpha_manager, engagement=engagement, title="Late")

    assert snapshot(engagement) == before


@pytest.mark.parametrize("username", ["alpha.viewer", "bio.admin", "bio.lead"])
def test_only_the_client_side_managers_change_terms(users, engagements, snapshot, username):
    engagement = engagements.phase_two
    before = snapshot(engagement)

    with pytest.raises(ActionNotAllowed):
        services.engagement_update(actor=users[username], engagement=engagement, title="Mine")

    assert snapshot(engagement) == before


def test_another_clients_manager_is_told_the_engagement_does_not_exist(
    users, engagements, snapshot
):
    engagement = engagements.phase_two
    before = snapshot(engagement)

    with pytest.raises(NotVisible):
        services.engagement_update(
            actor=users.northwind_manager, engagement=engagement, title="Mine"
        )

    assert snapshot(engagement) == before


def test_handing_the_engagement_to_another_manager_moves_the_grant(users, new_engagement):
    engagement = new_engagement()
    admin_made = services.engagement_update(
        actor=users.alpha_manager, engagement=engagement, client_manager=users.alpha_admin
    )

    assert admin_made.client_manager == users.alpha_admin
    assert not grants.user_is_granted(engagement, users.alpha_manager)
    assert grants.user_is_granted(engagement, users.alpha_admin)
