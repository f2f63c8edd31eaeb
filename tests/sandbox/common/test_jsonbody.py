from __future__ import annotations

import pytest

from sandbox.common.jsonbody import NotAnObject, json_object


def test_an_object_is_read_and_an_empty_body_is_an_empty_one() -> None:
    assert json_object(b'{"chat_id": 7}') == {"chat_id": 7}
    assert json_object(b"  \n") == {}


@pytest.mark.parametrize(("raw", "parsed"), [(b"[1, 2]", True), (b"7", True), (b"{nope", False)])
def test_anything_else_is_refused_saying_whether_it_was_json(raw: bytes, parsed: bool) -> None:
    with pytest.raises(NotAnObject) as refused:
        json_object(raw)
    assert refused.value.parsed is parsed
