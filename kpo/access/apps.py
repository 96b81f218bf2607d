from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "kpo.access"
    label = "access"
