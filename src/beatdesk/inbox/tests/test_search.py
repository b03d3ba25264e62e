"""Finding messages: full-text search (SQLite FTS5, PostgreSQL) and the other filters."""

from __future__ import annotations

import datetime as dt

import pytest

from beatdesk.core.clock import now
from beatdesk.inbox.queries import InboxFilter, inbox_page
from beatdesk.testing.fixtures import route

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages(deliver):
    texts = {
        "bike": "My bike was stolen outside the library on Dudley Road",
        "phone": "Call me back on 07700 900123 about the stolen bicycle",
        "welsh": "Mae fy meic wedi cael ei ddwyn o'r orsaf",
        "cafe": "Thanks to the officer at the café this morning",
    }
    return {
        k: route(
            deliver({"id": k, "network": "x", "text": t, "account": "@WestmerePolice"}).message_id
        )
        for k, t in texts.items()
    }


def found(user, **kw) -> set[str]:
    return {m.external_id for m in inbox_page(user, InboxFilter(**kw))}


def test_full_text_search_finds_words_anywhere_and_needs_all_of_them(messages, users):
    dana = users["dana.desk"]
    assert found(dana, q="stolen") == {"bike", "phone"}
    assert found(dana, q="stolen library") == {"bike"}
    assert found(dana, q="café") == {"cafe"}
    assert found(dana, q="nothing-like-this") == set()
    assert found(dana, q="   ") == {"bike", "phone", "welsh", "cafe"}


def test_language_personal_data_and_date_filters(messages, users):
    dana = users["dana.desk"]
    assert found(dana, language="cy") == {"welsh"}
    assert found(dana, personal_data=True) == {"phone"}
    assert "phone" not in found(dana, personal_data=False)
    today = now().date()
    assert found(dana, since=today, until=today) == {"bike", "phone", "welsh", "cafe"}
    assert found(dana, until=today - dt.timedelta(days=1)) == set()


def test_the_inbox_page_searches(messages, client_for):
    page = client_for("dana.desk").get("/", {"q": "library"})
    assert b"outside the library" in page.content and b"Thanks to the officer" not in page.content
