"""The webhook parser against the wire format of the reference (§6), captures included."""

from __future__ import annotations

import pytest

from bot.core.domain import HintSource
from handlers.amocrm_payload import MalformedWebhook, parse_webhook

ACCOUNT = "account[subdomain]=etesttask&account[id]=32427762&account[_links][self]=https://etesttask.amocrm.ru"


def test_it_reads_a_status_change_with_its_previous_status() -> None:
    body = (
        f"{ACCOUNT}&leads[status][0][id]=25399013&leads[status][0][name]=Deal"
        "&leads[status][0][status_id]=142&leads[status][0][old_status_id]=7039101"
        "&leads[status][0][pipeline_id]=3508507&leads[status][0][old_pipeline_id]=3508500"
        "&leads[status][0][modified_user_id]=77&leads[status][0][last_modified]=1413554372"
        "&leads[status][0][custom_fields][0][id]=1&leads[status][0][custom_fields][0][values][0][value]=x"
    )
    [hint] = parse_webhook(body.encode())
    assert (hint.kind, hint.id, hint.action, hint.source) == (
        "deal",
        25399013,
        "status",
        HintSource.WEBHOOK,
    )
    assert (hint.old_status_id, hint.old_pipeline_id) == (7039101, 3508500)
    assert (hint.actor_id, hint.at) == (77, 1413554372)


def test_it_reads_a_task_closed_as_a_completion() -> None:
    body = (
        f"{ACCOUNT}&task[update][0][id]=9&task[update][0][element_id]=5&task[update][0][status]=1"
        "&task[update][0][action_close]=1&task[update][0][result][text]=done"
    )
    [hint] = parse_webhook(body.encode())
    assert (hint.kind, hint.id, hint.action) == ("task", 9, "complete")


def test_it_reads_several_entities_and_actions_in_one_post() -> None:
    body = (
        f"{ACCOUNT}&leads[add][0][id]=1&leads[add][1][id]=2&leads[responsible][0][id]=3"
        "&leads[responsible][0][old_responsible_user_id]=8&task[add][0][id]=4&task[delete][0][id]=5"
        "&contacts[add][0][id]=6&contacts[add][0][type]=contact"
    )
    hints = parse_webhook(body.encode())
    assert [(h.kind, h.id, h.action) for h in hints] == [
        ("deal", 1, "add"),
        ("deal", 2, "add"),
        ("deal", 3, "responsible"),
        ("task", 4, "add"),
        ("task", 5, "delete"),
    ]
    assert hints[2].old_responsible_user_id == 8


def test_it_reads_a_note_on_a_deal_as_a_change_of_that_deal() -> None:
    body = (
        f"{ACCOUNT}&leads[note][0][note][id]=91&leads[note][0][note][element_id]=25399013"
        "&leads[note][0][note][element_type]=2&leads[note][0][note][note_type]=4"
        "&leads[note][0][note][text]=Called"
    )
    [hint] = parse_webhook(body.encode())
    assert (hint.kind, hint.id, hint.action) == ("deal", 25399013, "update")


@pytest.mark.parametrize(
    "section",
    [
        "contacts[update][0][id]=6",
        "contacts[note][0][note][id]=7&contacts[note][0][note][element_id]=6",
        "companies[add][0][id]=8&companies[add][0][name]=Initech",
        "unsorted[add][0][uid]=a1b2&unsorted[add][0][source]=form",
        "customers[add][0][id]=9",
        "catalogs[add][0][id]=10",
    ],
)
def test_it_accepts_a_section_it_does_not_follow_with_no_hints(section: str) -> None:
    assert parse_webhook(f"{ACCOUNT}&{section}".encode()) == []


def test_it_accepts_the_2018_capture_that_has_only_a_subdomain() -> None:
    [hint] = parse_webhook(b"account[subdomain]=old&leads[delete][0][id]=3")
    assert (hint.id, hint.action) == (3, "delete")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no account block"),
        (b'{"leads": {"add": [{"id": 1}]}}', "not form-encoded"),
        (b"\xff\xfeleads", "not form-encoded"),
        (b"leads[add][0][id]=1", "no account block"),
        (f"{ACCOUNT}&leads[add][0][name]=no-id".encode(), "numeric id"),
        (f"{ACCOUNT}&leads[add][0][id]=abc".encode(), "numeric id"),
        (f"{ACCOUNT}&leads=flat".encode(), "not a map"),
        (f"{ACCOUNT}&task[update]=flat".encode(), "not objects"),
        (f"{ACCOUNT}&leads[add][0][id=1".encode(), "unclosed bracket"),
        (f"{ACCOUNT}&leads[add][0]=1&leads[add][0][id]=2".encode(), "both a value and a map"),
        (f"{ACCOUNT}&leads[add][0][id]=2&leads[add][0]=1".encode(), "both a value and a map"),
    ],
)
def test_it_refuses_what_is_not_an_amocrm_webhook(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedWebhook, match=reason):
        parse_webhook(body)
