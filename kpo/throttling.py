"""API rate limits: per user, per token and per address for anonymous callers.

Rates come from settings.API_THROTTLE_RATES (read on every request, so they can be changed
per environment and per test). Counters live in the cache; if the cache is unreachable the
limit is skipped rather than failing the request: a Redis outage must not take the API
down with it, and the counters are a guard against abuse, not an access decision.
"""

import hashlib
import logging

from django.conf import settings
from rest_framework import throttling
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)


class _SettingsRateMixin:
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The rate is resolved here rather than in __init__ so overridden settings apply.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # any cache failure: count nothing, serve the request
            logger.warning("Rate limit skipped: the cache is unavailable.", exc_info=True)
            return True


class UserRateThrottle(_SettingsRateMixin, throttling.SimpleRateThrottle):
    """Every authenticated request of one user, whichever session or token carries it."""

    scope = "user"

    def __init__(self):
        # The parent resolves the rate from DRF's import-time settings; ours is per request.
        pass

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenRateThrottle(_SettingsRateMixin, throttling.SimpleRateThrottle):
    """Requests made with one API token: a leaked or runaway integration is held to its own
    budget. The cache key is a digest, so the token itself never reaches the cache."""

    scope = "token"

    def __init__(self):
        pass

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, Token):
            return None
        digest = hashlib.sha256(request.auth.key.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class AnonRateThrottle(_SettingsRateMixin, throttling.SimpleRateThrottle):
    """Unauthenticated requests (the token endpoint, the schema) per client address."""

    scope = "anon"

    def __init__(self):
        pass

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
