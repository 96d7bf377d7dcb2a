"""Greedy on arrival, the centre's method: each order goes at once to the nearest feasible free
volunteers; an order that cannot be filled waits and is retried whenever someone it could use
frees up (an answer, the end of a job, the start of a shift), until its deadline.

The notion is ``matcher.core.greedy``'s: orders are taken urgent first, then difficult, then
routine (``TIER_RANK``), then by arrival; a volunteer is feasible under the same hard
constraints (``world.reach``), is free (no open offer, no job) and on a shift that holds the
whole job starting now. An offer holds the volunteer until they answer or it expires
(``world.OFFER_TTL_S``); a volunteer is never offered the same order twice.
"""

from __future__ import annotations

from functools import partial

from benchmarks.day.world import (
    OFFER_TTL_S,
    Agenda,
    Answer,
    Day,
    Outcome,
    Reach,
    Trip,
    busy_s,
    reach,
    set_off,
    shifts,
)
from matcher.core.greedy import TIER_RANK
from matcher.core.model import Urgency


class GreedyDay:
    """The event loop of greedy on arrival over one day."""

    def __init__(self, day: Day, pairs: Reach | None = None) -> None:
        self.day = day
        self.pairs = pairs if pairs is not None else reach(day)
        self.agenda = Agenda(float(day.opens))
        self.shifts = shifts(day.pool)
        self.busy_until = [0] * len(day.pool)
        self.held = [False] * len(day.pool)
        self.open = day.needs.slots.astype(int).tolist()  # slots with no offer, no trip
        self.filled = [0] * len(day)
        self.tried: list[set[int]] = [set() for _ in range(len(day))]
        self.waiting: set[int] = set()
        self.outcome = Outcome("greedy")
        self.offers = 0
        self.users: list[list[int]] = [[] for _ in range(len(day.pool))]
        for o, v in zip(self.pairs.order.tolist(), self.pairs.volunteer.tolist(), strict=True):
            self.users[v].append(o)
        rank = [TIER_RANK[Urgency(int(u))] for u in day.needs.urgency.tolist()]
        self.priority = [(rank[o], int(day.arrival[o]), o) for o in range(len(day))]

    def run(self) -> Outcome:
        day = self.day
        for o in range(len(day)):
            self.agenda.at(float(day.arrival[o]), partial(self._arrive, o))
            self.agenda.at(float(day.deadline[o]) + 0.5, partial(self.waiting.discard, o))
        for v, spans in enumerate(self.shifts):
            for start, _ in spans:
                self.agenda.at(float(start), partial(self._freed, v))
        self.agenda.run()
        self.outcome.notes["offers"] = self.offers
        return self.outcome

    def _arrive(self, o: int) -> None:
        self.waiting.add(o)
        self._dispatch([o])

    def _freed(self, v: int) -> None:
        self._dispatch([o for o in self.users[v] if o in self.waiting])

    def _dispatch(self, orders: list[int]) -> None:
        """Each of ``orders`` still waiting, by priority, takes its nearest free volunteers."""
        for o in sorted(orders, key=lambda o: self.priority[o]):
            if o in self.waiting:
                self._fill(o)

    def _fill(self, o: int) -> None:
        now = int(self.agenda.now)
        deadline = int(self.day.deadline[o])
        for row in self.pairs.rows(o):
            if self.open[o] == 0:
                return
            v = int(self.pairs.volunteer[row])
            if self.held[v] or self.busy_until[v] > now or v in self.tried[o]:
                continue
            job = busy_s(self.day, o, float(self.pairs.km[row]))
            if set_off(self.shifts[v], now, deadline, job) != now:
                continue
            self._offer(o, v, row)

    def _offer(self, o: int, v: int, row: int) -> None:
        self.held[v] = True
        self.tried[o].add(v)
        self.open[o] -= 1
        self.offers += 1
        answer = Answer(int(self.pairs.answer[row]))
        if answer is Answer.IGNORE:
            self.agenda.at(self.agenda.now + OFFER_TTL_S, partial(self._answered, o, v, row, False))
        else:
            later = self.agenda.now + int(self.pairs.delay_s[row])
            self.agenda.at(later, partial(self._answered, o, v, row, answer is Answer.ACCEPT))

    def _answered(self, o: int, v: int, row: int, accept: bool) -> None:
        """The volunteer's answer (or the offer's expiry): a trip, or the slot back."""
        self.held[v] = False
        now = int(self.agenda.now)
        km = float(self.pairs.km[row])
        job = busy_s(self.day, o, km)
        if accept and set_off(self.shifts[v], now, int(self.day.deadline[o]), job) == now:
            self.outcome.trips.append(Trip(o, v, now, now, km, job))
            self.busy_until[v] = now + job
            self.agenda.at(float(now + job), partial(self._freed, v))
            self.filled[o] += 1
            if self.filled[o] == int(self.day.needs.slots[o]):
                self.waiting.discard(o)
        else:
            self.open[o] += 1
        self._dispatch([o, *(u for u in self.users[v] if u in self.waiting and u != o)])


def run_greedy(day: Day, pairs: Reach | None = None) -> Outcome:
    """Greedy on arrival over ``day``."""
    return GreedyDay(day, pairs).run()
