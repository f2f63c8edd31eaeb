"""Slack: the Web API client amobridge uses, Block Kit rendering and outbox delivery."""

from integrations.slack.api import BotIdentity, SlackApi, web_client
from integrations.slack.errors import SlackError, delivery_error
from integrations.slack.notifier import SLACK_LIMITS, SlackNotifier
from integrations.slack.render import SlackMessage, render_card, render_home, render_modal

__all__ = [
    "SLACK_LIMITS",
    "BotIdentity",
    "SlackApi",
    "SlackError",
    "SlackMessage",
    "SlackNotifier",
    "delivery_error",
    "render_card",
    "render_home",
    "render_modal",
    "web_client",
]
