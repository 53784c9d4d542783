"""Where each message starts: its conversation, locked, and who is writing."""

from __future__ import annotations

import threading
from functools import partial

import time_machine
import yaml
from sqlalchemy import func, select, text

from storage.chat import service as chat
from storage.chat.models import Conversation
from storage.database import Database
from storage.estate import importer
from storage.identity import service as identity
from storage.people.models import Person
from tests.conftest import SAMPLE, SampleEstate, local, wait_until


def bind(cuihu: SampleEstate, name: str, external_id: str) -> Person:
    code = identity.create_invite(
        session=cuihu.session, person=cuihu.person(name), estate_id=cuihu.id
    )
    return identity.redeem_invite(
        session=cuihu.session, code=code, platform="telegram", external_id=external_id
    )


def sample_with_zhang_wei_bound(db: Database) -> dict[str, str]:
    """The sample estate, 张伟 bound to Telegram account 1001; his private chat's key."""
    with db.transaction() as s:
        importer.import_estate(session=s, data=yaml.safe_load(SAMPLE.read_text("utf-8")))
        owner = s.scalars(select(Person).where(Person.name == "张伟")).one()
        code = identity.create_invite(session=s, person=owner, estate_id=1)
        identity.redeem_invite(session=s, code=code, platform="telegram", external_id="1001")
    return {"platform": "telegram", "chat_id": "1001", "user_id": "1001"}


def one_waiting_on_a_lock(db: Database) -> bool:
    """PostgreSQL: one transaction of this database waits on another's lock."""
    with db.engine.connect() as c:
        waits = c.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return waits.scalar() == 1


def test_a_first_message_opens_a_conversation_and_knows_who_writes(cuihu: SampleEstate) -> None:
    owner = bind(cuihu, "张伟", "1001")
    desk = bind(cuihu, "陈静", "1002")

    arrival = chat.arrive(
        session=cuihu.session, platform="telegram", chat_id="1001", user_id="1001"
    )
    assert (arrival.person, arrival.resident) == (owner, True)
    assert (arrival.conversation.flow, arrival.conversation.data) == (None, {})

    again = chat.arrive(session=cuihu.session, platform="telegram", chat_id="1001", user_id="1001")
    assert again.conversation.id == arrival.conversation.id

    clerk = chat.arrive(session=cuihu.session, platform="telegram", chat_id="1002", user_id="1002")
    assert (clerk.person, clerk.resident) == (desk, False)  # staff, no home here

    # The same account in a group is another conversation, with the same person.
    in_group = chat.arrive(
        session=cuihu.session, platform="telegram", chat_id="-500", user_id="1001"
    )
    assert in_group.person == owner
    assert in_group.conversation.id != arrival.conversation.id

    # Another platform's account with the same id is somebody else: nobody yet.
    stranger = chat.arrive(session=cuihu.session, platform="wechat", chat_id="1001", user_id="1001")
    assert (stranger.person, stranger.resident) == (None, False)


def test_two_workers_taking_someones_first_messages_at_once_open_one_conversation(
    db: Database,
) -> None:
    with time_machine.travel(local(2026, 11, 23, 9, 0), tick=False):
        key = sample_with_zhang_wei_bound(db)
        taken: list[int] = []

        def second_worker() -> None:
            with db.transaction() as s:
                taken.append(chat.arrive(session=s, **key).conversation.id)

        with db.transaction() as s:
            first = chat.arrive(session=s, **key).conversation.id
            worker = threading.Thread(target=second_worker)
            worker.start()
            if db.engine.dialect.name == "postgresql":
                # The second worker found no conversation either, and its INSERT waits on
                # ours; it commits now. (SQLite: it waits to begin, and then finds ours.)
                wait_until(partial(one_waiting_on_a_lock, db))
        worker.join(timeout=30)

        assert taken == [first]
        with db.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Conversation)) == 1


def test_the_person_a_message_comes_from_is_the_sessions_own_and_a_change_to_them_is_kept(
    db: Database,
) -> None:
    key = sample_with_zhang_wei_bound(db)
    with db.transaction() as s:
        person = chat.arrive(session=s, **key).person
        assert person is not None
        assert person.name == "张伟"
        assert s.get(Person, person.id) is person  # no second copy of them in the session
        assert [r.unit.number for r in person.residencies] == ["1-502"]  # loads as any person
        person.locale = "en"  # 语言: English from now on
    with db.transaction() as s:
        assert s.scalars(select(Person.locale).where(Person.name == "张伟")).one() == "en"


def test_a_second_message_of_the_same_conversation_waits_for_the_first_to_finish(
    db: Database,
) -> None:
    key = sample_with_zhang_wei_bound(db)
    with db.transaction() as s:
        chat.arrive(session=s, **key)  # the conversation is open
    seen: list[str | None] = []

    def second_message() -> None:
        with db.transaction() as s:
            seen.append(chat.arrive(session=s, **key).conversation.step)

    with db.transaction() as s:
        standing = chat.arrive(session=s, **key).conversation
        worker = threading.Thread(target=second_message)
        worker.start()
        if db.engine.dialect.name == "postgresql":
            wait_until(
                partial(one_waiting_on_a_lock, db)
            )  # the row is locked: SQLite waits to begin instead
        chat.save(session=s, conversation_id=standing.id, flow="repair", step="describe", data={})
    worker.join(timeout=30)
    assert seen == ["describe"]  # read after the first was saved, not before
