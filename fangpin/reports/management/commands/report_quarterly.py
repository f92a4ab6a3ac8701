"""fangpin report_quarterly [--year Y --quarter Q] [--format xlsx|pdf|html] [--out FILE] [--as USER] [--internal]"""

from ._report import ReportCommand


class Command(ReportCommand):
    help = "生成季度通报（Excel / PDF / 网页；默认对外公开版，做小单元格抑制）"
    kind = "quarterly"
    number_name = "quarter"
