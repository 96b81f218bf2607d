"""Forms of the provider pages: a client's vendor assessments and a provider's analyst teams.
They shape the input; the services decide, and their errors are shown next to the field."""

from django import forms
from django.contrib.auth import get_user_model

from engagements.forms import DATE_INPUT, UserChoiceField, UserMultipleChoiceField
from kpo.accounts.choices import Role
from kpo.text import LONG_TEXT_MAX_LENGTH, CheckedTextForm

from .choices import ApprovalStatus, RiskTier
from .selectors import providers_for
from .services import TEAM_MEMBER_ROLES

COMPARE_LIMIT = 4


class VendorApprovalForm(CheckedTextForm):
    """A client's due-diligence verdict on one provider."""

    provider = forms.ModelChoiceField(queryset=None, empty_label="Choose a provider")
    status = forms.ChoiceField(choices=ApprovalStatus.choices, initial=ApprovalStatus.PENDING)
    risk_tier = forms.ChoiceField(choices=RiskTier.choices, initial=RiskTier.MEDIUM)
    assessed_on = forms.DateField(required=False, widget=DATE_INPUT)
    expires_on = forms.DateField(
        required=False,
        widget=DATE_INPUT,
        help_text="After this date engagements with the provider cannot be activated or resumed.",
    )
    notes = forms.CharField(
        required=False, max_length=LONG_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, user, approval=None, assessed_providers=(), **kwargs):
        if approval is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(approval, name) for name in self.base_fields if name != "provider"
            }
        super().__init__(*args, **kwargs)
        if approval is None:
            self.fields["provider"].queryset = (
                providers_for(user)
                .prefetch_related(None)
                .exclude(pk__in=assessed_providers)
                .order_by("name")
            )
        else:
            # The provider of an assessment never changes.
            del self.fields["provider"]

    def clean(self):
        cleaned = super().clean()
        assessed, expires = cleaned.get("assessed_on"), cleaned.get("expires_on")
        if assessed and expires and expires < assessed:
            self.add_error("expires_on", "An approval cannot expire before it was assessed.")
        return cleaned


def provider_people(provider_id, roles):
    return (
        get_user_model()
        .objects.filter(provider_id=provider_id, role__in=list(roles), is_active=True)
        .order_by("first_name", "last_name", "username")
    )


class TeamForm(CheckedTextForm):
    """A new analyst team: its name, lead and first members."""

    name = forms.CharField(max_length=120, label="Team name")
    lead = UserChoiceField(queryset=None, required=False, empty_label="No lead yet")
    members = UserMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, provider_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = provider_people(provider_id, [Role.ENGAGEMENT_LEAD])
        self.fields["members"].queryset = provider_people(provider_id, TEAM_MEMBER_ROLES)


class TeamRenameForm(CheckedTextForm):
    name = forms.CharField(max_length=120, label="Team name")


class TeamLeadForm(forms.Form):
    lead = UserChoiceField(queryset=None, required=False, empty_label="No lead", label="Lead")

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = provider_people(team.provider_id, [Role.ENGAGEMENT_LEAD])
        self.fields["lead"].initial = team.lead_id
        self.fields["lead"].help_text = "The lead sees everything the team works on."


class TeamMemberForm(forms.Form):
    user = UserChoiceField(queryset=None, label="Person", empty_label="Choose a person")

    def __init__(self, *args, team, exclude_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = provider_people(team.provider_id, TEAM_MEMBER_ROLES).exclude(
            pk__in=list(exclude_ids)
        )


class TeamMemberRemoveForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(provider_id=team.provider_id)


class CompareForm(forms.Form):
    """Which providers to put side by side (two to four)."""

    providers = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Providers",
        help_text="Choose two to four.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["providers"].queryset = (
            providers_for(user).prefetch_related(None).order_by("name")
        )

    def clean_providers(self):
        providers = self.cleaned_data["providers"]
        if len(providers) > COMPARE_LIMIT:
            raise forms.ValidationError(
                f"Compare at most {COMPARE_LIMIT} providers at a time; you chose {len(providers)}."
            )
        return providers
