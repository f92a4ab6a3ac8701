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


@pytest.mark.django_db
def test_a_refusal_whose_input_holds_nul_is_recorded_on_every_database():
    """schemathesis sent a JSON key with U+0000: the API refused it (422) and then failed (500) writing the
    refusal, since PostgreSQL stores no NUL in text or JSON. The NUL is recorded as the text ``\\x00``."""
    ev = audit_record(
        actor=None,
        event_type="api.refused",
        result="refused",
        reason="参数“answers.\x00a”：第1个字符是空字符(NUL)",
        data={"path": "/api/v1/x", "keys": {"\x00k": ["v\x00"]}},
    )
    ev = AuditEvent.objects.get(pk=ev.pk)
    assert ev.reason == "参数“answers.\\x00a”：第1个字符是空字符(NUL)"
    assert ev.data["keys"] == {"\\x00k": ["v\\x00"]}
    assert audit_verify() == []
