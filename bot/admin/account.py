"""The account's own settings, one at a time (``/config hours …``, ``/config control_tasks on``,
``/config other_messenger 30m``): working hours, control tasks in amoCRM on escalations, and the
repeat of an unanswered reminder in a person's other messenger. ``/config export`` writes the
same settings to the YAML file (``bot.admin.config_yaml``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admin.grammar import ConfigSet
from bot.alerts import Subscriptions
from bot.core import Catalogue, Lang, Reply, human_duration
from bot.people import DEFAULT_HOURS, Prefs, format_hours


@dataclass(frozen=True, slots=True, eq=False)
class AccountConfig:
    _subscriptions: Subscriptions
    _prefs: Prefs
    _t: Catalogue

    async def apply(self, lang: Lang, command: ConfigSet) -> Reply:
        t = self._t
        if command.key == "control_tasks":
            await self._subscriptions.update_settings(control_tasks=command.on)
            return Reply(text=t(lang, "admin_control_tasks_on" if command.on
                                else "admin_control_tasks_off"))  # fmt: skip
        if command.key == "hours":
            account = await self._prefs.update_account(hours=command.hours)
            hours = format_hours(account.hours or DEFAULT_HOURS)
            key = "admin_hours_set" if account.hours else "admin_hours_default"
            return Reply(text=t(lang, key, hours=hours))
        account = await self._prefs.update_account(other_messenger_after_min=command.minutes)
        if account.other_messenger_after_min is None:
            return Reply(text=t(lang, "admin_other_messenger_off"))
        after = human_duration(t, lang, account.other_messenger_after_min)
        return Reply(text=t(lang, "admin_other_messenger_set", after=after))
