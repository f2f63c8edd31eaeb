"""The Web API through slack_sdk's real client (and raw HTTP where slack_sdk would not send
something): identity and tokens, every input encoding, messages, people, DMs, scopes."""

from __future__ import annotations

import json
import re

from aiohttp import ClientSession, FormData
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import TOKEN, actions, button, error_of, section

BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def test_auth_test_names_the_bot_user_and_the_scopes(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    answer = await client.auth_test()

    assert answer["ok"] is True
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == (
        slack.team_id, slack.bot_user_id, slack.bot_id,
    )  # fmt: skip
    assert answer["url"] == "https://amobridge.slack.com/"
    assert {answer["team"], answer["user"]} <= {"amobridge"}
    assert answer.headers["x-oauth-scopes"].split(",") == list(slack.scopes)


async def test_a_call_without_a_token_or_with_a_wrong_one_is_refused(
    slack: SlackEmulator, session: ClientSession
) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_base, session=session)
    assert await error_of(wrong.auth_test()) == "invalid_auth"
    async with session.post(slack.api_base + "auth.test") as response:
        assert (response.status, (await response.json())["error"]) == (200, "not_authed")
    # A token in a JSON body is not read (Slack wants the header then); in a form it is.
    async with session.post(slack.api_base + "auth.test", json={"token": TOKEN}) as response:
        assert (await response.json())["error"] == "not_authed"
    async with session.post(slack.api_base + "auth.test", data={"token": TOKEN}) as response:
        assert (await response.json())["ok"] is True
    async with session.get(slack.api_base + "auth.test", params={"token": TOKEN}) as response:
        assert (await response.json())["ok"] is True


async def test_an_unknown_method_says_so(slack: SlackEmulator, session: ClientSession) -> None:
    async with session.post(slack.api_base + "chat.shout", headers=BEARER) as response:
        body = await response.json()
    assert (response.status, body["error"], body["req_method"]) == (
        200, "unknown_method", "chat.shout",
    )  # fmt: skip


