"""Settings of the process that builds the drills' private database: the project's own, with
the demo passwords hashed in few PBKDF2 iterations, which is most of the time of a seed. The
app under test checks them with its own settings (a PBKDF2 hash carries its iteration
count) and re-hashes each at its first sign-in."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from kpo.settings import *  # noqa: F403


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000


PASSWORD_HASHERS = ["tests.drills.seed_settings.QuickPBKDF2PasswordHasher"]
