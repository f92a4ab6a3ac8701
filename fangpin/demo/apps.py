from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "fangpin.demo"
    label = "demo"
