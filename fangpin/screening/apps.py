from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "fangpin.screening"
    label = "screening"
