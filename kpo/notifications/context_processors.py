from .models import Notification


def unread_notifications(request):
    """The header's unread count: one indexed COUNT on the partial unread index, and only
    when the template asks for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count():
        return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()

    return {"unread_notifications": count}
