"""Settings for the scale benchmarks: the app's own, plus the bare baseline views.

The baseline views live only in bench/baseline_urls.py, never in the app's URLconf.
"""

from kpo.settings import *  # noqa: F403 - the app's settings, unchanged

ROOT_URLCONF = "bench.baseline_urls"
