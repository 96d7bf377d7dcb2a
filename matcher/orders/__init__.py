"""The order lifecycle (群众点单、中心派单、志愿者接单、群众评单) and the time bank (时间银行).

=================== ==========================================================================
module              what it holds
=================== ==========================================================================
``model``           orders, offers, history, holds, ledger postings (no I/O)
``states``          the state machine as tables: allowed events per state, idempotent retries
``lifecycle``       the transitions: pure functions from an order and an event to the next
``commits``         read -> transition -> atomic commit, retried when another writer was first
``desk``            ``OrderDesk``: every order operation, with its side effects
``timebank``        posting rules (earn on completion, redeem) and the bank's figures
``registry_sync``   what an order does to the volunteer registry (availability, reputation)
``pool_cuts``       the pool minus held time, for a round
``rounds``          one dispatch round: pending orders -> solve -> atomic offers
``dispatcher``      rounds on a batch window and on demand, deadlines, start-up recovery
``offer_feed``      wakes the volunteers' offer streams
``observer``        the hook the desk and the dispatcher report to (metrics live elsewhere)
``store/``          the ``OrderStore`` port (``base``): ``memory``, ``redis`` (Lua in
                    ``scripts``), and ``json``, the stored form of orders and ledger entries
=================== ==========================================================================
"""
