"""Who a notice reaches: each resident of its audience once, however many homes and chat
accounts they have; those with no account counted, not sent to."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.announcement import service as announcements
from storage.announcement.models import AnnouncementDelivery, AnnouncementKind
from storage.clock import utcnow
from storage.identity.models import ChatIdentity
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from tests.conftest import SampleEstate

WHOLE_ESTATE = announcements.Audience()


def test_a_resident_with_two_homes_and_two_accounts_hears_a_notice_once(
    cuihu: SampleEstate,
) -> None:
    session = cuihu.session
    li, zhang = cuihu.person("李强"), cuihu.person("张伟")  # 李强: 2-2-301 and 3-1-1204
    session.add_all(
        [
            ChatIdentity(platform="telegram", external_id="801", person=li),
            ChatIdentity(platform="wechat", external_id="o-li", person=li),
            ChatIdentity(platform="telegram", external_id="802", person=zhang),
        ]
    )
    session.flush()

    found = announcements.recipients(session=session, estate_id=cuihu.id, audience=WHOLE_ESTATE)
    by_name = {session.get_one(Person, r.id).name: r.bound for r in found}
    assert by_name == {"张伟": True, "王芳": False, "李强": True, "赵敏": False}
    assert announcements.reach(session=session, estate_id=cuihu.id, audience=WHOLE_ESTATE) == (
        announcements.Reach(residents=4, bound=2)
    )

    notice = announcements.create(
        session=session,
        estate_id=cuihu.id,
        kind=AnnouncementKind.WATER_OUTAGE,
        title="全小区停水",
        text="管网维修",
        audience=WHOLE_ESTATE,
        actor=None,
        by="test",
        ends_at=utcnow() + timedelta(hours=4),
        emergency=True,
    )
    session.flush()
    sent = session.scalars(
        select(OutboxMessage.recipient_id).where(OutboxMessage.kind == "announcement")
    ).all()
    assert sorted(sent, key=str) == sorted([li.id, zhang.id], key=str)  # 李强 once
    deliveries = session.scalars(
        select(AnnouncementDelivery).where(AnnouncementDelivery.announcement_id == notice.id)
    ).all()
    assert len(deliveries) == 4  # one a resident: the two without an account wait, unsent
    assert sum(delivery.outbox_id is None for delivery in deliveries) == 2
