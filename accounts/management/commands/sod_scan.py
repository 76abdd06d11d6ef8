from django.core.management.base import BaseCommand, CommandError

from accounts.sod import administered_accounts, sod_findings_scan, sod_violations


class Command(BaseCommand):
    help = (
        "List every person who is both an end user and a staff member (administrator, monitor, auditor) "
        "of one system, and every account created, changed or removed by an end user of its system or by "
        "its own holder (Section 3.2), and keep them as findings for the reports. Exits non-zero while one "
        "of them lasts."
    )

    def handle(self, *args, **options):
        sod_findings_scan()
        violations = sod_violations()
        administered = administered_accounts()
        if not violations and not administered:
            self.stdout.write("No separation-of-duties violation: nobody is both an end user and staff of one system, "
                              "and no account was administered by an end user of its system or by its holder.")
            return
        for violation in violations:
            self.stdout.write(str(violation))
        lasting = 0
        if administered:
            self.stdout.write("Accounts administered by an end user of their system, or by their holder (S3.2c):")
        for account in administered:
            lasts = account.conflict_lasts()
            lasting += lasts
            state = "open: the end-user access or the own account is still live" if lasts else "resolved"
            self.stdout.write(f"{account.person} <{account.person.email}>: {account} [{state}]")
        if violations or lasting:
            found = f"{len(violations)} separation-of-duties violation(s)"
            if lasting:
                found += f" and {lasting} administered account(s) still in conflict"
            raise CommandError(f"{found} found.", returncode=1)
        self.stdout.write("No open separation-of-duties violation: the accounts above were administered in the past "
                          "and the conflict is gone.")
