from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "fangpin.reports"
    label = "reports"
    verbose_name = "统计分析与报表"
