"""Events/s routed (alerts derived, matched against every subscription of their kind, recipients
expanded and checked against amoCRM rights) with 1,000 subscriptions and 500 users, next to the
same run with 10 subscriptions: the ratio is how routing cost grows with the subscriptions.

    python bench/routing.py [--quick]

Deterministic data (a fixed seed): 500 users in 25 groups with mixed rights, subscriptions of
every kind with mixed filters and targets, deal and task events. The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from bot.alerts import (
    DEFAULTS,
    AlertKind,
    AlertSettings,
    Filters,
    Router,
    Subscription,
    Target,
    alerts_from,
)
from bot.core import CrmEvent, CrmEventKind, Deal, Right, Rights, Task, User

SEED = 20261124
USERS = 500
GROUPS = 25
PIPELINES = (10, 20, 30)
STATUSES = (101, 102, 103, 104, 142, 143)
# What events make: a report subscription is sent on a schedule, never routed.
ALERT_KINDS = [k for k in AlertKind if k is not AlertKind.REPORT]
DEAL_KINDS = [k for k in ALERT_KINDS if k.about_deal]


def users(rng: random.Random) -> list[User]:
    rights = (Right.ALL, Right.GROUP, Right.OWN, Right.OWN, Right.OWN, Right.DENIED)
    return [
        User(id=n, name=f"User {n}", group_id=n % GROUPS,
             rights=Rights(leads_view=rng.choice(rights), is_admin=n < 3))
        for n in range(1, USERS + 1)
    ]  # fmt: skip


def subscriptions(rng: random.Random, count: int) -> list[Subscription]:
    made = list(DEFAULTS)
    while len(made) < count:
        kind = rng.choice(ALERT_KINDS)
        filters = Filters(
            pipeline_ids=(rng.choice(PIPELINES),) if rng.random() < 0.5 else (),
            status_ids=tuple(rng.sample(STATUSES, 2)) if rng.random() < 0.3 else (),
            price_min=rng.choice((None, 100_000, 500_000)),
            group_ids=(rng.randrange(GROUPS),) if rng.random() < 0.4 else (),
        )
        target = rng.choice((
            Target(kind="responsible"), Target(kind="supervisors"),
            Target(kind="user", id=str(rng.randint(1, USERS))),
            Target(kind="group", id=str(rng.randrange(GROUPS))),
            Target(kind="slack_channel", id=f"C{rng.randrange(40)}"),
        ))  # fmt: skip
        made.append(Subscription(id=f"s{len(made)}", kind=kind, filters=filters, target=target))
    return made[:count]


def events(rng: random.Random, count: int) -> list[CrmEvent]:
    made = []
    for n in range(count):
        owner = rng.randint(1, USERS)
        deal = Deal(id=n, name=f"Deal {n}", price=rng.randrange(0, 1_000_000, 1000),
                    status_id=rng.choice(STATUSES), pipeline_id=rng.choice(PIPELINES),
                    responsible_user_id=owner)  # fmt: skip
        if n % 4 == 3:
            task = Task(id=n, responsible_user_id=owner, created_by=rng.randint(1, USERS),
                        complete_till=0, entity_type="leads", entity_id=n)  # fmt: skip
            made.append(CrmEvent(key=f"task:{n}", kind=CrmEventKind.TASK_CREATED,
                                 entity_kind="task", entity_id=n, version=1, occurred_at=0,
                                 actor_id=task.created_by, task=task))  # fmt: skip
            continue
        kind = (CrmEventKind.DEAL_STATUS_CHANGED, CrmEventKind.DEAL_CREATED)[n % 2]
        made.append(CrmEvent(key=f"deal:{n}", kind=kind, entity_kind="deal", entity_id=n,
                             version=1, occurred_at=0, deal=deal,
                             actor_id=rng.randint(1, USERS)))  # fmt: skip
    return made


def measure(subs: int, count: int) -> tuple[float, float]:
    """(events routed per second, recipients per event) for ``subs`` subscriptions."""
    rng = random.Random(SEED)
    people = users(rng)
    router = Router(subscriptions(rng, subs), people, AlertSettings())
    stream = events(random.Random(SEED + 1), count)
    delivered = 0
    started = time.perf_counter()
    for event in stream:
        for alert in alerts_from(event, big_deal_price=500_000):
            delivered += len(router.route(alert))
    seconds = time.perf_counter() - started
    return count / seconds, delivered / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5,000 events per run")
    args = parser.parse_args()
    count = 5_000 if args.quick else 50_000
    few_rate, few_fanout = measure(10, count)
    many_rate, many_fanout = measure(1000, count)
    print(f"10 subscriptions:    {few_rate:10.0f} events/s, {few_fanout:.2f} recipients/event")
    print(f"1,000 subscriptions: {many_rate:10.0f} events/s, {many_fanout:.2f} recipients/event")
    print(json.dumps({
        "events": count, "users": USERS, "events_per_s_10_subs": round(few_rate),
        "events_per_s_1000_subs": round(many_rate),
        "recipients_per_event_10": round(few_fanout, 2),
        "recipients_per_event_1000": round(many_fanout, 2),
        "ratio": round(many_rate / few_rate, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
