"""The application: settings, the composition root that builds every package's services and
runs them (HTTP server, scheduler, drains), and the ``amobridge`` command line (run, check, setup,
demo, sandbox).
"""

from bot.app.settings import (
    AmoCrmSettings,
    HttpSettings,
    Settings,
    SlackSettings,
    TelegramSettings,
)
from bot.app.setup import register_amocrm_webhook
from bot.app.wiring import Service, running_service

__all__ = [
    "AmoCrmSettings",
    "HttpSettings",
    "Service",
    "Settings",
    "SlackSettings",
    "TelegramSettings",
    "register_amocrm_webhook",
    "running_service",
]
