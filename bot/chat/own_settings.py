"""A person's own delivery settings, answered alike in every messenger: which messenger
(``/messenger``), quiet hours (``/quiet``), working hours (``/hours``), mute (``/mute``) and
digest (``/digest``). Lifting a hold, or the digest, sends what waited for it at once."""

from __future__ import annotations

from dataclasses import dataclass

from bot.alerts import DigestService
from bot.chat import commands as cmd
from bot.core import Catalogue, Clock, Reader, human_duration, human_moment
from bot.people import HeldMessages, Links, Prefs, Reach, format_hours, working_hours


@dataclass(frozen=True, slots=True, eq=False)
class OwnSettings:
    _links: Links
    _prefs: Prefs
    _reach: Reach
    _held: HeldMessages
    _digests: DigestService
    _clock: Clock
    _t: Catalogue

    async def messenger(self, amo_user_id: int, reader: Reader, command: cmd.SetMessenger) -> str:
        """``/messenger``: show or change where the person's alerts and reminders go."""
        t, lang = self._t, reader.lang
        linked = [x.channel for x in await self._links.of_user(amo_user_id)]
        names = {c: t(lang, f"via_{c}") for c in linked}
        if command.channel is not None and command.channel not in linked:
            return t(lang, f"messenger_not_linked_{command.channel}")
        if command.channel is not None or command.everywhere:
            await self._prefs.update(amo_user_id, messenger=command.channel)
            choice = command.channel
        else:
            choice = (await self._prefs.get(amo_user_id)).messenger
        if choice is not None:
            others = ", ".join(name for c, name in names.items() if c != choice)
            text = t(lang, "messenger_one", channel=t(lang, f"via_{choice}"))
            if others:
                text += "\n" + t(lang, "messenger_fallback", others=others)
        else:
            text = t(lang, "messenger_all", channels=", ".join(names.values()))
        if command.channel is None and not command.everywhere:
            text += "\n" + t(lang, "usage_messenger")
        return text

    async def quiet(self, amo_user_id: int, reader: Reader, command: cmd.Quiet) -> str:
        """``/quiet 22:00-08:00``: alerts and reminders wait through these hours every day."""
        t, lang = self._t, reader.lang
        if command.off:
            await self._prefs.update(amo_user_id, quiet_start=None, quiet_end=None)
            return t(lang, "quiet_off") + await self._hold_changed(amo_user_id, reader)
        if command.start is not None and command.end is not None:
            await self._prefs.update(amo_user_id, quiet_start=command.start, quiet_end=command.end)
            start, end = command.start, command.end
            text = t(lang, "quiet_set", start=f"{start:%H:%M}", end=f"{end:%H:%M}",
                     tz=reader.timezone)  # fmt: skip
            return text + await self._hold_changed(amo_user_id, reader)
        prefs = await self._prefs.get(amo_user_id)
        if prefs.quiet_start is None or prefs.quiet_end is None:
            return t(lang, "quiet_none") + "\n" + t(lang, "usage_quiet")
        text = t(lang, "quiet_set", start=f"{prefs.quiet_start:%H:%M}",
                 end=f"{prefs.quiet_end:%H:%M}", tz=reader.timezone)  # fmt: skip
        return text + "\n" + t(lang, "usage_quiet")

    async def hours(self, amo_user_id: int, reader: Reader, command: cmd.Hours) -> str:
        """``/hours 10:00-19:00 mon-fri``: overdue repeats and escalations keep to these hours,
        and nothing comes outside them; ``/hours off``: the account's hours again."""
        t, lang = self._t, reader.lang
        if command.off or command.hours is not None:
            prefs = await self._prefs.update(amo_user_id, hours=command.hours)
            changed = await self._hold_changed(amo_user_id, reader)
        else:
            prefs, changed = await self._prefs.get(amo_user_id), "\n" + t(lang, "usage_hours")
        hours = working_hours(prefs, await self._prefs.account())
        key = "hours_own" if prefs.hours is not None else "hours_account"
        return t(lang, key, hours=format_hours(hours), tz=reader.timezone) + changed

    async def mute(self, amo_user_id: int, reader: Reader, command: cmd.Mute) -> str:
        """``/mute 2h``: alerts and reminders wait until then; ``/mute off`` lifts it."""
        t, lang = self._t, reader.lang
        now = int(self._clock.now())
        if command.off:
            await self._prefs.update(amo_user_id, muted_until=None)
            return t(lang, "mute_off") + await self._hold_changed(amo_user_id, reader)
        if command.minutes is not None:
            await self._prefs.update(amo_user_id, muted_until=now + command.minutes * 60)
        else:
            muted_until = (await self._prefs.get(amo_user_id)).muted_until
            if muted_until is None or muted_until <= now:
                return t(lang, "mute_none") + "\n" + t(lang, "usage_mute")
        # Quiet hours right after the mute hold on: the answer says when it all ends.
        until = await self._reach.held_until(amo_user_id) or now
        return t(lang, "mute_set", when=human_moment(self._t, reader, until, now))

    async def digest(self, amo_user_id: int, reader: Reader, command: cmd.Digest) -> str:
        """``/digest 30m`` or ``/digest daily 09:00``: alerts come together (reminders still
        on time); ``/digest off`` sends what was kept at once."""
        t, lang = self._t, reader.lang
        if command.off:
            await self._prefs.update(amo_user_id, digest_every_min=None, digest_daily=None)
            sent = await self._digests.flush(amo_user_id)
            return t(lang, "digest_off") + ("\n" + t(lang, "digest_flushed", count=sent) if sent
                                            else "")  # fmt: skip
        if command.every_min is not None or command.daily is not None:
            prefs = await self._prefs.update(
                amo_user_id, digest_every_min=command.every_min, digest_daily=command.daily
            )
        else:
            prefs = await self._prefs.get(amo_user_id)
        if prefs.digest_every_min is not None:
            every = human_duration(t, lang, prefs.digest_every_min)
            text = t(lang, "digest_every", every=every)
        elif prefs.digest_daily is not None:
            text = t(lang, "digest_daily", at=f"{prefs.digest_daily:%H:%M}", tz=reader.timezone)
        else:
            text = t(lang, "digest_none")
        if command.every_min is None and command.daily is None:
            text += "\n" + t(lang, "usage_digest")
        return text

    async def _hold_changed(self, amo_user_id: int, reader: Reader) -> str:
        """After quiet hours or a mute changed: send what waited if nothing holds it now, else
        say until when it waits. The line to add to the answer."""
        until = await self._reach.held_until(amo_user_id)
        if until is None:
            sent = await self._held.release(amo_user_id)
            return "\n" + self._t(reader.lang, "held_sent", count=sent) if sent else ""
        when = human_moment(self._t, reader, until, int(self._clock.now()))
        return "\n" + self._t(reader.lang, "held_until", when=when)
