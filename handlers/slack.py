"""Slack in: the ``/amo`` command, button clicks, modal submissions and the Home tab.

Every listener acknowledges first (Slack gives 3 seconds and shows the user an error after),
then calls the core, and answers its own failures (``answering_failures``: an exception let out
to bolt after the ack can cost the ack). Answers that concern only the caller are ephemeral:
through the command's response_url, or ``chat.postEphemeral`` next to the clicked message. No
exception text reaches a user: anything unexpected is logged and answered with the catalogue's
apology.

Over 400 lines on purpose: every listener is registered in one ``register`` so that the
ack-first rule and the shared look-ups (who clicked, where) read in one place. The HTTP edge
(signature on the raw bytes, envelope checks) is handlers.slack_edge.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.admin import (
    ADMIN_COMMANDS,
    UNSUBSCRIBE_PREFIX,
    AdminService,
    ConfigImport,
    wants_here,
)
from bot.alerts import Target
from bot.chat import Conversation, failure_key
from bot.chat import commands as cmd
from bot.core import (
    Catalogue,
    CrmError,
    Lang,
    ParseError,
    Reply,
    TextMessage,
    as_lang,
    log_failure,
)
from bot.people import EmailLinking, EmailLinkResult, EmailLinkStep, Speaker
from bot.tasks import Action, BadPayload, DealPayload, Payload, unpack, unpack_deal
from handlers.slack_edge import field_of
from integrations.slack.api import SlackApi
from integrations.slack.errors import SlackError
from integrations.slack.home import SlackHome
from integrations.slack.render import LINK_ACTION, render_card, render_modal, slack_commands

log = logging.getLogger(__name__)

VIA: Literal["slack"] = "slack"
SLASH_COMMAND = "/amo"
COMMENT_VIEW = "comment"
SNOOZE_VIEW = "snooze"
CONFIG_VIEW = "config_import"
INPUT_BLOCK = "answer"
INPUT_ACTION = "value"

Body = dict[str, Any]

_P = TypeVar("_P", Payload, DealPayload)
_Listener = TypeVar("_Listener", bound=Callable[..., Awaitable[None]])


@dataclass(frozen=True, slots=True)
class SlackDeps:
    conversation: Conversation
    admin: AdminService
    linking: EmailLinking
    api: SlackApi
    home: SlackHome
    t: Catalogue


def register(app: AsyncApp, d: SlackDeps) -> None:
    """Add amobridge's listeners to a bolt app."""
    t, talk, api = d.t, d.conversation, d.api

    async def who(slack_user_id: str) -> Speaker:
        me = await talk.speaker(VIA, slack_user_id, None)
        if me.linked:
            return me  # they speak their amoCRM language, or the one they chose
        return await talk.speaker(VIA, slack_user_id, await api.locale(slack_user_id))

    async def tell(me: Speaker, channel: str | None, text: str | None) -> None:
        """An ephemeral note to the user, next to what they clicked (or in their DM)."""
        if text is None:
            return
        target = channel or (me.link.chat_id if me.link else None)
        if target is None:
            log.warning("slack: nowhere to tell %s: %s", me.account_id, text[:80])
            return
        try:
            await api.ephemeral(target, me.account_id, slack_commands(text))
        except SlackError as exc:
            log.warning("slack: could not tell %s: %s", me.account_id, exc)

    def answering_failures(listener: _Listener) -> _Listener:
        """``listener`` with a failure after its ack answered here (``on_error``), not raised
        into bolt. Told of an exception after the ack, bolt's asyncio runner puts the ack back
        to None (slack_bolt 1.x, ``AsyncioListenerRunner.run``): if that lands before its 10 ms
        poll saw the ack, Slack gets no answer and shows the person an error (a slash command
        that fails at once, as when amoCRM refuses our token). A failure before the ack (a
        modal's) still goes to bolt, which answers Slack at once and calls ``on_error``."""

        @functools.wraps(listener)  # bolt reads the wrapped listener's arguments
        async def run(**kwargs: Any) -> None:
            try:
                await listener(**kwargs)
            except Exception as exc:
                ack: AsyncAck | None = kwargs.get("ack")
                if ack is not None and ack.response is None:
                    raise
                await on_error(exc, kwargs.get("body") or {})

        return run  # type: ignore[return-value]

    # --- /amo -------------------------------------------------------------------------------

    @app.command(SLASH_COMMAND)
    @answering_failures
    async def on_command(ack: AsyncAck, body: Body, command: Body) -> None:
        await ack()
        me = await who(command["user_id"])
        text = (command.get("text") or "").strip()
        if await config_form(me, text, command.get("channel_id"), command.get("trigger_id")):
            return
        answer = await run(me, text, command.get("channel_id"))
        if isinstance(answer, Reply) and answer.file is not None:
            answer = await send_file(me, answer)
        rows = answer.rows if isinstance(answer, Reply) else ()
        text = answer.text if isinstance(answer, Reply) else answer
        message = render_card(TextMessage(text=slack_commands(text), rows=rows))
        await api.respond(command["response_url"], message.text, message.blocks)

    async def config_form(
        me: Speaker, text: str, channel: str | None, trigger_id: str | None
    ) -> bool:
        """``/amo config import`` with nothing after it: a form to paste the YAML into (for an
        admin; anyone else is answered as for any admin command). True if it was opened."""
        try:
            command = cmd.parse_command(text)
        except cmd.CommandError:
            return False
        admin = me.user is not None and me.user.rights.is_admin
        if not (isinstance(command, ConfigImport) and command.text is None and admin):
            return False
        if trigger_id is None:
            return False
        lang = me.lang
        view = render_modal(
            callback_id=CONFIG_VIEW, metadata=channel or "",
            title=t(lang, "modal_config_title"), submit=t(lang, "modal_config_submit"),
            close=t(lang, "modal_cancel"), intro=slack_commands(t(lang, "modal_config_intro")),
            block_id=INPUT_BLOCK, label=t(lang, "modal_config_label"),
            hint=slack_commands(t(lang, "modal_config_hint")), multiline=True, max_length=3000,
        )  # fmt: skip
        try:
            await api.open_modal(trigger_id, view)
        except SlackError as exc:
            log.warning("slack: config form not opened: %s", exc)
            return False
        return True

    async def send_file(me: Speaker, answer: Reply) -> str:
        """A file answer goes to the user's direct message, never into a shared channel."""
        assert answer.file is not None
        try:
            dm = await api.open_dm(me.account_id)
            comment = slack_commands(answer.text)
            await api.upload(dm, answer.file.name, answer.file.content, comment)
        except SlackError as exc:
            log.warning("slack: file for %s not uploaded: %s", me.account_id, exc)
            return t(me.lang, "slack_file_failed")
        return t(me.lang, "slack_file_sent", name=answer.file.name)

    async def run(me: Speaker, text: str, channel: str | None) -> str | Reply:
        try:
            command = cmd.parse_command(text or "help")
        except cmd.CommandError as exc:
            return talk.usage(me.lang, exc)
        if isinstance(command, ADMIN_COMMANDS):
            shared = channel is not None and not channel.startswith("D")  # D…: a direct message
            here = Target(kind="slack_channel", id=channel) if shared else None
            admin = me.user is not None and me.user.rights.is_admin
            if here is not None and channel is not None and admin and wants_here(command):
                refusal = await enter(me.lang, channel)
                if refusal is not None:
                    return refusal
            return await d.admin.run(me, command, here)
        if isinstance(command, cmd.Link | cmd.Start):
            everyone = isinstance(command, cmd.Link) and command.everyone
            return await link_all(me) if everyone else await link(me)
        if isinstance(command, cmd.Unlink):
            return await talk.unlink(me)
        if isinstance(command, cmd.Invite):
            return t(me.lang, "invite_in_telegram")
        answer = await talk.run(me, command)
        assert answer is not None  # every other command is a shared one
        if isinstance(command, cmd.Tasks) and me.link is not None and channel != me.link.chat_id:
            return t(me.lang, "slack_tasks_in_dm", header=answer)
        return answer

    async def enter(lang: Lang, channel: str) -> str | None:
        """The app in the channel an admin subscribes "to here" (joined if public); else why
        not and what to do, said before anything is subscribed."""
        try:
            presence = await api.enter(channel)
        except SlackError as exc:
            log.warning("slack: could not enter %s: %s", channel, exc)
            return t(lang, "slack_here_failed")
        if presence in ("private", "archived"):
            return t(lang, f"slack_here_{presence}")
        return None

    async def link(me: Speaker) -> str:
        result = await d.linking.link(me.account_id)
        if result.step in (EmailLinkStep.LINKED, EmailLinkStep.RESUMED) and result.user:
            return await talk.linked_text(result.user)
        return link_refusal(me.lang, result)

    def link_refusal(lang: Lang, result: EmailLinkResult) -> str:
        name = result.user.name if result.user else ""
        if result.step is EmailLinkStep.ALREADY:
            return t(lang, "slack_linked_already", name=name)
        if result.step is EmailLinkStep.NOT_FOUND:
            return t(lang, "slack_email_not_found", email=result.account.email or "")
        if result.step is EmailLinkStep.AMO_TAKEN:
            return t(lang, "slack_amo_taken", name=name)
        return t(lang, "slack_no_email")

    async def link_all(me: Speaker) -> str:
        if me.user is None or not me.user.rights.is_admin:
            return t(me.lang, "link_all_not_admin")
        results = [r for r in await d.linking.link_all() if r.step is not EmailLinkStep.SKIPPED]
        linked = [r for r in results if r.step in (EmailLinkStep.LINKED, EmailLinkStep.RESUMED)]
        already = [r for r in results if r.step is EmailLinkStep.ALREADY]
        failed = [r for r in results if not r.ok]
        lines = [t(me.lang, "link_all_header", linked=len(linked), already=len(already),
                   failed=len(failed))]  # fmt: skip
        for r in linked:
            lines.append(t(me.lang, "link_all_linked", slack=_mention(r),
                           name=r.user.name if r.user else ""))  # fmt: skip
        for r in failed:
            if r.step is EmailLinkStep.NOT_FOUND:
                lines.append(t(me.lang, "link_all_not_found", slack=_mention(r),
                               email=r.account.email or ""))  # fmt: skip
            elif r.step is EmailLinkStep.AMO_TAKEN:
                lines.append(t(me.lang, "link_all_amo_taken", slack=_mention(r),
                               name=r.user.name if r.user else ""))  # fmt: skip
            else:
                lines.append(t(me.lang, "link_all_no_email", slack=_mention(r)))
        return "\n".join(lines)

    # --- buttons ----------------------------------------------------------------------------

    @app.action(re.compile(f"^{LINK_ACTION}"))
    @answering_failures
    async def on_link_button(ack: AsyncAck) -> None:
        await ack()  # "Open in amoCRM" opens in the browser; Slack still reports the click

    async def clicked(body: Body) -> tuple[Speaker, str | None]:
        """Who clicked, and the channel of the message clicked in (None: the Home tab)."""
        me = await who(body["user"]["id"])  # check_envelope made sure of it
        in_message = field_of(body, "container", "type") == "message"
        channel = field_of(body, "container", "channel_id") if in_message else None
        return me, channel if isinstance(channel, str) else None

    async def decoded(
        me: Speaker, channel: str | None, decode: Callable[[str], _P], value: str
    ) -> _P | None:
        """The button's payload, if it is one and the clicker is linked; else they are told."""
        try:
            payload = decode(value)
        except BadPayload:
            await tell(me, channel, t(me.lang, "action_stale"))
            return None
        if not me.linked:
            await tell(me, channel, t(me.lang, "not_linked_slack"))
            return None
        return payload

    @app.action(re.compile(r"^t:"))
    @answering_failures
    async def on_task_action(ack: AsyncAck, body: Body, action: Body) -> None:
        await ack()
        me, channel = await clicked(body)
        payload = await decoded(me, channel, unpack, _action_value(action))
        if payload is None:
            return
        if payload.action is Action.COMMENT or (
            payload.action is Action.SNOOZE and payload.arg == "cu"
        ):
            await ask(me, channel, payload, body.get("trigger_id") or "")
            return
        await tell(me, channel, await talk.press(me, payload))

    @app.action(re.compile(f"^{UNSUBSCRIBE_PREFIX}"))
    @answering_failures
    async def on_unsubscribe(ack: AsyncAck, body: Body, action: Body) -> None:
        await ack()
        me, _ = await clicked(body)
        channel = field_of(body, "container", "channel_id")
        value = _action_value(action)
        answer = await d.admin.press_unsubscribe(me, value[len(UNSUBSCRIBE_PREFIX) :][:64])
        await tell(me, channel if isinstance(channel, str) else None, answer.text)

    @app.action(re.compile(r"^d:"))
    @answering_failures
    async def on_deal_action(ack: AsyncAck, body: Body, action: Body) -> None:
        await ack()
        me, channel = await clicked(body)
        payload = await decoded(me, channel, unpack_deal, _action_value(action))
        if payload is not None:
            await tell(me, channel, await talk.deal_press(me, payload))

    async def ask(me: Speaker, channel: str | None, payload: Payload, trigger_id: str) -> None:
        """Open the modal that asks for a comment or a time: at once, the trigger lasts 3 s."""
        task, refusal = await talk.check_cached(me, payload.task_id)
        if task is None:
            await tell(me, channel, refusal)
            return
        comment = payload.action is Action.COMMENT
        lang = me.lang
        view = render_modal(
            callback_id=COMMENT_VIEW if comment else SNOOZE_VIEW,
            metadata=f"{payload.task_id}:{channel or ''}",
            title=t(lang, "modal_comment_title" if comment else "modal_snooze_title"),
            submit=t(lang, "modal_comment_submit" if comment else "modal_snooze_submit"),
            close=t(lang, "modal_cancel"),
            intro=task.text[:500],
            block_id=INPUT_BLOCK,
            label=t(lang, "modal_comment_label" if comment else "modal_snooze_label"),
            hint=t(lang, "modal_comment_hint" if comment else "usage_snooze"),
            multiline=comment,
        )
        try:
            await api.open_modal(trigger_id, view)
        except SlackError as exc:
            log.warning("slack: modal for task %s not opened: %s", payload.task_id, exc)
            await tell(me, channel, t(lang, "error_generic"))

    # --- modals -----------------------------------------------------------------------------

    @app.view(COMMENT_VIEW)
    @answering_failures
    async def on_comment(ack: AsyncAck, body: Body, view: Body) -> None:
        me = await who(body["user"]["id"])
        typed = _typed(view).strip()
        if not typed:
            await ack(response_action="errors", errors={INPUT_BLOCK: t(me.lang, "comment_empty")})
            return
        await ack()
        await answered(me, view, lambda task_id: talk.complete(me, task_id, comment=typed[:2000]))

    @app.view(SNOOZE_VIEW)
    @answering_failures
    async def on_snooze(ack: AsyncAck, body: Body, view: Body) -> None:
        me = await who(body["user"]["id"])
        try:
            until = talk.typed_moment(me, _typed(view))
        except ParseError as exc:
            await ack(response_action="errors", errors={INPUT_BLOCK: talk.usage(me.lang, exc)})
            return
        await ack()
        await answered(me, view, lambda task_id: talk.snooze(me, task_id, until))

    @app.view(CONFIG_VIEW)
    @answering_failures
    async def on_config(ack: AsyncAck, body: Body, view: Body) -> None:
        me = await who(body["user"]["id"])
        answer = await d.admin.run(me, ConfigImport(text=_typed(view)), None)
        if answer.failed:  # nothing changed: the mistakes are shown under the pasted text
            errors = {INPUT_BLOCK: slack_commands(answer.text)[:1500]}
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        channel = str(view.get("private_metadata") or "") or None
        await tell(me, channel, answer.text)

    async def answered(
        me: Speaker, view: Body, write: Callable[[int], Awaitable[str | None]]
    ) -> None:
        """After an accepted modal: the write, and its refusal (if any) next to the card."""
        task_id, channel = _metadata(view)
        if task_id is None or not me.linked:
            await tell(me, channel, t(me.lang, "not_linked_slack"))
            return
        await tell(me, channel, await write(task_id))

    # --- Home tab ---------------------------------------------------------------------------

    @app.event("app_home_opened")
    @answering_failures
    async def on_home_opened(event: Body) -> None:
        user = event.get("user")
        if event.get("tab", "home") == "home" and isinstance(user, str):
            await d.home.opened(user)

    # The net under ``answering_failures``, for what fails in bolt itself (its middleware, say).
    @app.error
    async def on_error(error: Exception, body: Body) -> None:
        if isinstance(error, SlackError) and error.retry_after is not None:
            # Slack's rate limit outlasted the retries (each waited its Retry-After): Slack's
            # answer, not a bug, and the person cannot be told through Slack right now.
            log.warning("slack: %s still rate limited after retries", error.method)
            return
        log_failure(log, error, "slack request failed")
        user = field_of(body, "user", "id") or body.get("user_id")
        if not isinstance(user, str):
            return
        response_url = body.get("response_url")
        key = failure_key(error)
        try:
            try:
                me: Speaker | None = await who(user)
            except CrmError:
                me = None  # who they are needs amoCRM too: answer in their Slack language
            lang = me.lang if me is not None else as_lang(await api.locale(user))
            if isinstance(response_url, str):
                await api.respond(response_url, t(lang, key))
            elif me is not None:
                await tell(me, None, t(lang, key))
        except Exception:
            log.exception("could not tell the user about the failure")


def _mention(result: EmailLinkResult) -> str:
    return f"<@{result.account.account_id}>"


def _typed(view: Body) -> str:
    """What was typed into the modal's one input ("" if the view does not have it)."""
    node: object = view
    for key in ("state", "values", INPUT_BLOCK, INPUT_ACTION, "value"):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) else ""


def _action_value(action: Body) -> str:
    """A button's value or a menu's selected option ("" if neither is a string)."""
    value = action.get("value")
    if isinstance(value, str) and value:
        return value
    selected = field_of(action, "selected_option", "value")
    return selected if isinstance(selected, str) else ""


def _metadata(view: Body) -> tuple[int | None, str | None]:
    """The task and the channel the modal was opened from (``"<task id>:<channel>"``)."""
    task, _, channel = str(view.get("private_metadata") or "").partition(":")
    ours = 0 < len(task) <= 19 and task.isascii() and task.isdigit()  # not "²": int() refuses it
    return (int(task) if ours else None), (channel or None)
