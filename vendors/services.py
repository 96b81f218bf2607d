"""State changes of the provider relationship: vendor approvals (the client's due
diligence), certifications, and analyst teams whose membership drives engagement access."""

import uuid

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from kpo.access import grants, policy
from kpo.accounts.choices import Role
from kpo.audit.services import audit_record, diff
from kpo.domain import BusinessRuleViolation, NotVisible

from .models import AnalystTeam, Certification, VendorApproval

APPROVAL_FIELDS = ("status", "risk_tier", "assessed_on", "expires_on", "notes")
TEAM_MEMBER_ROLES = (Role.ANALYST, Role.QA_REVIEWER, Role.ENGAGEMENT_LEAD)


def _check_approval_dates(assessed_on, expires_on):
    if assessed_on and expires_on and expires_on < assessed_on:
        raise BusinessRuleViolation(
            "An approval cannot expire before it was assessed.", field="expires_on"
        )


def vendor_approval_create(*, actor, provider, **values):
    """Record the actor's client's due-diligence verdict on a provider (one per pair)."""
    policy.require_organisation_action(actor, "vendor_approvals")
    unknown = set(values) - set(APPROVAL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown approval fields: {sorted(unknown)}")
    _check_approval_dates(values.get("assessed_on"), values.get("expires_on"))
    try:
        with transaction.atomic():
            approval = VendorApproval.objects.create(
                client_id=actor.client_id, provider=provider, decided_by=actor, **values
            )
            audit_record(
                actor=actor,
                action="vendor_approval.create",
                target=approval,
                client=approval.client,
                provider=provider,
                changes=values,
            )
    except IntegrityError:
        raise BusinessRuleViolation(
            f"Your organisation already has an assessment of {provider}; update it instead.",
            field="provider",
        ) from None
    return approval


def vendor_approval_update(*, actor, approval, **values):
    """Change a verdict, its risk tier or its validity."""
    policy.require_organisation_action(actor, "vendor_approvals")
    unknown = set(values) - set(APPROVAL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown approval fields: {sorted(unknown)}")
    with transaction.atomic():
        approval = VendorApproval.objects.select_for_update().get(pk=approval.pk)
        if approval.client_id != actor.client_id:
            raise NotVisible("Not found.")
        _check_approval_dates(
            values.get("assessed_on", approval.assessed_on),
            values.get("expires_on", approval.expires_on),
        )
        changes = diff(approval, APPROVAL_FIELDS, values)
        if not changes:
            return approval
        for field in changes:
            setattr(approval, field, values[field])
        approval.decided_by = actor
        approval.save()
        audit_record(
            actor=actor,
            action="vendor_approval.update",
            target=approval,
            client=approval.client,
            provider=approval.provider,
            changes=changes,
        )
    return approval


def certification_add(*, actor, provider, kind, issued_on, expires_on, reference=""):
    """A provider admin records one of their firm's attestations."""
    policy.require_organisation_action(actor, "manage_teams")
    if actor.provider_id != provider.pk:
        raise NotVisible("Not found.")
    if expires_on <= issued_on:
        raise BusinessRuleViolation(
            "A certificate must expire after it was issued.", field="expires_on"
        )
    with transaction.atomic():
        certification = Certification.objects.create(
            provider=provider,
            kind=kind,
            issued_on=issued_on,
            expires_on=expires_on,
            reference=reference,
        )
        audit_record(
            actor=actor,
            action="certification.add",
            target=certification,
            provider=provider,
            changes={"kind": kind, "expires_on": expires_on},
        )
    return certification


def _require_team_admin(actor, provider_id):
    policy.require_organisation_action(actor, "manage_teams")
    if actor.provider_id != provider_id:
        raise NotVisible("Not found.")


def _check_member(team, user):
    if user.provider_id != team.provider_id or user.role not in TEAM_MEMBER_ROLES:
        raise BusinessRuleViolation(
            "Team members must be analysts, QA reviewers or leads of this provider.",
            field="members",
        )


def _locked_team(team) -> AnalystTeam:
    return AnalystTeam.objects.select_for_update().select_related("group").get(pk=team.pk)


def team_create(*, actor, name, lead=None, members=()):
    """Create an analyst team in the actor's provider, with its grant-carrying group."""
    _require_team_admin(actor, actor.provider_id)
    name = name.strip()
    if not name:
        raise BusinessRuleViolation("A team needs a name.", field="name")
    with transaction.atomic():
        if AnalystTeam.objects.filter(provider_id=actor.provider_id, name__iexact=name).exists():
            raise BusinessRuleViolation(f"There is already a team called {name}.", field="name")
        # The group only carries grants; its name must be unique forever, team names are not.
        group = Group.objects.create(name=f"analyst-team:{uuid.uuid4().hex}")
        team = AnalystTeam.objects.create(provider_id=actor.provider_id, name=name, group=group)
        audit_record(
            actor=actor,
            action="team.create",
            target=team,
            provider=team.provider,
            changes={"name": name},
        )
        if lead is not None:
            team = team_set_lead(actor=actor, team=team, lead=lead)
        for user in members:
            team_add_member(actor=actor, team=team, user=user)
    return team


def team_rename(*, actor, team, name):
    _require_team_admin(actor, team.provider_id)
    name = name.strip()
    if not name:
        raise BusinessRuleViolation("A team needs a name.", field="name")
    with transaction.atomic():
        team = _locked_team(team)
        if name == team.name:
            return team
        if (
            AnalystTeam.objects.filter(provider_id=team.provider_id, name__iexact=name)
            .exclude(pk=team.pk)
            .exists()
        ):
            raise BusinessRuleViolation(f"There is already a team called {name}.", field="name")
        old, team.name = team.name, name
        team.save(update_fields=["name"])
        audit_record(
            actor=actor,
            action="team.rename",
            target=team,
            provider=team.provider,
            changes={"name": [old, name]},
        )
    return team


def _sync_group_membership(team, user) -> None:
    """A user is in the team's group while they are a member or its lead."""
    belongs = team.lead_id == user.pk or team.members.filter(pk=user.pk).exists()
    if belongs:
        grants.add_to_team_group(team, user)
    else:
        grants.remove_from_team_group(team, user)


def team_set_lead(*, actor, team, lead):
    """Name the team's lead, who then sees everything the team works on."""
    _require_team_admin(actor, team.provider_id)
    if lead is not None and (
        lead.provider_id != team.provider_id or lead.role != Role.ENGAGEMENT_LEAD
    ):
        raise BusinessRuleViolation(
            "The team lead must be an engagement lead of this provider.", field="lead"
        )
    with transaction.atomic():
        team = _locked_team(team)
        old = team.lead
        if (old.pk if old else None) == (lead.pk if lead else None):
            return team
        team.lead = lead
        team.save(update_fields=["lead"])
        for user in (old, lead):
            if user is not None:
                _sync_group_membership(team, user)
        audit_record(
            actor=actor,
            action="team.set_lead",
            target=team,
            provider=team.provider,
            changes={"lead": [old.username if old else None, lead.username if lead else None]},
        )
    return team


def team_add_member(*, actor, team, user):
    """Add a member; they see the team's engagements at once."""
    _require_team_admin(actor, team.provider_id)
    _check_member(team, user)
    with transaction.atomic():
        team = _locked_team(team)
        if team.members.filter(pk=user.pk).exists():
            return team
        team.members.add(user)
        _sync_group_membership(team, user)
        audit_record(
            actor=actor,
            action="team.add_member",
            target=team,
            provider=team.provider,
            changes={"user": user.username},
        )
    return team


def team_remove_member(*, actor, team, user):
    """Remove a member; they lose the team's engagements at once."""
    _require_team_admin(actor, team.provider_id)
    with transaction.atomic():
        team = _locked_team(team)
        if not team.members.filter(pk=user.pk).exists():
            return team
        team.members.remove(user)
        _sync_group_membership(team, user)
        audit_record(
            actor=actor,
            action="team.remove_member",
            target=team,
            provider=team.provider,
            changes={"user": user.username},
        )
    return team


def team_set_members(*, actor, team, members):
    """Make the team's members exactly `members`."""
    _require_team_admin(actor, team.provider_id)
    wanted = {user.pk: user for user in members}
    with transaction.atomic():
        current = {user.pk: user for user in team.members.all()}
        for pk, user in wanted.items():
            if pk not in current:
                team = team_add_member(actor=actor, team=team, user=user)
        for pk, user in current.items():
            if pk not in wanted:
                team = team_remove_member(actor=actor, team=team, user=user)
    return team
