from django.apps import AppConfig


class WhatIfConfig(AppConfig):
    name = "fangpin.whatif"
    label = "whatif"
    verbose_name = "政策模拟测算"
