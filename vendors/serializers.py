from django.contrib.auth import get_user_model
from rest_framework import serializers

from kpo.rest import IdField
from kpo.text import LONG_TEXT_MAX_LENGTH

from .models import AnalystTeam, Provider, ServiceLine, VendorApproval


class ServiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceLine
        fields = ["id", "slug", "name"]


class ProviderSerializer(serializers.ModelSerializer):
    service_lines = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Provider
        fields = ["id", "name", "slug", "country", "service_lines", "is_active"]


class VendorApprovalSerializer(serializers.ModelSerializer):
    provider = IdField(queryset=Provider.objects.filter(is_active=True))

    class Meta:
        model = VendorApproval
        fields = [
            "id",
            "client",
            "provider",
            "status",
            "risk_tier",
            "assessed_on",
            "expires_on",
            "notes",
            "updated_at",
        ]
        read_only_fields = ["id", "client", "updated_at"]
        extra_kwargs = {"notes": {"max_length": LONG_TEXT_MAX_LENGTH}}


class VendorApprovalUpdateSerializer(VendorApprovalSerializer):
    # Declared fields ignore Meta.read_only_fields, so the provider is redeclared read-only:
    # a verdict is always about the provider it was recorded for.
    provider = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta(VendorApprovalSerializer.Meta):
        read_only_fields = ["id", "client", "provider", "updated_at"]


class SameProviderUsers(IdField):
    """Users of the caller's own provider; anyone else is "does not exist"."""

    def get_queryset(self):
        request = self.context.get("request")
        provider_id = getattr(getattr(request, "user", None), "provider_id", None)
        return get_user_model().objects.filter(provider_id=provider_id, is_active=True)


class TeamSerializer(serializers.ModelSerializer):
    lead = SameProviderUsers(allow_null=True, required=False)
    members = SameProviderUsers(many=True, required=False)

    class Meta:
        model = AnalystTeam
        fields = ["id", "provider", "name", "lead", "members"]
        read_only_fields = ["id", "provider"]
        # Uniqueness per provider is checked by the service with a clear message.
        validators = []


class ScorecardFiguresSerializer(serializers.Serializer):
    deliverables_delivered = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    average_quality = serializers.FloatField(allow_null=True)
    first_pass_acceptance_rate = serializers.FloatField(allow_null=True)
    average_review_hours = serializers.FloatField(allow_null=True)
    breaches = serializers.IntegerField()
    open_breaches = serializers.IntegerField()


class EngagementScorecardSerializer(ScorecardFiguresSerializer):
    engagement = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()


class ScorecardSerializer(ScorecardFiguresSerializer):
    provider = serializers.IntegerField()
    by_engagement = EngagementScorecardSerializer(many=True)
