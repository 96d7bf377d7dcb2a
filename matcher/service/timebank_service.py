"""TimeBankService: balances, statements, branch summaries and redemptions (时间银行).

validate -> convert (``matcher.service.convert.timebank``) -> ``TimeBank`` -> convert. A redemption
larger than the balance is FAILED_PRECONDITION; an unknown volunteer NOT_FOUND.
"""

from __future__ import annotations

import grpc

from matcher.access import policy
from matcher.access.principal import current
from matcher.orders.timebank import TimeBank
from matcher.service.convert.orders import check_id
from matcher.service.convert.timebank import (
    balance_to_proto,
    branch_id_of,
    figures_to_proto,
    redemption_to_domain,
    statement_page,
    statement_to_proto,
)
from matcher.v1 import timebank_pb2, timebank_pb2_grpc


class TimeBankServicer(timebank_pb2_grpc.TimeBankServiceServicer):
    """TimeBankService over a ``TimeBank``."""

    def __init__(self, bank: TimeBank) -> None:
        self._bank = bank

    def GetBalance(  # noqa: N802 (the rpc's name)
        self, request: timebank_pb2.GetBalanceRequest, context: grpc.ServicerContext
    ) -> timebank_pb2.GetBalanceResponse:
        check_id(request.volunteer_id, "volunteer_id")
        policy.check_volunteer(current(), request.volunteer_id)
        return balance_to_proto(self._bank.balance(request.volunteer_id))

    def GetStatement(  # noqa: N802
        self, request: timebank_pb2.GetStatementRequest, context: grpc.ServicerContext
    ) -> timebank_pb2.GetStatementResponse:
        offset, size = statement_page(request)
        policy.check_volunteer(current(), request.volunteer_id)
        entries, total = self._bank.statement(request.volunteer_id, offset, size)
        balance = self._bank.balance(request.volunteer_id)
        return statement_to_proto(entries, offset, total, balance.minutes)

    def GetBranchSummary(  # noqa: N802
        self, request: timebank_pb2.GetBranchSummaryRequest, context: grpc.ServicerContext
    ) -> timebank_pb2.GetBranchSummaryResponse:
        branch_id = branch_id_of(request)
        summary = self._bank.summary(branch_id, head=branch_id == "")
        return timebank_pb2.GetBranchSummaryResponse(
            total=figures_to_proto(summary.total),
            branches=[figures_to_proto(f) for f in summary.branches],
        )

    def RedeemHours(  # noqa: N802
        self, request: timebank_pb2.RedeemHoursRequest, context: grpc.ServicerContext
    ) -> timebank_pb2.RedeemHoursResponse:
        wanted = redemption_to_domain(request)
        posted, balance = self._bank.redeem(
            wanted.volunteer_id,
            wanted.minutes,
            wanted.branch_id,
            wanted.reason,
            wanted.idempotency_key,
        )
        return timebank_pb2.RedeemHoursResponse(
            posted=posted, balance_minutes=balance.minutes, balance_hours=balance.minutes / 60
        )
