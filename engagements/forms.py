"""Forms of the engagement pages. They shape and check the input; the domain's rules (who may
act, which state allows what, whether a provider offers a service line) are the services' to
decide, and their errors are shown next to the field they are about (`kpo.web.apply_form_error`).
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.db.models import Q

from deliverables.choices import DeliverableKind
from kpo.accounts.choices import Role
from kpo.files import ACCEPTED_LABELS, format_size
from kpo.text import LONG_TEXT_MAX_LENGTH, CheckedTextForm
from vendors.models import AnalystTeam, ServiceLine
from vendors.selectors import providers_for

from .choices import Confidentiality, DocumentClassification, EngagementStatus, PricingModel
from .selectors import team_members

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class ProviderChoiceField(forms.ModelChoiceField):
    """Each provider with the service lines it offers, so the choice can be made without a
    script that filters one list by the other."""

    def label_from_instance(self, provider):
        lines = ", ".join(line.name for line in provider.service_lines.all())
        return f"{provider.name} ({lines})" if lines else provider.name


class CurrencyField(forms.CharField):
    """ISO 4217 codes are upper case; accept them as people type them."""

    def to_python(self, value):
        return super().to_python(value).upper()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name() or user.username
        return f"{name} · {user.get_role_display()}"


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name() or user.username
        return f"{name} · {user.get_role_display()}"


def client_managers(client_id):
    """Who may manage an engagement of this client: its active managers and admins."""
    return (
        get_user_model()
        .objects.filter(
            client_id=client_id,
            role__in=[Role.CLIENT_ADMIN, Role.CLIENT_MANAGER],
            is_active=True,
        )
        .order_by("first_name", "last_name", "username")
    )


class EngagementForm(CheckedTextForm):
    """The client's terms of an engagement. Once the provider has seen it, the provider and
    the service line are fixed (shown, not editable)."""

    title = forms.CharField(max_length=200)
    brief = forms.CharField(
        required=False,
        max_length=LONG_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The research questions the provider is to answer.",
    )
    service_line = forms.ModelChoiceField(
        queryset=ServiceLine.objects.order_by("name"), empty_label="Choose a service line"
    )
    provider = ProviderChoiceField(
        queryset=None,
        empty_label="Choose a provider",
        help_text="Active providers, with the service lines each offers.",
    )
    confidentiality = forms.ChoiceField(
        choices=Confidentiality.choices,
        initial=Confidentiality.CONFIDENTIAL,
        help_text="Restricted work needs a provider with a valid ISO 27001 or SOC 2 certificate.",
    )
    start_date = forms.DateField(required=False, widget=DATE_INPUT)
    end_date = forms.DateField(required=False, widget=DATE_INPUT)
    budget = forms.DecimalField(
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    currency = CurrencyField(
        max_length=3,
        initial="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a 3-letter ISO 4217 code, e.g. USD.")],
        help_text="ISO 4217 code, e.g. USD, EUR.",
    )
    pricing_model = forms.ChoiceField(choices=PricingModel.choices)
    client_manager = UserChoiceField(
        queryset=None,
        required=False,
        empty_label="Me",
        help_text="Manages the engagement and always keeps access to it.",
    )
    qa_required = forms.BooleanField(
        required=False,
        initial=True,
        label="Provider QA required",
        help_text="Each version is checked by the provider's QA before you see it.",
    )
    reminder_lead_hours = forms.IntegerField(
        min_value=1,
        max_value=24 * 30,
        initial=24,
        label="Reminder lead time (hours)",
        help_text="How long before a due time the provider is reminded.",
    )
    review_turnaround_hours = forms.IntegerField(
        min_value=1,
        max_value=24 * 60,
        initial=72,
        label="Review turnaround (hours)",
        help_text="How long your team has to review a version.",
    )
    quality_threshold = forms.DecimalField(
        min_value=Decimal("1"),
        max_value=Decimal("5"),
        max_digits=3,
        decimal_places=2,
        initial=Decimal("3.00"),
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text="The lowest overall score (1–5) at which a deliverable can be accepted.",
    )

    def __init__(self, *args, user, engagement=None, **kwargs):
        if engagement is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(engagement, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        self.engagement = engagement
        client_id = engagement.client_id if engagement is not None else user.client_id
        self.fields["provider"].queryset = providers_for(user).order_by("name")
        self.fields["client_manager"].queryset = client_managers(client_id)
        if engagement is not None:
            self.fields["client_manager"].required = True
            self.fields["client_manager"].empty_label = "Choose a manager"
            if engagement.status != EngagementStatus.DRAFT:
                # Fixed once proposed; the service refuses a change anyway.
                for name in ("provider", "service_line"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = "Fixed once the engagement has been proposed."

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date cannot be before the start date.")
        return cleaned

    def service_values(self) -> dict:
        """The cleaned terms as the services take them."""
        values = dict(self.cleaned_data)
        if self.engagement is None and values.get("client_manager") is None:
            values.pop("client_manager", None)  # the service makes the creator the manager
        return values


class TransitionForm(CheckedTextForm):
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)


class LeadForm(forms.Form):
    lead = UserChoiceField(queryset=None, required=False, empty_label="No lead", label="Lead")

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = (
            get_user_model()
            .objects.filter(
                provider_id=engagement.provider_id,
                role__in=[Role.ENGAGEMENT_LEAD, Role.PROVIDER_ADMIN],
                is_active=True,
            )
            .order_by("first_name", "last_name", "username")
        )
        self.fields["lead"].initial = engagement.provider_lead_id


class TeamsForm(forms.Form):
    teams = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Teams"
    )

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = AnalystTeam.objects.filter(
            provider_id=engagement.provider_id
        ).order_by("name")
        self.fields["teams"].initial = [team.pk for team in engagement.teams.all()]


class GrantAccessForm(forms.Form):
    user = UserChoiceField(queryset=None, label="Colleague", empty_label="Choose a colleague")

    def __init__(self, *args, engagement, granted_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(
                client_id=engagement.client_id,
                role__in=[Role.CLIENT_MANAGER, Role.CLIENT_VIEWER],
                is_active=True,
            )
            .exclude(pk__in=list(granted_ids))
            .order_by("first_name", "last_name", "username")
        )


class RevokeAccessForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(
            client_id=engagement.client_id
        )


class PlanDeliverableForm(CheckedTextForm):
    """A new deliverable on the engagement's timeline."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=LONG_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(choices=DeliverableKind.choices, initial=DeliverableKind.REPORT)
    due_at = forms.DateTimeField(
        label="Due",
        input_formats=[DATETIME_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT_FORMAT),
        help_text=f"In {settings.TIME_ZONE}.",
    )
    assignee = UserChoiceField(
        queryset=None,
        required=False,
        empty_label="Not assigned yet",
        help_text="Analysts and leads working on this engagement.",
    )

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        on_teams = team_members(engagement, roles=[Role.ANALYST, Role.ENGAGEMENT_LEAD]).values("pk")
        self.fields["assignee"].queryset = User.objects.filter(
            Q(pk__in=on_teams) | Q(pk=engagement.provider_lead_id, role=Role.ENGAGEMENT_LEAD),
            provider_id=engagement.provider_id,
            is_active=True,
        ).order_by("first_name", "last_name", "username")


class DocumentUploadForm(CheckedTextForm):
    file = forms.FileField(
        help_text=(
            f"{ACCEPTED_LABELS}; up to {format_size(settings.UPLOAD_MAX_BYTES)}. "
            "The type is checked from the file's content."
        ),
        error_messages={"required": "Choose the file to upload.", "empty": "The file is empty."},
    )
    title = forms.CharField(
        max_length=200, required=False, help_text="Defaults to the file's name."
    )
    classification = forms.ChoiceField(
        choices=DocumentClassification.choices, initial=DocumentClassification.CONFIDENTIAL
    )
