from django.contrib.auth import get_user_model
from rest_framework import serializers

from engagements.models import Engagement
from kpo.rest import IdField, ZonedDateTimeField
from kpo.text import LONG_TEXT_MAX_LENGTH

from .choices import CLIENT_DECISIONS, QA_DECISIONS
from .models import Comment, Deliverable, Review, Submission

DELIVERABLE_FIELDS = [
    "id",
    "engagement",
    "title",
    "description",
    "kind",
    "due_at",
    "assignee",
    "status",
    "sla_state",
    "delivered_at",
    "accepted_at",
    "current_version",
    "overall_score",
    "created_at",
    "updated_at",
]


class ProviderUsers(IdField):
    """Assignees are provider users; the service checks they work on the engagement."""

    def get_queryset(self):
        return get_user_model().objects.filter(provider__isnull=False, is_active=True)


class DeliverableSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deliverable
        fields = DELIVERABLE_FIELDS
        read_only_fields = DELIVERABLE_FIELDS


class DeliverableCreateSerializer(serializers.ModelSerializer):
    engagement = IdField(queryset=Engagement.objects.none())
    assignee = ProviderUsers(required=False, allow_null=True)
    due_at = ZonedDateTimeField()

    class Meta:
        model = Deliverable
        fields = ["engagement", "title", "description", "kind", "due_at", "assignee"]
        extra_kwargs = {"description": {"max_length": LONG_TEXT_MAX_LENGTH}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["engagement"].queryset = Engagement.objects.restrict(request.user, "view")


class DeliverableUpdateSerializer(serializers.ModelSerializer):
    assignee = ProviderUsers(required=False, allow_null=True)
    due_at = ZonedDateTimeField(required=False)

    class Meta:
        model = Deliverable
        fields = ["title", "description", "kind", "due_at", "assignee"]
        extra_kwargs = {
            **{name: {"required": False} for name in fields},
            "description": {"required": False, "max_length": LONG_TEXT_MAX_LENGTH},
        }


class SubmissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Submission
        fields = [
            "id",
            "deliverable",
            "version",
            "notes",
            "filename",
            "size",
            "content_type",
            "sha256",
            "submitted_by",
            "submitted_at",
        ]
        read_only_fields = fields


class SubmissionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, use_url=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class ScoresSerializer(serializers.Serializer):
    accuracy = serializers.IntegerField(min_value=1, max_value=5, required=False)
    completeness = serializers.IntegerField(min_value=1, max_value=5, required=False)
    insight = serializers.IntegerField(min_value=1, max_value=5, required=False)
    relevance = serializers.IntegerField(min_value=1, max_value=5, required=False)
    presentation = serializers.IntegerField(min_value=1, max_value=5, required=False)


class ReviewSerializer(serializers.ModelSerializer):
    scores = ScoresSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "deliverable",
            "submission",
            "kind",
            "decision",
            "scores",
            "overall",
            "comment",
            "reviewer",
            "created_at",
        ]
        read_only_fields = fields


class ClientReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=CLIENT_DECISIONS)
    scores = ScoresSerializer(required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class QaSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=QA_DECISIONS)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comment
        fields = ["id", "deliverable", "author", "body", "created_at"]
        read_only_fields = ["id", "deliverable", "author", "created_at"]
        extra_kwargs = {"body": {"max_length": 10_000}}


class KnowledgeItemSerializer(serializers.ModelSerializer):
    engagement_reference = serializers.CharField(source="engagement.reference")
    engagement_title = serializers.CharField(source="engagement.title")
    provider = serializers.IntegerField(source="engagement.provider_id")
    provider_name = serializers.CharField(source="engagement.provider.name")

    class Meta:
        model = Deliverable
        fields = [
            "id",
            "title",
            "description",
            "kind",
            "engagement",
            "engagement_reference",
            "engagement_title",
            "provider",
            "provider_name",
            "accepted_at",
            "overall_score",
            "current_version",
        ]
        read_only_fields = fields