async def test_every_encoding_reaches_the_same_method(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    slack.rate_limits = False  # five posts in a row to one channel
    dm = slack.dm_channel(ann)
    blocks = json.dumps([section("from a form")])
    async with session.post(
        slack.api_base + "chat.postMessage",
        headers=BEARER,
        data={"channel": dm, "text": "form", "blocks": blocks},
    ) as response:
        assert (await response.json())["ok"] is True  # fmt: skip
    form = FormData({"channel": dm, "text": "multipart"})
    form.add_field("file", b"ignored", filename="x.bin")  # forces multipart/form-data
    async with session.post(slack.api_base + "chat.postMessage", headers=BEARER,
                            data=form) as response:  # fmt: skip
        assert (await response.json())["ok"] is True
    async with session.post(slack.api_base + "chat.postMessage", headers=BEARER,
                            params={"channel": dm, "text": "query"}) as response:  # fmt: skip
        assert (await response.json())["ok"] is True
    async with session.post(
        slack.api_base + "chat.postMessage",
        headers=BEARER,
        json={"channel": dm, "text": "json", "team_id": "T1"},
    ) as response:
        assert (await response.json())["ok"] is True  # fmt: skip
    async with session.get(slack.api_base + "users.info", headers=BEARER,
                           params={"user": ann}) as response:  # fmt: skip
        assert (await response.json())["user"]["id"] == ann

    assert [m.text for m in slack.messages(dm)] == ["form", "multipart", "query", "json"]
    assert slack.messages(dm)[0].blocks[0]["text"]["text"] == "from a form"
    assert slack.request_log[-2].params["team_id"] == "T1"  # kept in the log, ignored


async def test_bad_json_blocks_are_refused_by_their_own_code(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    data = {"channel": slack.dm_channel(ann), "text": "x", "blocks": "[{not json"}
    async with session.post(slack.api_base + "chat.postMessage", headers=BEARER,
                            data=data) as response:  # fmt: skip
        assert (await response.json())["error"] == "invalid_blocks_format"


async def test_a_post_answers_with_the_stored_message_stamped_by_the_clock(
    session: ClientSession,
) -> None:
    frozen = SlackEmulator(bot_token=TOKEN, clock=lambda: 1_700_000_000.0)
    async with frozen.serve():
        client = AsyncWebClient(token=TOKEN, base_url=frozen.api_base, session=session)
        bob = frozen.add_user("Bob")
        dm = frozen.dm_channel(bob)
        first = await client.chat_postMessage(channel=dm, text="a", blocks=[section("a")])
        second = await client.chat_postMessage(channel=dm, text="b")

    assert (first["channel"], first["ts"], second["ts"]) == (
        dm, "1700000000.000000", "1700000000.000001",
    )  # fmt: skip
    message = first["message"]
    assert (message["type"], message["text"], message["ts"]) == ("message", "a", first["ts"])
    assert (message["user"], message["bot_id"]) == (frozen.bot_user_id, frozen.bot_id)
    assert message["blocks"][0]["block_id"]  # Slack names a block that came without a name
    [stored, _] = frozen.messages(dm)
    assert (stored.user, stored.bot_id, stored.from_bot) == (
        frozen.bot_user_id, frozen.bot_id, True,
    )  # fmt: skip


async def test_a_message_goes_to_a_dm_by_person_a_channel_by_name_and_into_a_thread(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    sales = slack.add_channel("sales", [ann])

    by_person = await client.chat_postMessage(channel=ann, text="to Ann")
    by_name = await client.chat_postMessage(channel="#sales", text="to sales")
    reply = await client.chat_postMessage(channel=sales, text="re", thread_ts=by_name["ts"])

    assert by_person["channel"] == slack.dm_channel(ann)
    assert by_name["channel"] == sales
    assert slack.message(sales, reply["ts"]).thread_ts == by_name["ts"]


async def test_an_update_keeps_every_version_and_drops_blocks_for_text_alone(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    dm = slack.dm_channel(ann)
    posted = await client.chat_postMessage(channel=dm, text="v1", blocks=[section("one")])

    updated = await client.chat_update(channel=dm, ts=posted["ts"], text="v2")
    await client.chat_update(channel=dm, ts=posted["ts"], text="v3", blocks=[section("three")])
    await client.chat_update(channel=dm, ts=posted["ts"], text="v4", blocks=[])

    assert (updated["channel"], updated["ts"], updated["text"]) == (dm, posted["ts"], "v2")
    assert updated["message"]["blocks"] == []  # text without blocks: the blocks are removed
    assert slack.message(dm, posted["ts"]).edits[-1].blocks[0]["text"]["text"] == "three"
    message = slack.message(dm, posted["ts"])
    assert (message.text, message.blocks) == ("v4", [])  # an empty list removes them
    assert [v.text for v in message.edits] == ["v1", "v2", "v3"]
    assert message.edited_ts is not None
    assert slack.stats.messages_updated == 3


async def test_a_json_body_is_refused_by_a_method_documented_for_forms_only(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    url = slack.api_base + "users.info"
    async with session.post(url, json={"user": ann}, headers=BEARER) as response:
        assert (await response.json())["error"] == "invalid_arguments"
    async with session.post(url, data={"user": ann}, headers=BEARER) as response:
        assert (await response.json())["user"]["id"] == ann
    write = slack.api_base + "conversations.open"
    async with session.post(write, json={"users": ann}, headers=BEARER) as response:
        assert (await response.json())["ok"] is True  # a write method takes JSON


async def test_what_cannot_be_posted_updated_or_deleted_is_refused(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    dm = slack.dm_channel(ann)
    outside = slack.add_channel("general", [ann], bot_member=False)
    posted = await client.chat_postMessage(channel=dm, text="x")
    theirs = slack.say(ann, outside, "a person's message")

    assert await error_of(client.api_call("chat.postMessage", json={"channel": dm})) == "no_text"
    assert await error_of(client.chat_postMessage(channel="C404", text="x")) == (
        "channel_not_found"
    )
    assert await error_of(client.chat_postMessage(channel=outside, text="x")) == "not_in_channel"
    assert await error_of(client.chat_update(channel=dm, ts=posted["ts"], text="y" * 4001)) == (
        "msg_too_long"
    )
    assert await error_of(client.chat_update(channel=dm, ts="1.000001", text="y")) == (
        "message_not_found"
    )
    assert await error_of(client.chat_update(channel=outside, ts=theirs, text="y")) == (
        "cant_update_message"
    )
    assert await error_of(client.chat_delete(channel=outside, ts=theirs)) == (
        "cant_delete_message"
    )
    assert [m.text for m in slack.messages(dm)] == ["x"]


async def test_a_deleted_message_is_flagged_and_gone_for_the_api(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    dm = slack.dm_channel(ann)
    posted = await client.chat_postMessage(channel=dm, text="x")

    answer = await client.chat_delete(channel=dm, ts=posted["ts"])

    assert (answer["channel"], answer["ts"]) == (dm, posted["ts"])
    assert slack.message(dm, posted["ts"]).deleted
    assert await error_of(client.chat_delete(channel=dm, ts=posted["ts"])) == "message_not_found"
    assert (await slack.wait_for_message(dm, lambda m: m.deleted)).ts == posted["ts"]


async def test_a_long_text_is_cut_at_40000_characters(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    posted = await client.chat_postMessage(channel=ann, text="y" * 40_010)

    assert len(slack.message(posted["channel"], posted["ts"]).text) == 40_000


async def test_a_deactivated_persons_dm_is_closed_to_the_app(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    dm = (await client.conversations_open(users=ann))["channel"]["id"]
    slack.deactivate_user(ann)

    assert await error_of(client.chat_postMessage(channel=dm, text="x")) == "is_archived"
    assert await error_of(client.conversations_open(users=ann)) == "user_disabled"
    assert (await client.users_info(user=ann))["user"]["deleted"] is True
    assert await error_of(client.users_lookupByEmail(email="ann@example.com")) == (
        "users_not_found"
    )
    slack.deactivated_dm_error = None  # as Slack staff describe it (python-slack-sdk#1156)
    assert (await client.chat_postMessage(channel=dm, text="x"))["ok"] is True


async def test_conversations_open_gives_one_dm_per_person(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    bot_person = slack.add_user("Old Bot", is_bot=True)

    first = await client.conversations_open(users=ann)
    again = await client.conversations_open(users=ann, return_im=True)

    assert re.fullmatch(r"D[0-9A-Z]+", first["channel"]["id"])
    assert first["channel"] == {"id": slack.dm_channel(ann)}
    assert "already_open" not in first.data
    assert again["already_open"] is True
    assert (again["channel"]["id"], again["channel"]["is_im"], again["channel"]["user"]) == (
        first["channel"]["id"], True, ann,
    )  # fmt: skip
    assert await error_of(client.conversations_open(users="U404")) == "user_not_found"
    assert await error_of(client.conversations_open(users=bot_person)) == "cannot_dm_bot"
    assert await error_of(client.api_call("conversations.open", params={})) == (
        "users_list_not_supplied"
    )


async def test_an_ephemeral_message_reaches_members_only(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    bob = slack.add_user("Bob")
    sales = slack.add_channel("sales", [ann])

    answer = await client.chat_postEphemeral(channel=sales, user=ann, text="psst",
                                             blocks=[section("psst")])  # fmt: skip

    [note] = slack.ephemerals(ann)
    assert (answer["message_ts"], note.channel, note.text, note.via) == (
        note.ts, sales, "psst", "chat.postEphemeral",
    )  # fmt: skip
    assert await error_of(client.chat_postEphemeral(channel=sales, user=bob, text="x")) == (
        "user_not_in_channel"
    )
    assert slack.messages(sales) == []  # nothing for everyone to see
    assert slack.ephemerals(bob) == []


async def test_a_person_is_described_as_slack_describes_them(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    user = (await client.users_info(user=ann, include_locale=True))["user"]

    assert {k: user[k] for k in ("id", "team_id", "name", "real_name", "deleted", "is_bot",
                                 "is_admin", "tz", "tz_offset", "locale")} == {
        "id": ann, "team_id": slack.team_id, "name": "ann.lee", "real_name": "Ann Lee",
        "deleted": False, "is_bot": False, "is_admin": False, "tz": "Europe/Berlin",
        "tz_offset": slack.user(ann).tz_offset, "locale": "en-US",
    }  # fmt: skip
    assert user["tz_offset"] in (3600, 7200)
    assert (user["profile"]["email"], user["profile"]["display_name"],
            user["profile"]["real_name"]) == ("Ann@Example.com", "Ann Lee", "Ann Lee")  # fmt: skip
    bot = (await client.users_info(user=slack.bot_user_id))["user"]
    assert (bot["is_bot"], bot["profile"]["bot_id"]) == (True, slack.bot_id)
    assert await error_of(client.users_info(user="U404")) == "user_not_found"


async def test_a_person_is_found_by_email_in_any_case(client: AsyncWebClient, ann: str) -> None:
    found = await client.users_lookupByEmail(email="ANN@example.COM")

    assert found["user"]["id"] == ann
    assert await error_of(client.users_lookupByEmail(email="nobody@example.com")) == (
        "users_not_found"
    )


async def test_the_member_list_comes_in_pages(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    made = {slack.add_user(f"User {n}") for n in range(5)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        answer = await client.users_list(limit=3, cursor=cursor)
        seen += [m["id"] for m in answer["members"]]
        pages += 1
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break

    # Slackbot and the app's own bot user are members too, as in every workspace.
    assert sorted(seen) == sorted(made | {"USLACKBOT", slack.bot_user_id})
    assert pages == 3
    assert await error_of(client.users_list(cursor="not-a-cursor")) == "invalid_cursor"


async def test_a_method_without_its_scope_answers_missing_scope() -> None:
    narrow = SlackEmulator(bot_token=TOKEN, scopes=["users:read", "im:write"])
    async with narrow.serve(), ClientSession() as session:
        client = AsyncWebClient(token=TOKEN, base_url=narrow.api_base, session=session)
        ann = narrow.add_user("Ann", email="ann@x.example")
        dm = (await client.conversations_open(users=ann))["channel"]["id"]

        posted = await error_of(client.chat_postMessage(channel=dm, text="x"))
        looked_up = await error_of(client.users_lookupByEmail(email="ann@x.example"))
        user = (await client.users_info(user=ann))["user"]

    assert (posted, looked_up) == ("missing_scope", "missing_scope")
    assert "email" not in user["profile"]  # users.info without users:read.email
    assert narrow.messages(dm) == []


async def test_missing_scope_names_the_needed_and_the_granted_scopes(
    session: ClientSession,
) -> None:
    narrow = SlackEmulator(bot_token=TOKEN, scopes=["chat:write"])
    async with (
        narrow.serve(),
        session.get(narrow.api_base + "users.info", headers=BEARER,
                    params={"user": "U1"}) as response,
    ):  # fmt: skip
        body = await response.json()
        accepted = response.headers["x-accepted-oauth-scopes"]

    assert (body["error"], body["needed"], body["provided"]) == (
        "missing_scope", "users:read", "chat:write",
    )  # fmt: skip
    assert accepted == "users:read"


async def test_the_request_log_keeps_every_call_without_the_token(
    slack: SlackEmulator, client: AsyncWebClient, session: ClientSession, ann: str
) -> None:
    await client.chat_postMessage(channel=ann, text="x", blocks=[actions(button())])
    async with session.post(slack.api_base + "auth.test", data={"token": TOKEN}):
        pass

    post, auth = slack.request_log
    assert (post.method, post.status, post.error, post.params["text"]) == (
        "chat.postMessage", 200, None, "x",
    )  # fmt: skip
    assert auth.method == "auth.test"
    assert "token" not in auth.params
    assert slack.stats.by_method == {"chat.postMessage": 1, "auth.test": 1}
