"""Production settings refuse unsafe configurations at start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Q7v!x9#Lm2@pR4$tW8^zB6&nC1*fH3(dJ5)"


def run_check(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ENV"}}
    base |= {"VAR_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("secret", [None, "insecure-local-development-key", "short"])
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, secret):
    env = {"DJANGO_ENV": "production", "ALLOWED_HOSTS": "kpo.example.com"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = run_check(tmp_path, **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_debug(tmp_path):
    result = run_check(
        tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=GOOD_KEY,
        DEBUG="true",
        ALLOWED_HOSTS="kpo.example.com",
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_nonsense_boolean_is_rejected(tmp_path):
    result = run_check(tmp_path, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_deploy_check_is_clean_with_the_documented_production_variables(tmp_path):
    result = run_check(
        tmp_path, DJANGO_ENV="production", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="kpo.example.com"
    )
    assert result.returncode == 0, result.stdout + result.stderr
