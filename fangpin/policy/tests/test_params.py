import pytest

from fangpin.core.errors import DomainError
from fangpin.policy.params import param_get, parameter_set


@pytest.mark.django_db
def test_most_specific_region_and_latest_year_win(personas):
    assert param_get("income.monitoring_line", region_code="420625100201", year=2021).value == 6000
    assert param_get("income.monitoring_line", region_code="410506205201", year=2024).value == 7300
    assert param_get("income.monitoring_line", region_code="410506205201", year=2030).value == 7900
    parameter_set(
        actor=personas["county_admin"],
        key="income.monitoring_line",
        value=7700,
        region_code="410506",
        year=2025,
    )
    pv = param_get("income.monitoring_line", region_code="410506205201", year=2026)
    assert pv.value == 7700 and pv.region_code == "410506"


@pytest.mark.django_db
def test_new_version_keeps_old_and_is_audited(personas):
    from fangpin.audit.models import AuditEvent
    from fangpin.policy.models import Parameter

    admin = personas["county_admin"]
    parameter_set(actor=admin, key="procedure.publicity_days", value=7, region_code="410506", year=2025)
    parameter_set(actor=admin, key="procedure.publicity_days", value=6, region_code="410506", year=2025)
    versions = Parameter.objects.filter(key="procedure.publicity_days", region_code="410506").order_by(
        "version"
    )
    assert [(p.version, p.value, p.is_active) for p in versions] == [(1, 7, False), (2, 6, True)]
    assert param_get("procedure.publicity_days", region_code="410506205201", year=2025).version == 2
    assert AuditEvent.objects.filter(event_type="policy.parameter_set").count() == 2


@pytest.mark.django_db
def test_only_admin_may_change_and_missing_param_is_clear(personas):
    with pytest.raises(DomainError):
        parameter_set(actor=personas["cadre_a1"], key="income.monitoring_line", value=1, year=2025)
    with pytest.raises(DomainError) as e:
        param_get("no.such.key", region_code="410506", year=2025)
    assert "缺少政策参数" in e.value.message
