"""The notifications page: the user's own notifications, newest first, and marking them read.

Notifications belong to one user; the only rule is "your own", and another user's
notification answers 404 like a missing one. The list pages by id ("older than this one"), so
it costs the same whatever the length of the history and never shifts under a user reading it.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_POST

from kpo.accounts.choices import EmailMode
from kpo.accounts.services import account_set_email_mode
from kpo.web import back_url, domain_action, visible_or_404

from . import services
from .models import Notification

PAGE_SIZE = 25


def own_notifications(user):
    return Notification.objects.filter(user_id=user.pk)


def _positive_int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _day_label(moment, today) -> str:
    day = timezone.localtime(moment).date()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return formats.date_format(day, "l j F Y" if day.year != today.year else "l j F")


@login_required
@require_GET
def notification_list(request):
    unread_only = request.GET.get("show") == "unread"
    before = _positive_int(request.GET.get("before"))
    notifications = own_notifications(request.user).only(
        "pk", "kind", "title", "body", "url", "created_at", "read_at"
    )
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    if before:
        notifications = notifications.filter(pk__lt=before)
    rows = list(notifications.order_by("-id")[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    today = timezone.localdate()
    for row in rows:
        row.day_label = _day_label(row.created_at, today)
    base = {"show": "unread"} if unread_only else {}
    list_url = reverse("notifications:list")
    return render(
        request,
        "notifications/list.html",
        {
            "notifications": rows,
            "unread_only": unread_only,
            "is_first_page": before is None,
            "newer_url": f"{list_url}?{urlencode(base)}".rstrip("?") if before else "",
            "older_url": f"{list_url}?{urlencode(base | {'before': rows[-1].pk})}"
            if has_older
            else "",
            "email_modes": EmailMode.choices,
        },
    )


@login_required
@require_POST
@domain_action
def notification_read(request, pk):
    notification = visible_or_404(own_notifications(request.user), pk=pk)
    notification = services.notification_mark_read(actor=request.user, notification=notification)
    if request.htmx:
        # The row in its read state, and the header's count swapped out of band.
        return render(request, "notifications/_read.html", {"notification": notification})
    messages.success(request, f"Marked “{notification.title}” as read.")
    return redirect(back_url(request, reverse("notifications:list")))


@login_required
@require_POST
def notification_read_all(request):
    changed = services.notifications_mark_all_read(actor=request.user)
    if changed:
        noun = "notification" if changed == 1 else "notifications"
        messages.success(request, f"Marked {changed} {noun} as read.")
    else:
        messages.info(request, "You had no unread notifications.")
    return redirect(back_url(request, reverse("notifications:list")))


@login_required
@require_POST
@domain_action
def notification_email_mode(request):
    """How notifications reach the user by e-mail: at once, a daily digest, or never."""
    user = account_set_email_mode(actor=request.user, email_mode=request.POST.get("email_mode", ""))
    messages.success(request, f"E-mail notifications: {user.get_email_mode_display().lower()}.")
    return redirect(back_url(request, reverse("notifications:list")))
