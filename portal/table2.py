"""Table 2 of the order: what the city shares with which third party, and under which conditions.

Each information sharing agreement (`agreements.SharingAgreement`) names one of these categories.
`excludes_biometric` says that the order never lets biometric data go to that category."""

from dataclasses import dataclass

from django.db import models


class Category(models.TextChoices):
    LAW_ENFORCEMENT = "law_enforcement", "External law enforcement agencies"
    SECURITY_ORGANIZATION = "security_organization", "Recognized external security organizations"
    CRIMINAL_PROSECUTION = "criminal_prosecution", "External entities associated with a criminal prosecution"
    PUBLIC_HEALTH = "public_health", "External public health organizations"
    CIVIL_CASE = "civil_case", "Third parties associated with a civil case or proceeding"
    EMERGENCY_RESPONSE = "emergency_response", "External emergency response organizations"


@dataclass(frozen=True)
class Row:
    category: str
    we_share: str
    conditions: str
    excludes_biometric: bool
    shares_nothing: bool = False


TABLE_2 = {
    Category.LAW_ENFORCEMENT: Row(
        Category.LAW_ENFORCEMENT,
        "Current and historical video data; biometric data; data derived from video footage and biometrics.",
        "In conjunction with an active criminal investigation or a criminal prosecution, as required by law, "
        "or as required by a court order.",
        excludes_biometric=False,
    ),
    Category.SECURITY_ORGANIZATION: Row(
        Category.SECURITY_ORGANIZATION,
        "Current and historical video data; data derived from video footage. Not private security firms.",
        "Only with authorized third parties. Excludes biometric data.",
        excludes_biometric=True,
    ),
    Category.CRIMINAL_PROSECUTION: Row(
        Category.CRIMINAL_PROSECUTION,
        "Current and historical video data; data derived from video footage and biometrics.",
        "In conjunction with a criminal prosecution, as required by law or by a court order.",
        excludes_biometric=False,
    ),
    Category.PUBLIC_HEALTH: Row(
        Category.PUBLIC_HEALTH,
        "Current and historical video data; data derived from video footage.",
        "Excludes biometric data. No other current or historical data containing PII, except as required by law.",
        excludes_biometric=True,
    ),
    Category.CIVIL_CASE: Row(
        Category.CIVIL_CASE,
        "Nothing, unless required by a warrant or subpoena.",
        "Unless required by a warrant or subpoena.",
        excludes_biometric=True,
        shares_nothing=True,
    ),
    Category.EMERGENCY_RESPONSE: Row(
        Category.EMERGENCY_RESPONSE,
        "Current real-time video feeds; data derived from historical video feeds.",
        "Only for the duration of an emergency. Excludes biometric data.",
        excludes_biometric=True,
    ),
}
