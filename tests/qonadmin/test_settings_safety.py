"""Production settings fail closed and pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x" * 20 + "production-grade-secret-key-with-enough-entropy-1234567890",
    "DJANGO_ALLOWED_HOSTS": "qonadmin.example.com",
    "QONADMIN_ENCRYPTION_KEYS": "p1:dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWs=",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "QONADMIN_", "QONVERSION_"))}
    base["DJANGO_SETTINGS_MODULE"] = "qonadmin.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY must be set"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS must list"),
        ("QONADMIN_ENCRYPTION_KEYS", "QONADMIN_ENCRYPTION_KEYS must be set"),
    ],
)
def test_it_refuses_to_start_without_required_settings(missing: str, message: str):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("QONADMIN_ENCRYPTION_KEYS", "k1:c2hvcnQ=", "must decode to 32 bytes"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be one of"),
        ("QONADMIN_SYNC_MAX_AGE_SECONDS", "soon", "must be a whole number"),
    ],
)
def test_it_refuses_malformed_settings(name: str, value: str, message: str):
    result = manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_management_commands_do_not_log_the_sign_in_throttles_banner():
    result = manage("check", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stderr + result.stdout
