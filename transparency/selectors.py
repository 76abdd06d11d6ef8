"""The reads of the public pages: only what is published for the public."""

from accounts.models import SurveillanceSystem
from portal.models import IntendedUse
from reports.models import PublishedReport


def public_reports():
    """The reports published for the public, newest first."""
    return PublishedReport.objects.filter(is_public=True).select_related("department")


def table_1():
    """The intended uses of Table 1 with their permissible uses, as the policy page lists them."""
    return IntendedUse.objects.prefetch_related("permissible_uses")


def public_feeds():
    """The systems whose live stream may be public (S3.8), by name."""
    return SurveillanceSystem.objects.filter(has_public_feed=True).order_by("name")


def biometric_systems():
    """The systems that use biometrics, with the minimum retention of their biometric data (S3.12)."""
    return SurveillanceSystem.objects.filter(uses_biometrics=True).order_by("name")
