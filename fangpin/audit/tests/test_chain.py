import pytest
from django.db import DatabaseError, connection, transaction

from fangpin.audit.models import AuditEvent
from fangpin.audit.record import audit_record, audit_verify


@pytest.mark.django_db
def test_chain_verifies_and_detects_tampering():
    for i in range(3):
        audit_record(actor=None, event_type="test.event", object_type="x", object_id=i, data={"i": i})
    assert audit_verify() == []
    ev = AuditEvent.objects.order_by("seq")[1]
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=ev.seq).update(reason="tampered")
    # A superuser bypassing the trigger is still caught by the hash chain.
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL session_replication_role = replica")  # superuser: triggers off
            cur.execute("UPDATE audit_auditevent SET reason='tampered' WHERE seq=%s", [ev.seq])
            cur.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            cur.execute("DROP TRIGGER audit_event_no_update")
            cur.execute("UPDATE audit_auditevent SET reason='tampered' WHERE seq=%s", [ev.seq])
    assert audit_verify() == [ev.seq]
