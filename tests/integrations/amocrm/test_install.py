"""Where the consent page is, and what an admin may paste instead of a code."""

from __future__ import annotations

import pytest

from integrations.amocrm import code_from_paste, consent_url_base


@pytest.mark.parametrize(
    ("base_url", "consent"),
    [
        ("https://acme.amocrm.ru", "https://www.amocrm.ru/oauth"),
        ("https://acme.amocrm.com/", "https://www.amocrm.com/oauth"),
        ("https://ACME.kommo.com", "https://www.kommo.com/oauth"),
        ("http://127.0.0.1:8181", "http://127.0.0.1:8181/oauth"),
    ],
)
def test_the_consent_page_of_each_amocrm_family(base_url: str, consent: str) -> None:
    assert consent_url_base(base_url) == consent


def test_a_pasted_redirect_address_gives_its_code_and_account() -> None:
    pasted = " https://bridge.example/amocrm/oauth?code=def502&state=s&referer=acme.amocrm.ru "
    assert code_from_paste(pasted) == ("def502", "acme.amocrm.ru")
    assert code_from_paste("def50200abc\n") == ("def50200abc", None)
