"""Information sharing agreements now live in the agreements app, with their tables (agreements
0001), and so does the link from a grant to its agreement (agreements 0002, which copies the column
dropped here)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0010_sod_finding_review_stage"),
        ("agreements", "0002_agreement_grants"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="grant",
            name="agreement",
        ),
        # The history keeps its agreement_id column: past versions still say which agreement they rested on.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="historicalgrant",
                    name="agreement",
                ),
            ],
        ),
        # The tables stay: they are the agreements app's now.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HistoricalSharingAgreement_systems"),
                migrations.DeleteModel(name="HistoricalSharingAgreement"),
                migrations.DeleteModel(name="SharingAgreement"),
            ],
        ),
    ]
