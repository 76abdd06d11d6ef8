"""The link from a grant to the agreement it rests on moves up from accounts (Grant.agreement) to
this app, in a table of its own, filled from the old column; accounts 0011 then drops that column."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from portal.history import append_only_tables


def links_copy(apps, schema_editor):
    """One link for each grant that rests on an agreement, with the history row it would have had:
    made when the grant was provisioned, by who provisioned it."""
    alias = schema_editor.connection.alias
    grant_model = apps.get_model("accounts", "Grant")
    link_model = apps.get_model("agreements", "AgreementGrant")
    history_model = apps.get_model("agreements", "HistoricalAgreementGrant")
    grants = list(grant_model.objects.using(alias).filter(agreement__isnull=False).order_by("pk")
                  .values_list("pk", "agreement_id", "provisioned_at", "provisioned_by_id"))
    link_model.objects.using(alias).bulk_create(
        [link_model(grant_id=pk, agreement_id=agreement_id) for pk, agreement_id, _, _ in grants])
    history_model.objects.using(alias).bulk_create([
        history_model(grant_id=pk, agreement_id=agreement_id, history_date=at, history_user_id=by,
                      history_type="+")
        for pk, agreement_id, at, by in grants
    ])


def links_copy_back(apps, schema_editor):
    alias = schema_editor.connection.alias
    grant_model = apps.get_model("accounts", "Grant")
    link_model = apps.get_model("agreements", "AgreementGrant")
    for grant_id, agreement_id in link_model.objects.using(alias).values_list("grant_id", "agreement_id"):
        grant_model.objects.using(alias).filter(pk=grant_id).update(agreement_id=agreement_id)


class Migration(migrations.Migration):

    dependencies = [
        ("agreements", "0001_initial"),
        # Grant.agreement is still there to copy from; accounts 0011 drops it after this.
        ("accounts", "0010_sod_finding_review_stage"),
        ("portal", "0009_audit_chain_not_cuttable"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AgreementGrant',
            fields=[
                ('grant', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='+', serialize=False, to='accounts.grant')),
            ],
            options={
                'verbose_name': 'grant under an information sharing agreement',
                'verbose_name_plural': 'grants under information sharing agreements',
            },
        ),
        migrations.CreateModel(
            name='HistoricalAgreementGrant',
            fields=[
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('grant', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.grant')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('agreement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='agreements.sharingagreement')),
            ],
            options={
                'verbose_name': 'historical grant under an information sharing agreement',
                'verbose_name_plural': 'historical grants under information sharing agreements',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddField(
            model_name='agreementgrant',
            name='agreement',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='grant_links', to='agreements.sharingagreement'),
        ),
        migrations.AddField(
            model_name='sharingagreement',
            name='grants',
            field=models.ManyToManyField(related_name='+', through='agreements.AgreementGrant', to='accounts.grant'),
        ),
        # History rows are append-only in the database too (portal 0007 and 0009).
        append_only_tables("agreements_historicalagreementgrant"),
        migrations.RunPython(links_copy, links_copy_back),
    ]
