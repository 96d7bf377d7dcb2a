"""The order lifecycle (群众点单、中心派单、志愿者接单、群众评单) and the time bank (时间银行).

=================== ==========================================================================
module              what it holds
=================== ==========================================================================
``model``           orders, offers, history, holds, ledger postings (no I/O)
``lifecycle``       the state machine: pure transitions, the allowed-transition table
``store``           the ``OrderStore`` protocol: atomic order writes with holds and postings
``memory``          ``MemoryOrderStore``, the embedded default
``redis_store``     ``RedisOrderStore`` (``redis_scripts``: its Lua), shared by processes
``codec``           orders and ledger entries as JSON
``timebank``        posting rules (earn on completion, redeem) and the bank's figures
``desk``            ``OrderDesk``: every order operation (read, transition, commit, retry)
``registry_sync``   what an order does to the volunteer registry (availability, reputation)
``pool_cuts``       the pool minus held time, for a round
``rounds``          one dispatch round: pending orders -> solve -> atomic offers
``dispatcher``      rounds on a batch window and on demand, deadlines, start-up recovery
``offer_feed``      wakes the volunteers' offer streams
=================== ==========================================================================
"""
