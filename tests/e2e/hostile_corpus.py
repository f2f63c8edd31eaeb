"""The fuzz corpus of issue 12, item 4: the inputs that once reached a traceback (500), each with
what the edge answers now. ``test_hostile_input.py`` sends every one to the running service.

Only the cases found by fuzzing, tried as an attacker would, are here; property-based tests in
``tests/handlers`` and ``tests/bot`` cover the parsers at large.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

ACCOUNT = "account[subdomain]=demo&account[id]=1"
BIG_BODY_BYTES = 2 * 1024 * 1024  # twice the webhook's limit


@dataclass(frozen=True)
class AmoCase:
    """A body POSTed to ``/amocrm/webhook/<secret>``; ``{deal}`` stands for a real deal's id."""

    name: str
    body: bytes
    status: int


def _amo(name: str, fields: str, status: int) -> AmoCase:
    return AmoCase(name, f"{ACCOUNT}&{fields}".encode(), status)


AMO_CASES = (
    # Unicode digits: "¹".isdigit() is true and int("¹") raises.
    _amo("superscript digit in an id", "leads[add][0][id]=%C2%B9", 400),
    _amo("superscript digit in an index", "leads[add][%C2%B2][id]={deal}", 400),
    _amo("arabic-indic digits in an id", "leads[add][0][id]=%D9%A3", 400),
    _amo(
        "superscript digit in an old status (ignored)",
        "leads[status][0][id]={deal}&leads[status][0][old_status_id]=%C2%B2",
        200,
    ),
    _amo("--5 as an id", "leads[add][0][id]=--5", 400),
    _amo(
        "--5 as the modifying user (ignored)",
        "leads[update][0][id]={deal}&leads[update][0][modified_user_id]=--5",
        200,
    ),
    _amo("a negative id", "leads[add][0][id]=-5", 400),
    _amo("an id of 2^63", f"leads[add][0][id]={2**63}", 400),
    _amo("an id of 5,000 digits", "leads[add][0][id]=" + "9" * 5000, 400),
    _amo("an index of 5,000 digits", "task[add][" + "9" * 5000 + "][id]=5", 400),
    _amo("a section amobridge does not follow", "contacts[add][0][id]=%C2%B9", 200),
)

SLACK_FORM = "application/x-www-form-urlencoded"
SLACK_JSON = "application/json"


@dataclass(frozen=True)
class SlackCase:
    """A body POSTed to ``/slack/events``; ``signed``: with a valid signature (else a wrong
    one, or none). ``{user}`` and ``{channel}`` stand for a real Slack user and their DM."""

    name: str
    body: bytes
    content_type: str
    signed: bool
    status: int


def _actions(value: object, *, with_id: bool = True) -> bytes:
    action: dict[str, object] = {"type": "button", "block_id": "b", "value": value}
    if with_id:
        action["action_id"] = "t:c"
    payload = {
        "type": "block_actions", "user": {"id": "{user}"}, "team": {"id": "T1"},
        "container": {"type": "message", "channel_id": "{channel}", "message_ts": "1.1"},
        "channel": {"id": "{channel}"}, "actions": [action], "trigger_id": "1.1.x",
        "api_app_id": "A1", "token": "x",
    }  # fmt: skip
    return b"payload=" + json.dumps(payload).replace(" ", "").encode()


SLACK_CASES = (
    SlackCase("unsigned payload=not-json", b"payload=not-json", SLACK_FORM, False, 401),
    SlackCase("unsigned payload=[]", b"payload=[]", SLACK_FORM, False, 401),
    SlackCase("unsigned invalid UTF-8", b"payload=\xff\xfe{", SLACK_FORM, False, 401),
    SlackCase("signed payload=not-json", b"payload=not-json", SLACK_FORM, True, 400),
    SlackCase("signed payload=[]", b"payload=[]", SLACK_FORM, True, 400),
    # slack_sdk verifies text: a body that is not UTF-8 cannot carry a signature it accepts.
    SlackCase("signed invalid UTF-8", b"payload=\xff\xfe{", SLACK_FORM, True, 401),
    SlackCase(
        "signed null event",
        b'{"type":"event_callback","team_id":"T1","api_app_id":"A1","event":null}',
        SLACK_JSON,
        True,
        400,
    ),
    SlackCase("an action without an id", _actions("t:c:5", with_id=False), SLACK_FORM, True, 400),
    # A forged or edited button: acknowledged, and the clicker is told the button is stale.
    SlackCase("an action value t:c:²", _actions("t:c:²"), SLACK_FORM, True, 200),
    SlackCase("a number as action value", _actions(5), SLACK_FORM, True, 200),
    SlackCase("an object as action value", _actions({"t": 1}), SLACK_FORM, True, 200),
)

LONG_ZONE = "Europe/" + "A" * 293  # 300 characters: ZoneInfo raised "File name too long"
