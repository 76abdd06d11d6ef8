import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PORTAL_"))}
    environment.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)


def test_production_settings_pass_the_deploy_check_with_no_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_ENV="production",
                     DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="portal.example.gov",
                     PORTAL_BASE_URL="https://portal.example.gov")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_ENV="production", DJANGO_ALLOWED_HOSTS="portal.example.gov")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_the_public_address_that_mail_links_to():
    result = _manage("check", DJANGO_ENV="production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
                     DJANGO_ALLOWED_HOSTS="portal.example.gov")
    assert result.returncode != 0
    assert "Set PORTAL_BASE_URL" in result.stderr


def test_production_refuses_a_public_address_that_is_not_https():
    result = _manage("check", DJANGO_ENV="production", DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
                     DJANGO_ALLOWED_HOSTS="portal.example.gov", PORTAL_BASE_URL="http://portal.example.gov")
    assert result.returncode != 0
    assert "must start with https://" in result.stderr


def test_a_public_address_that_is_no_address_is_refused_with_its_value():
    result = _manage("check", PORTAL_BASE_URL="portal.example.gov/path")
    assert result.returncode != 0
    assert "PORTAL_BASE_URL must be an address like" in result.stderr
