from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kpo.audit"
    label = "audit"
