from django.contrib.auth import get_user_model

from kpo.accounts.choices import Role


def webhook_admins(webhook):
    """The admins of the organisation that owns a webhook."""
    users = get_user_model().objects.filter(is_active=True)
    if webhook.client_id:
        return users.filter(client_id=webhook.client_id, role=Role.CLIENT_ADMIN)
    return users.filter(provider_id=webhook.provider_id, role=Role.PROVIDER_ADMIN)
