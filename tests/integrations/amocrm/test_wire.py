from __future__ import annotations

from bot.core.domain import Right
from integrations.amocrm.wire import (
    WireAccount,
    WireEvent,
    WireLead,
    WirePage,
    WirePipeline,
    WireTask,
    WireUser,
    WireWebhook,
)
from tests.integrations.amocrm.fakes import wire_lead, wire_task


def test_it_reads_a_task_without_result_as_php_sends_it() -> None:
    task = WireTask.model_validate(wire_task(56981, result=[])).to_domain()
    assert task.id == 56981
    assert task.result_text is None
    assert task.type_id == 2
    assert task.entity_type == "leads"
    assert task.deal_id == 180765
    assert task.complete_till == 1575910423
    assert task.updated_at == 1576767989


def test_it_reads_a_task_result_and_completion() -> None:
    wire = wire_task(1, is_completed=True, result={"text": "Reached the client"})
    task = WireTask.model_validate(wire).to_domain()
    assert task.is_completed
    assert task.result_text == "Reached the client"


def test_it_reads_a_task_without_an_entity() -> None:
    task = WireTask.model_validate(wire_task(1, entity_id=0, entity_type=None)).to_domain()
    assert task.entity_id is None
    assert task.entity_type is None
    assert task.deal_id is None


def test_it_ignores_unknown_fields_and_null_custom_fields() -> None:
    wire = wire_lead(26060763, custom_fields_values=None, brand_new_field={"x": 1})
    deal = WireLead.model_validate(wire).to_domain()
    assert deal.id == 26060763
    assert deal.price == 150000
    assert deal.status_id == 142
    assert deal.tags == ("vip",)
    assert deal.closed_at is None


def test_it_reads_an_empty_embedded_written_as_a_list() -> None:
    deal = WireLead.model_validate(wire_lead(1, _embedded=[], price=None)).to_domain()
    assert deal.tags == ()
    assert deal.price == 0


def test_it_reads_custom_field_values() -> None:
    cf = [
        {
            "field_id": 271213,
            "field_name": "Phone",
            "field_code": "PHONE",
            "field_type": "multitext",
            "values": [{"value": "+7", "enum_id": 1, "enum_code": "WORK"}],
        }
    ]
    lead = WireLead.model_validate(wire_lead(1, custom_fields_values=cf))
    assert lead.custom_fields_values[0]["field_id"] == 271213


def test_it_maps_user_rights_letters_and_group() -> None:
    wire = {
        "id": 504329,
        "name": "Ivan",
        "email": "ivan@example.com",
        "lang": "en",
        "rights": {
            "leads": {"view": "G", "edit": "M", "add": "A", "delete": "D", "export": "D"},
            "contacts": {"view": "A"},
            "tasks": {"edit": "A", "delete": "D"},
            "mail_access": False,
            "status_rights": None,
            "is_admin": True,
            "is_free": False,
            "is_active": False,
            "group_id": 7,
            "role_id": None,
        },
        "_embedded": {"roles": [], "groups": [{"id": 7, "name": "Sales A"}]},
    }
    user = WireUser.model_validate(wire).to_domain()
    assert user.rights.leads_view is Right.GROUP
    assert user.rights.leads_edit is Right.OWN
    assert user.rights.tasks_edit is Right.ALL
    assert user.rights.tasks_delete is Right.DENIED
    assert user.rights.is_admin
    assert not user.is_active
    assert user.group_id == 7
    assert user.lang == "en"


def test_it_denies_what_it_cannot_read() -> None:
    user = WireUser.model_validate({"id": 1, "name": "X", "rights": []}).to_domain()
    assert user.rights.leads_view is Right.DENIED
    assert user.lang == "ru"
    odd = WireUser.model_validate({"id": 2, "rights": {"leads": {"view": "Z"}}}).to_domain()
    assert odd.rights.leads_view is Right.DENIED


