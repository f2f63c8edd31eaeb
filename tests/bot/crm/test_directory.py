"""The directory's assignee lists, against the amoCRM emulator through the real client: kept
between cards for the same reader, and read again with the users (a deactivated user is no
longer offered)."""

from __future__ import annotations

from bot.core.clock import SystemClock
from bot.crm import Directory
from integrations.amocrm import AmoClient, LongLivedTokenAuth, NoPacing
from sandbox.amocrm import AmoEmulator, seed_demo_account


async def test_assignees_are_kept_until_the_users_are_read_again() -> None:
    emu = AmoEmulator(subdomain="demo")
    demo = seed_demo_account(emu)
    async with (
        emu.serve(host="127.0.0.1", port=0) as base_url,
        AmoClient(
            base_url, auth=LongLivedTokenAuth(emu.long_lived_token), pacer=NoPacing()
        ) as amo,
    ):
        directory = Directory(amo, SystemClock(), base_url=base_url)
        admin = await directory.user(demo.admin)
        assert admin is not None
        offered = await directory.assignees(admin, excluding=demo.ivan)
        names = [u.name for u in offered]
        assert demo.maria in {u.id for u in offered}
        assert demo.ivan not in {u.id for u in offered}  # the task's responsible
        assert names == sorted(names)
        reads = len(emu.request_log)
        assert await directory.assignees(admin, excluding=demo.ivan) is offered
        assert len(emu.request_log) == reads  # the second card asked amoCRM nothing

        emu.deactivate_user(demo.maria)
        await directory.refresh()
        admin = await directory.user(demo.admin)
        assert admin is not None
        again = await directory.assignees(admin, excluding=demo.ivan)
        assert demo.maria not in {u.id for u in again}
