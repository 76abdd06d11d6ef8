import csv

from django.core.management.base import BaseCommand, CommandError

from accounts.last_use import ReportedUse, grant_use_record, parse_used_at

HEADER = ("system_code", "account_name", "last_used_at")


class Command(BaseCommand):
    help = (
        "Record when accounts were last used, as the systems report it, from a CSV file with the rows "
        "system_code,account_name,last_used_at (an ISO date or date and time; a header row is optional). "
        "A date older than the one on record changes nothing. Rows naming no system or no live grant are "
        "listed and skipped; a file with a malformed row is refused whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file.")

    def handle(self, *args, file, **options):
        uses, errors = self._read(file)
        if errors:
            raise CommandError("Nothing recorded; correct the file and run again:\n" + "\n".join(errors))
        report = grant_use_record(uses=uses)
        for use, why in report.unknown:
            self.stdout.write(f"Line {use.line}: skipped, {why}: {use.system_code},{use.account_name}")
        self.stdout.write(
            f"{len(uses)} row{'s' if len(uses) != 1 else ''} read: {report.updated} updated, "
            f"{report.not_newer} not newer than the last use on record, {len(report.unknown)} unknown."
        )

    def _read(self, path) -> tuple[list[ReportedUse], list[str]]:
        uses, errors = [], []
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                for line, row in enumerate(csv.reader(handle), start=1):
                    if not any(cell.strip() for cell in row):
                        continue
                    if line == 1 and tuple(cell.strip().lower() for cell in row) == HEADER:
                        continue
                    if len(row) != 3:
                        errors.append(f"Line {line}: expected 3 values ({','.join(HEADER)}), found {len(row)}.")
                        continue
                    code, account_name, used_at = (cell.strip() for cell in row)
                    if not code or not account_name:
                        errors.append(f"Line {line}: the system code and the account name are both needed.")
                        continue
                    try:
                        uses.append(ReportedUse(code, account_name, parse_used_at(used_at), line=line))
                    except ValueError as problem:
                        errors.append(f"Line {line}: {problem}")
        except (OSError, UnicodeDecodeError, csv.Error) as problem:
            raise CommandError(f"Cannot read {path}: {problem}") from None
        return uses, errors
