"""Every state change of the forum.

An action validates (`check_*`, through `forum.domain`), then writes in one transaction
(`forum.db.engine.write_transaction`), then publishes its event after commit: what is
published has been committed, and a refusal writes and publishes nothing.
"""
