from django.core.management.base import BaseCommand

from access_requests.hygiene import find_accounts_that_should_not_exist, grant_hygiene_run, group_by_grant

COLUMNS = ("Grant", "Person", "System", "Role", "Account", "State", "Finding", "Reason")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Check the live grants for accounts that should not exist: unused on the system for "
        "GRANT_HYGIENE_UNUSED_DAYS days, held by a person deactivated or gone, or with no approved access "
        "request. Like the nightly task, it records the findings, mails ITSA the report and, when "
        "GRANT_HYGIENE_SUSPEND is on, suspends the active grants found (once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--suspend", action="store_true",
                            help="Suspend the active grants found (once), whatever GRANT_HYGIENE_SUSPEND says.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Only list the findings: nothing recorded, no mail, nothing suspended.")

    def handle(self, *args, suspend=False, dry_run=False, **options):
        if dry_run:
            findings = find_accounts_that_should_not_exist()
            rows = group_by_grant(findings)
        else:
            run = grant_hygiene_run(suspend=True if suspend else None)
            findings, rows = run.findings, run.rows
        if rows:
            self._table(rows)
            self.stdout.write(f"{_plural(len(findings), 'finding')} on {_plural(len(rows), 'grant')}.")
        else:
            self.stdout.write("No finding: every live grant is in use, held by an active person, and approved.")
        if dry_run:
            self.stdout.write("Dry run: nothing recorded, no mail sent, no grant changed.")
        elif run.suspend:
            self.stdout.write(f"{_plural(len(run.suspended), 'grant')} suspended now.")
        else:
            self.stdout.write("Report only: no grant changed (GRANT_HYGIENE_SUSPEND is off; --suspend suspends).")

    def _table(self, rows):
        lines = []
        for row in rows:
            grant = row.grant
            for finding in row.findings:
                lines.append((str(grant.pk), str(grant.person), str(grant.system), grant.get_role_display(),
                              grant.account_name, row.state, finding.kind_label, finding.reason))
        # The last column, the reason, is long: it is not padded.
        widths = [max(len(line[i]) for line in [COLUMNS, *lines]) for i in range(len(COLUMNS) - 1)]
        rule = tuple("-" * width for width in widths) + ("-" * len(COLUMNS[-1]),)
        for line in [COLUMNS, rule, *lines]:
            self.stdout.write("  ".join([cell.ljust(width) for cell, width in zip(line, widths)] + [line[-1]]))
