import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from portal.history import append_only_tables


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0014_scope_and_biometric_retention'),
        ('reports', '0001_initial'),
        ('portal', '0009_audit_chain_not_cuttable'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BoardHandover',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('requested_on', models.DateField(help_text='The day the Board of Aldermen asked for the report.')),
                ('request_reference', models.CharField(help_text="The Board's request, e.g. “Letter of 3 March 2027”.", max_length=200)),
                ('handed_at', models.DateTimeField()),
                ('sent_to', models.EmailField(blank=True, help_text="The Board's address the PDF was mailed to; empty when it was handed over by other means.", max_length=254)),
                ('note', models.TextField(blank=True)),
                ('handed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('report', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='handovers', to='reports.publishedreport')),
            ],
            options={
                'ordering': ['-handed_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalBoardHandover',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('requested_on', models.DateField(help_text='The day the Board of Aldermen asked for the report.')),
                ('request_reference', models.CharField(help_text="The Board's request, e.g. “Letter of 3 March 2027”.", max_length=200)),
                ('handed_at', models.DateTimeField()),
                ('sent_to', models.EmailField(blank=True, help_text="The Board's address the PDF was mailed to; empty when it was handed over by other means.", max_length=254)),
                ('note', models.TextField(blank=True)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('handed_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('report', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='reports.publishedreport')),
            ],
            options={
                'verbose_name': 'historical board handover',
                'verbose_name_plural': 'historical board handovers',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='ReportReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('department_annual', 'Annual department report'), ('city_biannual', 'Biannual citywide report')], max_length=20)),
                ('period_start', models.DateField()),
                ('stage', models.CharField(help_text='before-30, before-7, due, or late-N (N weeks overdue).', max_length=20)),
                ('sent_on', models.DateField()),
                ('department', models.ForeignKey(blank=True, help_text='Empty for the citywide report.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.department')),
            ],
            options={
                'ordering': ['-sent_on', '-id'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'department', 'period_start', 'stage'), name='one_report_reminder_a_stage'), models.UniqueConstraint(condition=models.Q(('department__isnull', True)), fields=('kind', 'period_start', 'stage'), name='one_city_report_reminder_a_stage'), models.UniqueConstraint(fields=('kind', 'department', 'period_start', 'sent_on'), name='one_report_reminder_a_day'), models.UniqueConstraint(condition=models.Q(('department__isnull', True)), fields=('kind', 'period_start', 'sent_on'), name='one_city_report_reminder_a_day')],
            },
        ),
        # Like every history table, append-only in the database too.
        append_only_tables("reports_historicalboardhandover"),
    ]
