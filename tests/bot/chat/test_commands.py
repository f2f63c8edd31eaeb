"""The grammar of a person's own commands and of the admins' reports and escalation: typed
values, or the mistake and its example."""

from __future__ import annotations

from datetime import time

import pytest

from bot.admin.grammar import ExportActivity, SetEscalation, ShowReport
from bot.chat.commands import CommandError, Digest, parse_command


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/digest", Digest()),
        ("/digest off", Digest(off=True)),
        ("/digest 30m", Digest(every_min=30)),
        ("/digest 2h", Digest(every_min=120)),
        ("/digest daily", Digest(daily=time(9, 0))),
        ("/digest Daily 18:30", Digest(daily=time(18, 30))),
        ("/digest ежедневно 7", Digest(daily=time(7, 0))),
        ("/report", ShowReport()),
        ("/report month", ShowReport(days=30)),
        ('/report 14d group:"Sales A"', ShowReport(days=14, group="Sales A")),
        ("/report неделя Отдел продаж", ShowReport(days=7, group="Отдел продаж")),
        ("/export year", ExportActivity(days=365)),
        ("/export Sales", ExportActivity(group="Sales")),
        ("/escalate 90m", SetEscalation(minutes=90)),
        ("/escalate 1d", SetEscalation(minutes=1440)),
        ("/escalate off", SetEscalation(minutes=None)),
    ],
)
def test_commands_parse_to_their_values(text: str, command: object) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "code", "usage"),
    [
        ("/digest weekly", "bad_digest", "usage_digest"),
        ("/digest daily 25:00", "bad_digest", "usage_digest"),
        ("/digest daily 9 am", "bad_digest", "usage_digest"),
        ("/digest 5m", "digest_out_of_range", "usage_digest"),
        ("/digest 1d", "digest_out_of_range", "usage_digest"),
        ("/report 400d", "admin_bad_period", "usage_report"),
        ("/report 2h", "admin_bad_period", "usage_report"),
        ("/export 10x", "admin_bad_period", "usage_export"),
        ('/export "Sales', "admin_unbalanced_quotes", "usage_export"),
        ("/escalate", "admin_bad_escalate", "usage_escalate"),
        ("/escalate soon", "admin_bad_escalate", "usage_escalate"),
        ("/escalate 2m", "admin_bad_escalate", "usage_escalate"),
        ("/escalate 8d", "admin_bad_escalate", "usage_escalate"),
    ],
)
def test_mistakes_say_what_was_wrong_with_an_example(text: str, code: str, usage: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)

    assert (caught.value.code, caught.value.usage) == (code, usage)