def test_it_reads_the_account_timezone_from_datetime_settings() -> None:
    wire = {
        "id": 321312,
        "name": "Demo",
        "subdomain": "demo",
        "current_user_id": 504329,
        "country": "RU",
        "timezone": "Ignored/Top_Level",
        "_embedded": {
            "users_groups": [{"id": 0, "name": "Отдел продаж", "uuid": None}],
            "task_types": [
                {
                    "id": 1,
                    "name": "Связаться",
                    "color": None,
                    "icon_id": None,
                    "code": "FOLLOW_UP",
                },
                {"id": 2, "name": "Встреча", "color": None, "icon_id": None, "code": "MEETING"},
            ],
            "datetime_settings": {"timezone": "Europe/Moscow", "timezone_offset": "+03:00"},
        },
    }
    account = WireAccount.model_validate(wire).to_domain()
    assert account.timezone == "Europe/Moscow"
    assert account.groups[0].id == 0
    assert [t.code for t in account.task_types] == ["FOLLOW_UP", "MEETING"]


def test_it_defaults_the_timezone_when_settings_are_missing() -> None:
    account = WireAccount.model_validate({"id": 1, "name": "A", "subdomain": "a"}).to_domain()
    assert account.timezone == "UTC"


def test_it_reads_pipelines_with_statuses_in_sort_order() -> None:
    wire = {
        "id": 437642,
        "name": "Sales",
        "sort": 1,
        "is_main": True,
        "_embedded": {
            "statuses": [
                {"id": 142, "name": "Won", "sort": 10000, "pipeline_id": 437642, "type": 0},
                {"id": 1, "name": "Unsorted", "sort": 10, "pipeline_id": 437642, "type": 1},
            ]
        },
    }
    pipeline = WirePipeline.model_validate(wire).to_domain()
    assert pipeline.is_main
    assert [s.id for s in pipeline.statuses] == [1, 142]
    assert pipeline.statuses[0].type == 1


def test_it_reads_events_with_their_value_shapes() -> None:
    wire = {
        "id": "01pz58t6p04ymgsgfbmfyfy1mf",
        "type": "lead_status_changed",
        "entity_id": 26060763,
        "entity_type": "lead",
        "created_by": 939801,
        "created_at": 1700000000,
        "value_after": [{"lead_status": {"id": 142, "pipeline_id": 437642}}],
        "value_before": [{"lead_status": {"id": 1, "pipeline_id": 437642}}],
        "account_id": 17079858,
        "_embedded": {"entity": {"id": 26060763}},
    }
    event = WireEvent.model_validate(wire).to_domain()
    assert event.id == "01pz58t6p04ymgsgfbmfyfy1mf"
    assert event.value_after == [{"lead_status": {"id": 142, "pipeline_id": 437642}}]


def test_it_reads_event_quirks() -> None:
    wire = {
        "id": 5,
        "type": "task_added",
        "entity_id": 1,
        "entity_type": "task",
        "created_at": 1,
        "value_after": None,
        "value_before": {"0": {"note": {"id": 2}}},
    }
    event = WireEvent.model_validate(wire).to_domain()
    assert event.id == "5"
    assert event.value_after == []
    assert event.value_before == [{"note": {"id": 2}}]


def test_it_reads_a_webhook() -> None:
    wire = {
        "id": 9,
        "destination": "https://x/h",
        "created_at": 5,
        "updated_at": 5,
        "account_id": 1,
        "created_by": 2,
        "sort": 10,
        "disabled": False,
        "settings": ["add_task", "update_task"],
    }
    hook = WireWebhook.model_validate(wire).to_domain()
    assert hook.settings == ("add_task", "update_task")
    assert hook.sort == 10


def test_it_reads_the_paging_envelope() -> None:
    page = WirePage.model_validate(
        {"_links": {"self": {"href": "a"}, "next": {"href": "b"}}, "_embedded": {"tasks": [{}]}}
    )
    assert page.next_href == "b"
    assert page.items("tasks") == [{}]
    assert page.items("leads") == []
    empty = WirePage.model_validate({"_links": [], "_embedded": []})
    assert empty.next_href is None
    assert empty.items("tasks") == []
