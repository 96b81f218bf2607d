"""What the drills need beyond the demo data, written into the private database by a process
with the app's environment: `python -m tests.drills.load COMMAND ARGS`. It prints JSON.

The drills' own process never opens a Django connection to the private cluster: it reads
with plain SQL (servers.Database), and whatever is written goes through the app's code here.
"""

import json
import sys


def digest_readers(count: int, prefix: str) -> dict:
    """`count` analysts of Bio-Analytics who chose the daily digest, each with two unread
    notifications. There is no service that creates accounts (people are provisioned by
    their organisation's admin), so the accounts themselves are one bulk insert; the e-mail
    choice and the notifications go through the services."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from kpo.accounts.choices import EmailMode, Role
    from kpo.accounts.services import account_set_email_mode
    from kpo.notifications.choices import NotificationKind
    from kpo.notifications.services import Event, publish
    from vendors.models import Provider

    User = get_user_model()
    provider = Provider.objects.get(slug="bio-analytics")
    unusable = make_password(None)
    User.objects.bulk_create(
        User(
            username=f"{prefix}.{i:04d}",
            email=f"{prefix}.{i:04d}@bio-analytics.example",
            password=unusable,
            provider=provider,
            role=Role.ANALYST,
        )
        for i in range(count)
    )
    readers = list(User.objects.filter(username__startswith=f"{prefix}.").order_by("pk"))
    for reader in readers:
        account_set_email_mode(actor=reader, email_mode=EmailMode.DIGEST)
    publish(
        [
            Event(
                kind=NotificationKind.ENGAGEMENT_STATUS_CHANGED,
                title=f"Drill update {n} for {prefix}",
                recipients=readers,
            )
            for n in (1, 2)
        ]
    )
    return {"ids": [reader.pk for reader in readers]}


def notify_again(user_ids: list[int], title: str) -> dict:
    """One more notification for each of `user_ids`, as any domain service would write it."""
    from django.contrib.auth import get_user_model

    from kpo.notifications.choices import NotificationKind
    from kpo.notifications.services import notify

    users = list(get_user_model().objects.filter(pk__in=user_ids))
    event = notify(kind=NotificationKind.ENGAGEMENT_STATUS_CHANGED, recipients=users, title=title)
    return {"key": event.key}


COMMANDS = {"digest-readers": digest_readers, "notify-again": notify_again}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    command, arguments = argv[0], json.loads(argv[1])
    print(json.dumps(COMMANDS[command](**arguments)))


if __name__ == "__main__":
    main(sys.argv[1:])
