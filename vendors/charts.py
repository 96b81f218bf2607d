"""Scorecard charts: pygal draws them on the server as inline SVG, so the pages stay free of
scripts.

pygal always embeds a configuration `<script>`, a `<style>` element and one `style=`
attribute (on its tooltip) in the SVG it writes. A Content-Security-Policy without
'unsafe-inline' would block all three, and the tooltip needs pygal's JavaScript anyway, so an
XML filter removes them before the SVG is serialised; the charts are styled by the classes pygal
puts on every element, from `static/css/engagements.css` (`.pygal-chart ...`). Each chart is paired
with a table of the same figures on its page, which is also what screen readers get.
"""

from datetime import date, datetime, time, timedelta

import pygal
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.safestring import mark_safe
from pygal.style import Style

from deliverables.choices import DeliverableStatus, SlaState
from deliverables.models import Deliverable

MONTHS_SHOWN = 12
MIN_MONTHS_DRAWN = 6
# Colour order of the series; the same classes (.color-0, .color-1, ...) are styled in CSS.
SERIES_LIMIT = 8


def _strip_active_content(root):
    """Drop what a strict Content-Security-Policy refuses: scripts, style elements and style
    attributes; and comments (they carry the generation date, which makes pages differ)."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else None
            if tag is None or tag.rsplit("}", 1)[-1] in ("script", "style"):
                parent.remove(child)
    for element in root.iter():
        if isinstance(element.tag, str):
            element.attrib.pop("style", None)
    return root


# Font sizes pygal lays the chart out with; the stylesheet draws the text at the same sizes.
STYLE = Style(
    font_family="system-ui, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=12,
    value_label_font_size=12,
    tooltip_font_size=12,
    no_data_font_size=20,
)


def _config(**overrides):
    config = pygal.Config()
    config.style = STYLE
    config.js = []  # no pygal JavaScript (it would come from a CDN)
    config.css = []
    config.no_prefix = True
    config.disable_xml_declaration = True
    config.classes = ["pygal-chart"]
    # Drawn about the size it is shown at (half a page wide), so that its text reads at 12px.
    config.width = 560
    config.height = 320
    config.margin = 16
    config.legend_at_bottom = True
    config.legend_at_bottom_columns = 2
    config.show_y_guides = True
    config.truncate_label = 28
    config.truncate_legend = 40
    config.no_data_text = "Nothing delivered yet"
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def _svg(chart, label: str) -> str:
    chart.add_xml_filter(_strip_active_content)

    def describe(root):
        # The card around the chart carries its heading; the SVG gets a description instead
        # of a second visible title.
        root.attrib.pop("id", None)  # empty with `no_prefix`, and nothing refers to it
        root.set("role", "img")
        root.set("aria-label", label)
        for child in root:
            if child.tag == "title":
                child.text = label
        return root

    chart.add_xml_filter(describe)
    return mark_safe(chart.render(is_unicode=True))  # noqa: S308 - SVG written by pygal from numbers and escaped labels


def _percent(rate):
    return None if rate is None else round(rate * 100, 1)


def _percent_label(value):
    return "—" if value is None else f"{value:.0f}%"


def _quality_label(value):
    return "—" if value is None else f"{value:.2f}"


# -- figures by month ------------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def monthly_figures(user, provider, *, months: int = MONTHS_SHOWN) -> list[dict]:
    """On-time rate by month of delivery and average quality by month of acceptance, over the
    last `months` months, from the deliverables `user` may see. One grouped query: rows are
    grouped by (month delivered, month accepted) and folded into months here, so the number of
    rows is bounded by the months shown, not by the deliverables.

    The figures follow `vendors.selectors.provider_scorecard`: on time = SLA `met` among the
    delivered; quality = mean overall score of the accepted.
    """
    today = timezone.localdate()
    first = _month_start(today)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    accepted = Q(status=DeliverableStatus.ACCEPTED, accepted_at__gte=since)
    delivered = Q(delivered_at__gte=since)
    rows = (
        Deliverable.objects.restrict(user, "view")
        .filter(engagement__provider=provider)
        .filter(delivered | accepted)
        .annotate(
            delivered_month=TruncMonth("delivered_at"), accepted_month=TruncMonth("accepted_at")
        )
        .values("delivered_month", "accepted_month")
        .annotate(
            delivered=Count("pk", filter=delivered),
            met=Count("pk", filter=delivered & Q(sla_state=SlaState.MET)),
            accepted=Count("pk", filter=accepted),
            quality_sum=Sum("overall_score", filter=accepted),
        )
        .order_by()
    )
    by_month = {}
    month = first
    while month <= today:
        by_month[month] = {"delivered": 0, "met": 0, "accepted": 0, "quality_sum": 0}
        month = _add_month(month)

    def bucket(moment):
        if moment is None:
            return None
        day = moment.date() if hasattr(moment, "date") else moment
        return by_month.get(_month_start(day))

    for row in rows:
        delivered_bucket = bucket(row["delivered_month"])
        if delivered_bucket is not None:
            delivered_bucket["delivered"] += row["delivered"]
            delivered_bucket["met"] += row["met"]
        accepted_bucket = bucket(row["accepted_month"])
        if accepted_bucket is not None and row["accepted"]:
            accepted_bucket["accepted"] += row["accepted"]
            accepted_bucket["quality_sum"] += float(row["quality_sum"] or 0)
    return [
        {
            "month": month,
            "delivered": figures["delivered"],
            "accepted": figures["accepted"],
            "on_time_rate": figures["met"] / figures["delivered"] if figures["delivered"] else None,
            "average_quality": round(figures["quality_sum"] / figures["accepted"], 2)
            if figures["accepted"]
            else None,
        }
        for month, figures in by_month.items()
    ]


# -- charts ------------------------------------------------------------------------------------


def _dual_axis(chart_class, x_labels, on_time, quality, **config):
    """On-time rate (0–100 %, left axis) and average quality (1–5, right axis) side by side."""
    chart = chart_class(
        _config(
            range=(0, 100),
            secondary_range=(0, 5),
            y_labels=[0, 20, 40, 60, 80, 100],
            print_values=True,
            print_values_position="top",
            **config,
        )
    )
    chart.x_labels = x_labels
    chart.add("On-time rate (%, left)", on_time, formatter=_percent_label)
    chart.add("Average quality (1–5, right)", quality, secondary=True, formatter=_quality_label)
    return chart


def over_time_chart(months: list[dict]) -> str:
    """Grouped bars per month: on-time rate and average quality. Months are discrete buckets,
    and bars stay readable when only a few months have figures. The axis starts at the first
    month with figures (showing at least the last `MIN_MONTHS_DRAWN` months)."""
    with_figures = [i for i, m in enumerate(months) if m["delivered"] or m["accepted"]]
    if not with_figures:
        return ""
    months = months[min(with_figures[0], max(len(months) - MIN_MONTHS_DRAWN, 0)) :]
    chart = _dual_axis(
        pygal.Bar,
        [m["month"].strftime("%b %Y") for m in months],
        [_percent(m["on_time_rate"]) for m in months],
        [m["average_quality"] for m in months],
    )
    return _svg(chart, "Bar chart of the on-time rate and the average quality by month")


def per_engagement_chart(by_engagement: list[dict]) -> str:
    """Bar chart: on-time rate and average quality of each engagement."""
    rows = [row for row in by_engagement if row["deliverables_delivered"]]
    if not rows:
        return ""
    chart = _dual_axis(
        pygal.Bar,
        [row["reference"] for row in rows],
        [_percent(row["on_time_rate"]) for row in rows],
        [row["average_quality"] for row in rows],
    )
    return _svg(chart, "Bar chart of the on-time rate and the average quality per engagement")


COMPARED_FIGURES = (
    ("on_time_rate", "On-time rate", lambda v: v * 100, _percent_label),
    ("first_pass_acceptance_rate", "First-pass acceptance", lambda v: v * 100, _percent_label),
    ("average_quality", "Average quality", lambda v: v * 20, None),
)


def comparison_chart(scorecards: list[tuple]) -> str:
    """Grouped bars, one group per figure and one bar per provider. The figures are put on one
    scale (share of the best possible: 100 % on time, 5 of 5 quality); each bar is labelled with
    the figure itself."""
    if not scorecards:
        return ""
    chart = pygal.Bar(
        _config(
            width=860,
            height=340,
            range=(0, 100),
            y_labels=[0, 25, 50, 75, 100],
            print_values=True,
            print_values_position="top",
        )
    )
    chart.x_labels = [label for _key, label, _scale, _fmt in COMPARED_FIGURES]
    for provider, card in scorecards[:SERIES_LIMIT]:
        values = []
        for key, _label, scale, fmt in COMPARED_FIGURES:
            value = card[key]
            if value is None:
                values.append(None)
                continue
            shown = fmt(scale(value)) if fmt else f"{value:.2f} of 5"
            values.append({"value": round(scale(value), 1), "formatter": lambda _v, s=shown: s})
        chart.add(provider.name, values)
    return _svg(
        chart,
        "Bar chart comparing the providers' on-time rate, first-pass acceptance "
        "and average quality",
    )
