"""Information sharing agreements move here from accounts with their tables and rows: only Django's
record of the models changes, and the one table whose name follows the app label is renamed."""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from portal import moves

MODELS = ["SharingAgreement", "HistoricalSharingAgreement", "HistoricalSharingAgreement_systems"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0010_sod_finding_review_stage"),
        moves.CONTENT_TYPES_READY,
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalSharingAgreement',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_reason', models.TextField(blank=True)),
                        ('third_party', models.CharField(max_length=150, verbose_name='third party')),
                        ('category', models.CharField(choices=[('law_enforcement', 'External law enforcement agencies'), ('security_organization', 'Recognized external security organizations'), ('criminal_prosecution', 'External entities associated with a criminal prosecution'), ('public_health', 'External public health organizations'), ('civil_case', 'Third parties associated with a civil case or proceeding'), ('emergency_response', 'External emergency response organizations')], max_length=30, verbose_name='Table 2 category')),
                        ('shared', models.TextField(verbose_name='what is shared')),
                        ('conditions', models.TextField()),
                        ('excludes_biometric', models.BooleanField(default=True, verbose_name='biometric data excluded')),
                        ('starts_on', models.DateField()),
                        ('ends_on', models.DateField(help_text='The agreement ends at 00:00, city time, on this day.')),
                        ('status', models.CharField(choices=[('pending', "Awaiting the Mayor's approval"), ('approved', 'Approved'), ('denied', 'Denied'), ('ended', 'Ended')], db_index=True, default='pending', max_length=10)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('mayor_approved_on', models.DateField(blank=True, null=True, verbose_name="date of the Mayor's approval")),
                        ('ended_at', models.DateTimeField(blank=True, null=True)),
                        ('end_reason', models.TextField(blank=True)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('decided_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('department', models.ForeignKey(blank=True, db_constraint=False, help_text='The city department that sponsors the agreement and answers for its third-party grants.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.department')),
                        ('ended_by', models.ForeignKey(blank=True, db_constraint=False, help_text='Empty when the agreement ran out on its end date.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('requested_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical information sharing agreement',
                        'verbose_name_plural': 'historical information sharing agreements',
                        'db_table': 'accounts_historicalsharingagreement',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='SharingAgreement',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_reason', models.TextField(blank=True)),
                        ('third_party', models.CharField(max_length=150, verbose_name='third party')),
                        ('category', models.CharField(choices=[('law_enforcement', 'External law enforcement agencies'), ('security_organization', 'Recognized external security organizations'), ('criminal_prosecution', 'External entities associated with a criminal prosecution'), ('public_health', 'External public health organizations'), ('civil_case', 'Third parties associated with a civil case or proceeding'), ('emergency_response', 'External emergency response organizations')], max_length=30, verbose_name='Table 2 category')),
                        ('shared', models.TextField(verbose_name='what is shared')),
                        ('conditions', models.TextField()),
                        ('excludes_biometric', models.BooleanField(default=True, verbose_name='biometric data excluded')),
                        ('starts_on', models.DateField()),
                        ('ends_on', models.DateField(help_text='The agreement ends at 00:00, city time, on this day.')),
                        ('status', models.CharField(choices=[('pending', "Awaiting the Mayor's approval"), ('approved', 'Approved'), ('denied', 'Denied'), ('ended', 'Ended')], db_index=True, default='pending', max_length=10)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('mayor_approved_on', models.DateField(blank=True, null=True, verbose_name="date of the Mayor's approval")),
                        ('ended_at', models.DateTimeField(blank=True, null=True)),
                        ('end_reason', models.TextField(blank=True)),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('department', models.ForeignKey(help_text='The city department that sponsors the agreement and answers for its third-party grants.', on_delete=django.db.models.deletion.PROTECT, related_name='sharing_agreements', to='accounts.department')),
                        ('ended_by', models.ForeignKey(blank=True, help_text='Empty when the agreement ran out on its end date.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('systems', models.ManyToManyField(related_name='sharing_agreements', to='accounts.surveillancesystem')),
                    ],
                    options={
                        'verbose_name': 'information sharing agreement',
                        'db_table': 'accounts_sharingagreement',
                        'ordering': ['-starts_on', 'third_party', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalSharingAgreement_systems',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('m2m_history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, to='agreements.historicalsharingagreement')),
                        ('surveillancesystem', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='accounts.surveillancesystem')),
                        ('sharingagreement', models.ForeignKey(blank=True, db_constraint=False, db_tablespace='', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='agreements.sharingagreement')),
                    ],
                    options={
                        'verbose_name': 'HistoricalSharingAgreement_systems',
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
            ],
            database_operations=[
                moves.table_rename("accounts_historicalsharingagreement_systems",
                                   "agreements_historicalsharingagreement_systems"),
            ],
        ),
        moves.content_types_move("accounts", "agreements", MODELS),
    ]
