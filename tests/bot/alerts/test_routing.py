"""Routing alerts to people: the defaults, filters, targets, rights, and one message each."""

from __future__ import annotations

import pytest

from bot.alerts.kinds import Alert, AlertKind, alerts_from
from bot.alerts.routing import Recipient, Router
from bot.alerts.subscriptions import DEFAULTS, AlertSettings, Filters, Subscription, Target
from bot.core.domain import CrmEvent, CrmEventKind, Deal, Right, Rights, Task, User

SALES_A, SALES_B = 1, 2


def user(uid: int, group: int, view: Right, *, admin: bool = False) -> User:
    return User(id=uid, name=f"U{uid}", group_id=group,
                rights=Rights(leads_view=view, is_admin=admin))  # fmt: skip


ADMIN = user(1, SALES_A, Right.ALL, admin=True)
SUPERVISOR = user(2, SALES_A, Right.GROUP)
IVAN = user(3, SALES_A, Right.OWN)
MARIA = user(4, SALES_A, Right.OWN)
OLEG = user(5, SALES_B, Right.OWN)
BLIND = user(6, SALES_A, Right.DENIED)
USERS = [ADMIN, SUPERVISOR, IVAN, MARIA, OLEG, BLIND]


def deal(owner: User, status: int = 10, price: int = 1000, **kw: object) -> Deal:
    return Deal(id=77, name="Acme", price=price, status_id=status, pipeline_id=100,
                responsible_user_id=owner.id, **kw)  # fmt: skip


def alert(kind: AlertKind, d: Deal | None = None, *, actor: int | None = None,
          task: Task | None = None) -> Alert:  # fmt: skip
    return Alert(kind=kind, key=f"k:{kind}", occurred_at=0, actor_id=actor, deal=d, task=task)


def people(recipients: list[Recipient]) -> set[int | None]:
    return {r.amo_user_id for r in recipients}


def router(*subscriptions: Subscription, settings: AlertSettings | None = None) -> Router:
    return Router(subscriptions or DEFAULTS, USERS, settings or AlertSettings())


def test_a_manager_hears_of_their_own_deal_moving_unless_they_moved_it() -> None:
    moved = deal(IVAN, status=20)

    assert people(router().route(alert(AlertKind.DEAL_STATUS, moved, actor=MARIA.id))) == {IVAN.id}
    assert router().route(alert(AlertKind.DEAL_STATUS, moved, actor=IVAN.id)) == []


def test_a_task_given_by_someone_else_is_news_and_one_made_for_oneself_is_not() -> None:
    given = Task(id=9, responsible_user_id=IVAN.id, created_by=MARIA.id, complete_till=0)
    own = given.model_copy(update={"created_by": IVAN.id})

    assert people(router().route(alert(AlertKind.TASK_CREATED, task=given))) == {IVAN.id}
    assert router().route(alert(AlertKind.TASK_CREATED, task=own)) == []


def test_supervisors_of_the_group_hear_of_won_deals_and_the_blind_never_do() -> None:
    won = deal(MARIA, status=142)

    # Sergey sees his group's deals (G): he is its supervisor until an admin says otherwise.
    assert people(router().route(alert(AlertKind.DEAL_WON, won))) == {SUPERVISOR.id}
    chosen = AlertSettings(supervisors={SALES_A: (BLIND.id, ADMIN.id)})
    # An admin made the rights-less user a supervisor: still, D sees no deal.
    assert people(router(settings=chosen).route(alert(AlertKind.DEAL_WON, won))) == {ADMIN.id}


@pytest.mark.parametrize(
    ("viewer", "owner", "sees"),
    [(ADMIN, OLEG, True), (SUPERVISOR, MARIA, True), (SUPERVISOR, OLEG, False),
     (IVAN, IVAN, True), (IVAN, MARIA, False), (BLIND, BLIND, False)],
)  # fmt: skip
def test_leads_view_rights_decide_who_gets_a_deal(viewer: User, owner: User, sees: bool) -> None:
    everyone = Subscription(id="s1", kind=AlertKind.DEAL_CREATED,
                            target=Target(kind="user", id=str(viewer.id)))  # fmt: skip

    got = router(everyone).route(alert(AlertKind.DEAL_CREATED, deal(owner)))

    assert people(got) == ({viewer.id} if sees else set())


