"""A wire-level, stateful emulator of a Slack workspace with one installed app.

It serves the Web API at ``/api/<method>`` as Slack does (inputs merged from query, form and
JSON; errors as HTTP 200 ``ok: false``; scopes per method; Block Kit checked; 429 with an
integer Retry-After), and plays the workspace's people, who send signed slash commands, clicks,
modal submissions and events to the app's Request URL and time its acknowledgement against
Slack's 3 seconds. It imports nothing from the service: it is checked against Slack, not
against our code.
"""

from sandbox.slack.control import CONTROL
from sandbox.slack.emulator import SlackEmulator
from sandbox.slack.records import (
    Ephemeral,
    FileRecord,
    Interaction,
    MessageVersion,
    RequestRecord,
    Signing,
    SlackMessage,
    SlackRateLimits,
    SlackUser,
    Stats,
    ViewRecord,
)

# (HTTP method, path, body or meaning) of each control endpoint, as `amobridge sandbox` lists them.
CONTROL_ENDPOINTS = CONTROL.endpoints

__all__ = [
    "CONTROL_ENDPOINTS",
    "Ephemeral",
    "FileRecord",
    "Interaction",
    "MessageVersion",
    "RequestRecord",
    "Signing",
    "SlackEmulator",
    "SlackMessage",
    "SlackRateLimits",
    "SlackUser",
    "Stats",
    "ViewRecord",
]
