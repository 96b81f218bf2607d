from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kpo.accounts"
    label = "accounts"
