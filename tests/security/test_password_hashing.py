"""Passwords are stored as Argon2 hashes; older hashes are upgraded at the next sign-in (S3.10).

The tests' conftest hashes with MD5 for speed, so these tests read the hashers the settings module
itself declares."""

import importlib

from conftest import PASSWORD
from django.contrib.auth.hashers import get_hasher, get_hashers, identify_hasher, make_password
from django.test import Client, override_settings

from accounts.models import User
from security_helpers import sign_in

DECLARED = importlib.import_module("portal.settings").PASSWORD_HASHERS


def test_the_settings_hash_new_passwords_with_argon2():
    """S3.10: passwords hashed with Argon2."""
    assert DECLARED[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=DECLARED):
        assert get_hashers()[0].algorithm == "argon2"
        assert make_password(PASSWORD).startswith("argon2$argon2id$")


def test_no_weak_hasher_is_accepted_by_the_settings():
    with override_settings(PASSWORD_HASHERS=DECLARED):
        assert {hasher.algorithm for hasher in get_hashers()} <= {"argon2", "pbkdf2_sha256"}


def test_a_pbkdf2_hash_is_upgraded_to_argon2_at_sign_in(city):
    """S3.10"""
    with override_settings(PASSWORD_HASHERS=DECLARED):
        User.objects.filter(pk=city.officer.pk).update(
            password=make_password(PASSWORD, hasher=get_hasher("pbkdf2_sha256")))

        response = sign_in(Client(), city.officer.email)

        assert response.status_code == 302
        stored = User.objects.get(pk=city.officer.pk).password
        assert identify_hasher(stored).algorithm == "argon2"
        assert User.objects.get(pk=city.officer.pk).check_password(PASSWORD)


def test_a_wrong_password_leaves_the_old_hash_alone(city):
    with override_settings(PASSWORD_HASHERS=DECLARED):
        old = make_password(PASSWORD, hasher=get_hasher("pbkdf2_sha256"))
        User.objects.filter(pk=city.officer.pk).update(password=old)

        assert sign_in(Client(), city.officer.email, "not the password").status_code == 200

        assert User.objects.get(pk=city.officer.pk).password == old