def test_filters_narrow_what_a_subscription_matches() -> None:
    big_in_negotiation = Subscription(
        id="s1", kind=AlertKind.DEAL_STATUS, target=Target(kind="user", id=str(ADMIN.id)),
        filters=Filters(pipeline_ids=(100,), status_ids=(30,), price_min=500_000,
                        group_ids=(SALES_A,), tags=("VIP",)),
    )  # fmt: skip
    r = router(big_in_negotiation)
    fits = deal(IVAN, status=30, price=600_000, tags=("vip", "q4"))

    assert people(r.route(alert(AlertKind.DEAL_STATUS, fits))) == {ADMIN.id}
    for miss in (
        fits.model_copy(update={"status_id": 31}),
        fits.model_copy(update={"price": 400_000}),
        fits.model_copy(update={"pipeline_id": 101}),
        fits.model_copy(update={"tags": ()}),
        fits.model_copy(update={"responsible_user_id": OLEG.id}),  # Sales B
    ):
        assert r.route(alert(AlertKind.DEAL_STATUS, miss)) == []


def test_a_shared_chat_gets_the_alert_once_with_the_chosen_fields_and_a_person_once() -> None:
    channel = Target(kind="slack_channel", id="C1")
    r = router(
        Subscription(id="s1", kind=AlertKind.DEAL_WON, target=channel),
        Subscription(id="s2", kind=AlertKind.DEAL_WON, target=channel, fields=("name", "price")),
        Subscription(id="s3", kind=AlertKind.DEAL_WON, target=Target(kind="responsible")),
        Subscription(id="s4", kind=AlertKind.DEAL_WON, target=Target(kind="group", id="1")),
    )

    got = r.route(alert(AlertKind.DEAL_WON, deal(IVAN, status=142)))

    shared = [x for x in got if x.shared is not None]
    assert [(x.shared, x.fields) for x in shared] == [(channel, ("name", "status", "responsible"))]
    # Ivan once (responsible, and in the group); the admin and the supervisor see it; Maria
    # (own deals only) and the blind user do not.
    assert sorted(x.amo_user_id for x in got if x.amo_user_id) == [
        ADMIN.id,
        SUPERVISOR.id,
        IVAN.id,
    ]


def test_a_won_deal_is_a_status_change_too_and_a_big_new_deal_is_big() -> None:
    won = CrmEvent(key="deal:77:5:deal_status_changed", kind=CrmEventKind.DEAL_STATUS_CHANGED,
                   entity_kind="deal", entity_id=77, version=5, occurred_at=0,
                   deal=deal(IVAN, status=142))  # fmt: skip
    created = won.model_copy(update={"kind": CrmEventKind.DEAL_CREATED,
                                     "deal": deal(IVAN, price=900_000)})  # fmt: skip

    assert [a.kind for a in alerts_from(won, big_deal_price=None)] == [
        AlertKind.DEAL_STATUS,
        AlertKind.DEAL_WON,
    ]
    assert [a.kind for a in alerts_from(created, big_deal_price=500_000)] == [
        AlertKind.DEAL_CREATED,
        AlertKind.BIG_DEAL,
    ]


def test_a_deal_nobody_took_yet_is_shown_to_everyone_who_sees_deals() -> None:
    to_group = Subscription(id="s1", kind=AlertKind.DEAL_CREATED,
                            target=Target(kind="group", id=str(SALES_A)))  # fmt: skip
    r = Router([to_group], USERS, AlertSettings(), unassigned_user_id=ADMIN.id)

    got = r.route(alert(AlertKind.DEAL_CREATED, deal(ADMIN)))

    # Ivan and Maria see only their own deals, but this one is nobody's yet; the blind never.
    assert people(got) == {ADMIN.id, SUPERVISOR.id, IVAN.id, MARIA.id}
