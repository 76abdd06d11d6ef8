from django.core.management.base import BaseCommand, CommandError

from accounts.sod import sod_findings_scan, sod_violations


class Command(BaseCommand):
    help = (
        "List every person who is both an end user and a staff member (administrator, monitor, auditor) "
        "of one system (Section 3.2), and keep them as findings for the reports. Exits non-zero when there is one."
    )

    def handle(self, *args, **options):
        sod_findings_scan()
        violations = sod_violations()
        if not violations:
            self.stdout.write("No separation-of-duties violation: nobody is both an end user and staff of one system.")
            return
        for violation in violations:
            self.stdout.write(str(violation))
        raise CommandError(f"{len(violations)} separation-of-duties violation(s) found.", returncode=1)
