from django.db import migrations

from portal.audit import chain_hash

GENESIS = "0" * 64
CHUNK = 2000


def chain_existing_entries(apps, schema_editor):
    """Entries written before the chain get their numbers in the order they were written (by id)."""
    AuditEvent = apps.get_model("portal", "AuditEvent")
    AuditChainHead = apps.get_model("portal", "AuditChainHead")
    seq, prev_hash, last_id = 0, GENESIS, 0
    while True:
        chunk = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:CHUNK])
        if not chunk:
            break
        for event in chunk:
            seq += 1
            event.seq, event.prev_hash = seq, prev_hash
            event.hash = prev_hash = chain_hash(
                seq=seq, prev_hash=event.prev_hash, at=event.at, actor_id=event.actor_id, action=event.action,
                outcome=event.outcome, target=event.target, ip_address=event.ip_address, detail=event.detail,
            )
        AuditEvent.objects.bulk_update(chunk, ["seq", "prev_hash", "hash"])
        last_id = chunk[-1].id
    AuditChainHead.objects.create(id=1, seq=seq, hash=prev_hash)


def forget_the_chain(apps, schema_editor):
    apps.get_model("portal", "AuditChainHead").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0004_audit_chain"),
    ]

    operations = [
        migrations.RunPython(chain_existing_entries, forget_the_chain),
    ]
