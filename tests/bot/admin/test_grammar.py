"""The admin commands' grammar, and name matching with suggestions."""

from __future__ import annotations

import pytest

from bot.admin import GrammarError, parse_admin
from bot.admin.grammar import (
    FilterSpec,
    SetStale,
    SetSupervisor,
    SetThreshold,
    Subscribe,
    TargetSpec,
    Unsubscribe,
)
from bot.admin.names import UnknownName, pick
from bot.alerts import ReportSchedule
from bot.alerts.kinds import AlertKind
from bot.chat.commands import CommandError, parse_command
from bot.core import load_catalogue


def test_a_subscription_with_filters_and_a_target() -> None:
    command = parse_command(
        '/subscribe won pipeline:"Sales" price>=500_000 tag:VIP to supervisors'
    )

    assert command == Subscribe(
        kind=AlertKind.DEAL_WON,
        filters=FilterSpec(pipeline="Sales", price_min=500_000, tags=("VIP",)),
        target=TargetSpec(kind="supervisors"),
    )


def test_names_keep_their_spaces_in_either_kind_of_quotes() -> None:
    command = parse_command("/subscribe moved status:«Переговоры» to user:“Maria Ivanova”")

    assert isinstance(command, Subscribe)
    assert command.filters.status == "Переговоры"
    assert command.target == TargetSpec(kind="user", name="Maria Ivanova")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("/subscribe", "admin_which_event"),
        ("/subscribe frobnicate", "admin_unknown_event"),
        ("/subscribe won pipeline", "admin_bad_filter"),
        ("/subscribe won colour:red", "admin_bad_filter"),
        ("/subscribe won price>=lots", "admin_bad_filter"),
        ("/subscribe won to", "admin_bad_target"),
        ("/subscribe won to everybody", "admin_bad_target"),
        ('/subscribe won pipeline:"Sales', "admin_unbalanced_quotes"),
        ("/threshold big lots", "admin_bad_amount"),
        ("/threshold small 5", "admin_bad_threshold"),
        ("/stale Negotiation 2h", "admin_bad_stale"),
        ("/supervisor Sergey", "admin_bad_supervisor"),
        ("/unsubscribe", "admin_which_subscription"),
        ("/subscribe report weekly 25:00", "admin_bad_report"),
        ("/subscribe report hourly", "admin_bad_report"),
        ("/subscribe report price>=5", "admin_bad_report"),
        ("/subscribe report daily mon", "admin_report_daily_day"),
        ("/subscribe report weekly to responsible", "admin_report_target"),
    ],
)
def test_mistakes_name_what_was_wrong_and_show_an_example(text: str, code: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)

    assert caught.value.code == code
    assert caught.value.usage is not None


def test_the_other_admin_commands() -> None:
    assert parse_command("/unsubscribe S1A2B3") == Unsubscribe(id="s1a2b3")
    assert parse_command("/threshold big 500000") == SetThreshold(amount=500_000)
    assert parse_command("/threshold big off") == SetThreshold(amount=None)
    assert parse_command('/stale "Negotiation" 5d') == SetStale(status="Negotiation", days=5)
    assert parse_command('/supervisor group:"Sales A" @sergey') == SetSupervisor(
        group="Sales A", user="sergey"
    )
    assert parse_command('/supervisor group:"Sales A" off') == SetSupervisor(
        group="Sales A", user=None
    )


def test_names_match_in_any_case_by_a_unique_start_and_suggest_on_a_miss() -> None:
    named = [("Sales", 1), ("Support", 2), ("Partners", 3)]

    assert pick("pipeline", "sales", named) == [1]
    assert pick("pipeline", "Par", named) == [3]
    with pytest.raises(UnknownName) as caught:
        pick("pipeline", "Salse", named)
    assert caught.value.suggestions[0] == "Sales"
    with pytest.raises(UnknownName):
        pick("pipeline", "S", named)  # Sales or Support: ambiguous


@pytest.mark.parametrize("kind", list(AlertKind))
def test_every_alert_kind_is_written_back_with_a_word_the_grammar_reads(kind: AlertKind) -> None:
    # /subscriptions and the YAML export name each subscription's kind by this word.
    from bot.admin.names import _EVENT_WORD

    command = parse_command(f"/subscribe {_EVENT_WORD[kind.value]} to supervisors")

    assert isinstance(command, Subscribe)
    assert command.kind == kind


def test_a_report_subscription_is_weekly_on_monday_at_nine_to_here_unless_told() -> None:
    assert parse_command("/subscribe report") == Subscribe(
        kind=AlertKind.REPORT, target=TargetSpec(kind="here"), report=ReportSchedule()
    )
    assert parse_command("/subscribe report daily 18:00 to supervisors") == Subscribe(
        kind=AlertKind.REPORT, target=TargetSpec(kind="supervisors"),
        report=ReportSchedule(every="daily", at="18:00"),
    )  # fmt: skip
    assert parse_command('/subscribe отчёт еженедельно пт 7:30 group:"Sales A" to me') == (
        Subscribe(kind=AlertKind.REPORT, filters=FilterSpec(group="Sales A"),
                  target=TargetSpec(kind="me"),
                  report=ReportSchedule(every="weekly", weekday=4, at="07:30"))
    )  # fmt: skip


def test_a_report_subscription_mistake_is_explained_with_the_report_example() -> None:
    with pytest.raises(GrammarError) as refused:
        parse_admin("subscribe", "report weekly to author")
    assert refused.value.usage == "usage_subscribe_report"
    t = load_catalogue()
    for lang in ("ru", "en"):
        assert "author" in t(lang, "admin_report_target", **refused.value.params)
        assert "/subscribe report weekly to here" in t(lang, "usage_subscribe_report")
