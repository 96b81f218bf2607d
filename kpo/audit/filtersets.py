import datetime

import django_filters
from django import forms
from django.utils import timezone

from .models import AuditEvent


def _start_of(day: datetime.date) -> datetime.datetime | None:
    """Midnight at the start of `day` in the site's time zone; None past the calendar's ends."""
    try:
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        start.astimezone(datetime.UTC)
    except OverflowError:
        return None
    return start


_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditEventFilterSet(django_filters.FilterSet):
    """Shared by the organisation trail page, its CSV export and the API list.

    `since` and `until` are whole days, both included (a range on `created_at`, so the index
    serves it); `action` is one action, or a family of them when it ends with a dot
    ("auth." for every sign-in event)."""

    since = django_filters.DateFilter(
        method="filter_since",
        label="From",
        widget=_DATE,
        help_text="Events of this day and later (YYYY-MM-DD).",
    )
    until = django_filters.DateFilter(
        method="filter_until",
        label="To",
        widget=_DATE,
        help_text="Events of this day and earlier (YYYY-MM-DD).",
    )
    action = django_filters.CharFilter(
        method="filter_action",
        max_length=64,
        label="Action",
        widget=forms.TextInput(attrs={"placeholder": "e.g. access.denied or auth."}),
        help_text='One action ("access.denied"), or every action of a family ("auth.").',
    )

    class Meta:
        model = AuditEvent
        fields = ["since", "until", "action"]

    def filter_since(self, queryset, name, value):
        start = _start_of(value)
        return queryset.filter(created_at__gte=start) if start else queryset

    def filter_until(self, queryset, name, value):
        try:
            end = _start_of(value + datetime.timedelta(days=1))
        except OverflowError:
            end = None
        return queryset.filter(created_at__lt=end) if end else queryset

    def filter_action(self, queryset, name, value):
        value = value.strip()
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)
