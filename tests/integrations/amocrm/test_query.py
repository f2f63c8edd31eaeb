from __future__ import annotations

from urllib.parse import unquote

from integrations.amocrm.query import bracket_pairs, encode_query


def test_it_flattens_php_brackets_with_numbered_indexes() -> None:
    pairs = bracket_pairs(
        {
            "limit": 250,
            "filter": {
                "id": [5, 7],
                "updated_at": {"from": 1700000000},
                "is_completed": False,
                "statuses": [{"pipeline_id": 1, "status_id": 142}],
                "skipped": None,
            },
            "with": "contacts",
        }
    )
    assert pairs == [
        ("limit", "250"),
        ("filter[id][0]", "5"),
        ("filter[id][1]", "7"),
        ("filter[updated_at][from]", "1700000000"),
        ("filter[is_completed]", "0"),
        ("filter[statuses][0][pipeline_id]", "1"),
        ("filter[statuses][0][status_id]", "142"),
        ("with", "contacts"),
    ]


def test_it_encodes_bools_as_php_does() -> None:
    assert bracket_pairs({"filter": {"is_completed": True}}) == [("filter[is_completed]", "1")]


def test_it_percent_encodes_brackets_like_http_build_query() -> None:
    query = encode_query({"filter": {"type": ["task_added", "lead_added"]}, "q": "a b"})
    assert query == "filter%5Btype%5D%5B0%5D=task_added&filter%5Btype%5D%5B1%5D=lead_added&q=a+b"
    assert unquote(query).startswith("filter[type][0]=task_added")


def test_it_leaves_out_none_and_empty_mappings() -> None:
    assert encode_query({"filter": None, "limit": 50}) == "limit=50"
    assert encode_query({"filter": {}}) == ""
