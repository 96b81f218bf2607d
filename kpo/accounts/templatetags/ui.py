"""Template helpers shared by every page: `{% load ui %}`.

- `{% url_or_none 'app:name' arg as var %}`: the URL, or "" while that page does not exist
  yet (navigation can name pages that another part of the application serves).
- `user|may:"action"`: whether the user's role allows an action at all (the access module's
  `role_may`); object-level checks stay in the views.
- `{% breadcrumbs "Engagements" list_url engagement.reference %}`: label/URL pairs, the last
  label without a URL is the current page. Dashboard is always the first crumb.
- `{% query_replace page=2 %}`: the current query string with some parameters replaced.
- `due_at|due_phrase:now`, `deadline|countdown:now`, `rate|percent`, `user|initials`,
  `timedelta|duration`.
"""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from kpo.access import policy

register = template.Library()


@register.simple_tag
def url_or_none(name, *args, **kwargs):
    try:
        return reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        return ""


@register.filter
def may(user, action):
    try:
        return policy.role_may(user, action)
    except ValueError:
        return False


@register.inclusion_tag("components/breadcrumbs.html")
def breadcrumbs(*parts):
    """`parts` alternate label and URL; a trailing label is the current page."""
    crumbs = [("Dashboard", reverse("home"))]
    items = list(parts)
    while len(items) >= 2:
        label, url = items.pop(0), items.pop(0)
        crumbs.append((label, url or None))
    if items:
        crumbs.append((items[0], None))
    return {"crumbs": crumbs}


@register.simple_tag(takes_context=True)
def query_replace(context, **params):
    query = context["request"].GET.copy()
    for key, value in params.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def due_phrase(moment, now=None):
    """ "in 12 hours" / "1 day overdue": how far a due time is, in its largest unit."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if moment >= now:
        return f"in {timeuntil(moment, now, depth=1)}"
    return f"{timesince(moment, now, depth=1)} overdue"


@register.filter
def countdown(moment, now=None):
    """ "2 days, 5 hours left" / "overdue by 3 hours": an SLA clock, to two units."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if moment >= now:
        return f"{timeuntil(moment, now, depth=2)} left"
    return f"overdue by {timesince(moment, now, depth=2)}"


@register.filter
def percent(rate):
    """A 0–1 rate as a whole percentage, or an en dash when there is nothing to measure."""
    if rate is None:
        return "–"
    return f"{round(rate * 100)}%"


@register.filter
def initials(user):
    first = (user.first_name or user.username or "?")[:1]
    last = (user.last_name or "")[:1]
    return f"{first}{last}".upper()


@register.filter
def duration(span):
    """A timedelta in words, to the largest whole unit: "15 minutes", "1 hour"."""
    if span is None:
        return ""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"
