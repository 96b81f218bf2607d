import django_filters

from vendors.models import ServiceLine

from .choices import EngagementStatus
from .models import Document, Engagement


class EngagementFilterSet(django_filters.FilterSet):
    """Shared by the API list and the HTML engagement list."""

    status = django_filters.ChoiceFilter(choices=EngagementStatus.choices)
    service_line = django_filters.ModelChoiceFilter(
        queryset=ServiceLine.objects.all(), to_field_name="slug"
    )

    class Meta:
        model = Engagement
        fields = ["status", "provider", "client", "service_line"]


class DocumentFilterSet(django_filters.FilterSet):
    class Meta:
        model = Document
        fields = ["engagement"]
