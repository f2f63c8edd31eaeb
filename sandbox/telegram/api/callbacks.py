"""answerCallbackQuery: once per query, within the answer window."""

from __future__ import annotations

from dataclasses import replace

from sandbox.telegram.context import BotContext
from sandbox.telegram.errors import QUERY_TOO_OLD, bad_request
from sandbox.telegram.params import Params
from sandbox.telegram.records import CallbackAnswer

ANSWER_TEXT_LIMIT = 200


async def answer_callback_query(ctx: BotContext, params: Params) -> bool:
    state = ctx.state
    query_id = (params.text("callback_query_id") or "").strip()
    issued = state.callbacks.get(query_id)
    if issued is None:
        raise bad_request(QUERY_TOO_OLD)
    text = params.text("text") or None
    if text is not None and len(text) > ANSWER_TEXT_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    now = state.now()
    answer = CallbackAnswer(
        query_id=query_id,
        text=text,
        show_alert=params.flag("show_alert"),
        url=params.text("url") or None,
        answered_at=now,
        late=now - issued.issued_at > ctx.knobs.callback_answer_timeout_s,
        repeated=issued.answered,
    )
    state.callback_answers.append(answer)
    if not answer.accepted:
        raise bad_request(QUERY_TOO_OLD)
    state.callbacks[query_id] = replace(issued, answered=True)
    return True
