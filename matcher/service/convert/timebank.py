"""The time bank's messages <-> ``matcher.orders`` ledger types, validated."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.orders.model import BranchFigures, LedgerEntry
from matcher.orders.timebank import Balance
from matcher.service.convert.checks import MAX_ID_CHARS, Violations, group_id_problem
from matcher.service.convert.match_out import timestamp_fields
from matcher.service.convert.orders import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MAX_REASON_CHARS,
    check_id,
    decode_page_token,
    encode_page_token,
    hours_to_minutes,
)
from matcher.v1 import timebank_pb2

MAX_REDEEM_HOURS = 1000.0


@dataclass(frozen=True)
class Redemption:
    """A validated RedeemHours."""

    volunteer_id: str
    minutes: int
    reason: str
    branch_id: str
    idempotency_key: str


def redemption_to_domain(msg: timebank_pb2.RedeemHoursRequest) -> Redemption:
    check_id(msg.volunteer_id, "volunteer_id")
    minutes = hours_to_minutes(msg.hours, "hours", MAX_REDEEM_HOURS)
    found = Violations()
    if not msg.reason.strip():
        found.add("reason", "must not be empty")
    elif len(msg.reason) > MAX_REASON_CHARS or not msg.reason.isprintable():
        found.add("reason", f"must be printable and at most {MAX_REASON_CHARS} characters")
    problem = group_id_problem(msg.branch_id)
    if problem:
        found.add("branch_id", problem)
    if len(msg.idempotency_key) > MAX_ID_CHARS:
        found.add("idempotency_key", f"must be at most {MAX_ID_CHARS} characters")
    found.raise_if_any()
    return Redemption(msg.volunteer_id, minutes, msg.reason, msg.branch_id, msg.idempotency_key)


def statement_page(msg: timebank_pb2.GetStatementRequest) -> tuple[int, int]:
    """(offset, page size) of a GetStatement."""
    check_id(msg.volunteer_id, "volunteer_id")
    found = Violations()
    offset = decode_page_token(msg.page_token, found)
    found.raise_if_any()
    return offset, min(msg.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def branch_id_of(msg: timebank_pb2.GetBranchSummaryRequest) -> str:
    problem = group_id_problem(msg.branch_id)
    if problem:
        found = Violations()
        found.add("branch_id", problem)
        found.raise_if_any()
    return msg.branch_id


def statement_to_proto(
    entries: list[LedgerEntry], offset: int, total: int, balance_minutes: int
) -> timebank_pb2.GetStatementResponse:
    end = offset + len(entries)
    return timebank_pb2.GetStatementResponse(
        entries=[entry_to_proto(e) for e in entries],
        next_page_token=encode_page_token(end) if end < total else "",
        total_size=total,
        balance_minutes=balance_minutes,
    )


def entry_to_proto(entry: LedgerEntry) -> timebank_pb2.LedgerEntry:
    return timebank_pb2.LedgerEntry(
        sequence=entry.sequence,
        transaction_id=entry.txn_id,
        kind=f"LEDGER_ENTRY_KIND_{entry.kind.name}",
        account=entry.account,
        minutes=entry.minutes,
        hours=entry.minutes / 60,
        branch_id=entry.branch_id,
        order_id=entry.order_id,
        reason=entry.reason,
        time=timestamp_fields(entry.at_ms),
    )


def figures_to_proto(figures: BranchFigures) -> timebank_pb2.BranchFigures:
    return timebank_pb2.BranchFigures(
        branch_id=figures.branch_id,
        earned_minutes=figures.earned_minutes,
        redeemed_minutes=figures.redeemed_minutes,
        outstanding_minutes=figures.outstanding_minutes,
        outstanding_hours=figures.outstanding_minutes / 60,
        completed_orders=figures.completed_orders,
    )


def balance_to_proto(balance: Balance) -> timebank_pb2.GetBalanceResponse:
    return timebank_pb2.GetBalanceResponse(
        volunteer_id=balance.volunteer_id,
        balance_minutes=balance.minutes,
        balance_hours=balance.minutes / 60,
        earned_minutes=balance.earned_minutes,
        redeemed_minutes=balance.redeemed_minutes,
    )
