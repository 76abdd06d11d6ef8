"""The SQLite file of the laptop demo: two quick clicks that both write never answer "database is locked"."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Two clicks at once, each reading then writing in one transaction, on the demo's own settings.
TWO_CLICKS = """
import json, threading, time
import django
django.setup()
from django.db import connection, connections, transaction

with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
    cursor.execute("CREATE TABLE clicks (n integer)")
    cursor.execute("INSERT INTO clicks VALUES (0)")
connection.close()

errors = []

def click():
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT max(n) FROM clicks")
            (last,) = cursor.fetchone()
            time.sleep(0.3)  # both clicks are inside their transaction at the same time
            cursor.execute("INSERT INTO clicks VALUES (%s)", [last + 1])
    except Exception as error:
        errors.append(str(error))
    finally:
        connections.close_all()

clicks = [threading.Thread(target=click) for _ in range(2)]
for thread in clicks:
    thread.start()
for thread in clicks:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT n FROM clicks ORDER BY n")
    rows = [n for (n,) in cursor.fetchall()]
print(json.dumps({"journal_mode": journal_mode, "errors": errors, "rows": rows}))
"""


def test_two_concurrent_writes_to_the_demo_database_both_succeed_in_wal_mode(tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", DJANGO_SETTINGS_MODULE="portal.settings")

    result = subprocess.run([sys.executable, "-c", TWO_CLICKS], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["journal_mode"] == "wal"
    assert outcome["errors"] == []
    # The second click waited for the first and read what it wrote.
    assert outcome["rows"] == [0, 1, 2]
