"""fangpin report_monthly [--year Y --month M] [--format xlsx|pdf|html] [--out FILE] [--as USER]"""

from ._report import ReportCommand


class Command(ReportCommand):
    help = "生成月推进表（Excel / PDF / 网页）"
    kind = "monthly"
    number_name = "month"
