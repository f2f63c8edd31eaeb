"""files_upload_v2 end to end: an upload URL on the emulator, the bytes, then the file shared
into the channel as a message."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import error_of


async def test_files_upload_v2_shares_the_file_into_the_channel(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    dm = slack.dm_channel(ann)

    answer = await client.files_upload_v2(
        channel=dm, content=b"\x89PNG chart", filename="report.png", title="Week",
        initial_comment="The week in numbers",
    )  # fmt: skip

    [message] = slack.messages(dm)
    assert (message.text, message.from_bot) == ("The week in numbers", True)
    [shared] = message.files
    assert (shared["name"], shared["title"], shared["size"], shared["mimetype"]) == (
        "report.png", "Week", 10, "image/png",
    )  # fmt: skip
    stored = slack.file(answer["file"]["id"])
    assert (stored.data, stored.channels) == (b"\x89PNG chart", (dm,))
    assert [r.method for r in slack.request_log] == [
        "files.getUploadURLExternal", "files.completeUploadExternal",
    ]  # fmt: skip


async def test_a_file_is_not_shared_where_the_bot_is_not(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    outside = slack.add_channel("general", [ann], bot_member=False)

    refused = client.files_upload_v2(channel=outside, content=b"x", filename="a.txt")

    assert await error_of(refused) == "not_in_channel"
    assert slack.messages(outside) == []


async def test_completing_an_upload_that_never_came_is_refused(client: AsyncWebClient) -> None:
    url = await client.files_getUploadURLExternal(filename="a.txt", length=3)

    unsent = client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "A"}])
    assert await error_of(unsent) == "file_not_found"
    unknown = client.files_completeUploadExternal(files=[{"id": "F404", "title": "A"}])
    assert await error_of(unknown) == "file_not_found"
