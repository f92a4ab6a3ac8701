"""Who am I, the region tree, and the policy parameters in force."""

from ninja import Query, Router, Schema

from fangpin.accounts.roles import CAPABILITIES, Role
from fangpin.core.errors import NotFound
from fangpin.policy.params import param_get
from fangpin.regions.models import Region
from fangpin.regions.selectors import region_path_names

from ..errors import ERRORS
from ..schemas import MeOut, ParameterOut, PlainText, RegionOut

router = Router(tags=["基础信息"])


@router.get("/me", response={200: MeOut, **ERRORS}, summary="当前用户、角色与管辖区域")
def me(request):
    u = request.auth
    return {
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "role_name": Role(u.role).label if u.role in Role.values else u.role,
        "region_code": u.region_id,
        "region_name": " / ".join(region_path_names(u.region_id)) if u.region_id else "",
        "capabilities": sorted(str(c) for c in CAPABILITIES.get(u.role, set())),
    }


@router.get("/regions/{code}/children", response={200: list[RegionOut], **ERRORS}, summary="下级行政区划")
def region_children(request, code: PlainText):
    if not code.isdigit() or len(code) != 12 or not Region.objects.filter(code=code).exists():
        raise NotFound("行政区划")
    return [
        {"code": r.code, "name": r.name, "level": r.level}
        for r in Region.objects.filter(parent_id=code).order_by("code")
    ]


class ParamQuery(Schema):
    region: PlainText
    year: int


@router.get("/parameters/{key}", response={200: ParameterOut, **ERRORS}, summary="某地某年适用的政策参数")
def parameter(request, key: PlainText, query: Query[ParamQuery]):
    if not (1949 <= query.year <= 2100) or not query.region.isdigit() or len(query.region) > 12:
        raise NotFound("政策参数")
    try:
        pv = param_get(key[:100], region_code=query.region.ljust(12, "0"), year=query.year)
    except Exception as e:  # an unknown key or region: the same answer as a missing object
        raise NotFound("政策参数") from e
    return {
        "key": pv.key,
        "region_prefix": pv.region_code,
        "year": pv.year,
        "version": pv.version,
        "value": pv.value,
    }
