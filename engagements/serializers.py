from django.contrib.auth import get_user_model
from rest_framework import serializers

from kpo.accounts.choices import Role
from kpo.rest import IdField
from kpo.text import LONG_TEXT_MAX_LENGTH
from vendors.models import AnalystTeam, Provider, ServiceLine
from vendors.serializers import SameProviderUsers

from .models import Document, Engagement

ENGAGEMENT_FIELDS = [
    "id",
    "reference",
    "title",
    "brief",
    "client",
    "provider",
    "service_line",
    "status",
    "confidentiality",
    "start_date",
    "end_date",
    "budget",
    "currency",
    "pricing_model",
    "client_manager",
    "provider_lead",
    "teams",
    "qa_required",
    "reminder_lead_hours",
    "review_turnaround_hours",
    "quality_threshold",
    "created_at",
    "updated_at",
]
CLIENT_SIDE_FIELDS = frozenset(
    {
        "title",
        "brief",
        "provider",
        "service_line",
        "confidentiality",
        "start_date",
        "end_date",
        "budget",
        "currency",
        "pricing_model",
        "client_manager",
        "qa_required",
        "reminder_lead_hours",
        "review_turnaround_hours",
        "quality_threshold",
    }
)
PROVIDER_SIDE_FIELDS = frozenset({"provider_lead", "teams"})


class SameClientManagers(IdField):
    """Managers and admins of the caller's own client."""

    def get_queryset(self):
        request = self.context.get("request")
        client_id = getattr(getattr(request, "user", None), "client_id", None)
        return get_user_model().objects.filter(
            client_id=client_id, role__in=[Role.CLIENT_ADMIN, Role.CLIENT_MANAGER], is_active=True
        )


class OwnProviderTeams(IdField):
    def get_queryset(self):
        request = self.context.get("request")
        provider_id = getattr(getattr(request, "user", None), "provider_id", None)
        return AnalystTeam.objects.filter(provider_id=provider_id)


class EngagementSerializer(serializers.ModelSerializer):
    service_line = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Engagement
        fields = ENGAGEMENT_FIELDS
        read_only_fields = ENGAGEMENT_FIELDS


class EngagementWriteSerializer(serializers.ModelSerializer):
    """The client's terms; `client` always comes from the caller."""

    provider = IdField(queryset=Provider.objects.filter(is_active=True))
    service_line = serializers.SlugRelatedField(
        slug_field="slug", queryset=ServiceLine.objects.all()
    )
    client_manager = SameClientManagers(required=False, allow_null=False)
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        max_length=3,
        error_messages={"invalid": "Use a 3-letter ISO 4217 code."},
    )

    class Meta:
        model = Engagement
        fields = sorted(CLIENT_SIDE_FIELDS)
        extra_kwargs = {"brief": {"max_length": LONG_TEXT_MAX_LENGTH}}


class EngagementUpdateSerializer(EngagementWriteSerializer):
    """PATCH: the client's terms, or the provider's staffing (lead and teams)."""

    provider_lead = SameProviderUsers(required=False, allow_null=True)
    teams = OwnProviderTeams(many=True, required=False)

    class Meta(EngagementWriteSerializer.Meta):
        fields = sorted(CLIENT_SIDE_FIELDS | PROVIDER_SIDE_FIELDS)
        extra_kwargs = {
            name: {**EngagementWriteSerializer.Meta.extra_kwargs.get(name, {}), "required": False}
            for name in CLIENT_SIDE_FIELDS
        }


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = [
            "id",
            "engagement",
            "title",
            "classification",
            "filename",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class DocumentUploadSerializer(serializers.ModelSerializer):
    engagement = IdField(queryset=Engagement.objects.none())
    file = serializers.FileField(allow_empty_file=False, use_url=False)

    class Meta:
        model = Document
        fields = ["engagement", "file", "title", "classification"]
        extra_kwargs = {"title": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["engagement"].queryset = Engagement.objects.restrict(request.user, "view")
