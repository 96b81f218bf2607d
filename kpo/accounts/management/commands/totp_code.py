from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from kpo.accounts import two_factor


class Command(BaseCommand):
    help = (
        "Print the code a user's authenticator app would show now, for signing in to the "
        "demo without a phone. Refused in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        # In production this would mint a second factor for anyone: the point of one is that
        # the server cannot.
        if settings.PRODUCTION:
            raise CommandError("totp_code refuses to run when DJANGO_ENV=production.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has not set up two-factor sign-in.")
        code = two_factor.current_code(device)
        if code is None:
            raise CommandError(
                "The codes of this half-minute and the next are used already: try again in "
                f"{device.step} seconds."
            )
        self.stdout.write(code)
