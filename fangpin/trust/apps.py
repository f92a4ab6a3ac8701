from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "fangpin.trust"
    label = "trust"
