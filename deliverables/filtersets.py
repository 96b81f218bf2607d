import django_filters

from .choices import DeliverableStatus, SlaState
from .models import Deliverable


class DeliverableFilterSet(django_filters.FilterSet):
    """Shared by the API list and the HTML deliverable lists."""

    status = django_filters.ChoiceFilter(choices=DeliverableStatus.choices)
    sla_state = django_filters.ChoiceFilter(choices=SlaState.choices)
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Deliverable
        fields = ["engagement", "status", "assignee", "sla_state", "due_before", "due_after"]
