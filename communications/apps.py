from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    verbose_name = "Communications"

    def ready(self) -> None:
        # Communications move with their opportunity; the receiver is connected here, explicitly.
        from . import signals

        signals.connect()
