import datetime

import django_filters
from django import forms

from .choices import DeliverableStatus, SlaState
from .models import Deliverable


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, normalised to UTC. A time whose UTC equivalent falls outside the
    calendar (year 0 or 10000) is invalid input, not a server error."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class DeliverableFilterSet(django_filters.FilterSet):
    """Shared by the API list and the HTML deliverable lists."""

    status = django_filters.ChoiceFilter(choices=DeliverableStatus.choices)
    sla_state = django_filters.ChoiceFilter(choices=SlaState.choices)
    due_before = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Deliverable
        fields = ["engagement", "status", "assignee", "sla_state", "due_before", "due_after"]
