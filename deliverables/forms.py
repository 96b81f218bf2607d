"""Forms of the deliverable pages. They only shape and check the input; every rule of the
domain (who may act, which state allows what, the quality threshold, accepted file types) is
the services' to decide, and their errors are shown next to the field they are about."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from engagements.selectors import team_members
from kpo.accounts.choices import Role
from kpo.files import ACCEPTED_LABELS, ACCEPTED_TYPES, format_size
from kpo.text import CheckedTextForm
from kpo.web import apply_form_error

from .choices import RUBRIC, ReviewDecision
from .services import MAX_COMMENT_LENGTH

RUBRIC_LABELS = {
    "accuracy": ("Accuracy", "Facts, figures and methods are correct."),
    "completeness": ("Completeness", "Every question of the brief is answered."),
    "insight": ("Insight", "Goes beyond description to useful conclusions."),
    "relevance": ("Relevance", "Focused on what the client needs to decide."),
    "presentation": ("Presentation", "Clear structure, readable charts and tables."),
}
SCORE_MEANINGS = {1: "Poor", 2: "Weak", 3: "Adequate", 4: "Good", 5: "Excellent"}
# Rendered as "<value> <meaning>": the number is what is stored, the word says what it means.
SCORE_CHOICES = list(SCORE_MEANINGS.items())


class SubmissionForm(CheckedTextForm):
    """A new version of the deliverable: the file and what changed."""

    file = forms.FileField(
        label="File",
        help_text=(
            f"{ACCEPTED_LABELS}; up to {format_size(settings.UPLOAD_MAX_BYTES)}. "
            "The type is checked from the file's content."
        ),
        error_messages={"required": "Choose the file to upload.", "empty": "The file is empty."},
    )
    notes = forms.CharField(
        label="Notes for the reviewer",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What this version contains or what changed since the last one.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {
                "accept": ",".join(f".{extension}" for extension in ACCEPTED_TYPES),
                # Read by static/js/upload.js to warn before a too-large file is sent.
                "data-max-bytes": str(settings.UPLOAD_MAX_BYTES),
            }
        )


class QaForm(CheckedTextForm):
    """Provider QA: pass the current version to the client or return it to the analyst."""

    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            (ReviewDecision.PASS, "Pass — send it to the client"),
            (ReviewDecision.RETURN, "Return — send it back to the analyst"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose pass or return."},
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you checked, or what must change before it goes to the client.",
    )


class ReviewForm(CheckedTextForm):
    """The client's review: a decision, the five-part rubric and a comment. Scores are
    optional here; the service decides when they are needed (accepting) and whether their
    mean reaches the engagement's threshold."""

    decision = forms.ChoiceField(
        label="Decision",
        choices=[
            (ReviewDecision.ACCEPT, "Accept"),
            (ReviewDecision.REQUEST_CHANGES, "Request changes"),
            (ReviewDecision.REJECT, "Reject"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose accept, request changes or reject."},
    )
    comment = forms.CharField(
        label="Comment for the provider",
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in RUBRIC:
            label, help_text = RUBRIC_LABELS[name]
            self.fields[name] = forms.TypedChoiceField(
                label=label,
                help_text=help_text,
                choices=SCORE_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        # Errors about the rubric as a whole (missing scores, below the threshold).
        self.rubric_errors: list[str] = []

    @property
    def rubric_fields(self):
        return [self[name] for name in RUBRIC]

    def scores(self) -> dict[str, int]:
        """The criteria the reviewer scored; the service says whether that is enough."""
        return {
            name: self.cleaned_data[name]
            for name in RUBRIC
            if self.cleaned_data.get(name) is not None
        }

    def add_service_error(self, error) -> None:
        if error.field == "scores":
            self.rubric_errors.append(error.message)
        else:
            apply_form_error(self, error)


class CommentForm(CheckedTextForm):
    body = forms.CharField(
        label="Add a comment",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write something before posting."},
    )


class DeliverableEditForm(forms.Form):
    """Due time and assignee, changed by whoever plans the work."""

    due_at = forms.DateTimeField(
        label="Due (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "Give a due date and time."},
    )
    assignee = forms.ModelChoiceField(
        label="Assignee",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Nobody yet",
    )

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people who may do the work: the engagement's analysts and leads.
        User = get_user_model()
        self.fields["assignee"].queryset = User.objects.filter(
            Q(pk__in=team_members(engagement).values("pk")) | Q(pk=engagement.provider_lead_id),
            provider_id=engagement.provider_id,
            role__in=(Role.ANALYST, Role.ENGAGEMENT_LEAD),
            is_active=True,
        ).order_by("first_name", "last_name", "username")


class CancelForm(CheckedTextForm):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=500,
        widget=forms.TextInput,
        help_text="Shown in the history and the audit trail.",
    )
    confirm = forms.BooleanField(
        label="Yes, cancel this deliverable. Nothing more will be expected of it.",
        error_messages={"required": "Tick the box to confirm the cancellation."},
    )
