from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kpo.demo import DemoBuilder


class Command(BaseCommand):
    help = "Create the demo organisations, users and engagements (idempotent)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run when DJANGO_ENV=production.")
        DemoBuilder(stdout=self.stdout).build()
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
