"""Chat platform adapters: each turns its platform's events into messages for the dispatcher
and delivers the outbox there. Only an adapter imports its platform's client library."""

from __future__ import annotations


class AdapterStartError(RuntimeError):
    """An adapter cannot start for a reason the admin must fix (e.g. a refused token).

    The message says what to do; the CLI shows it as it is, without knowing the platform's
    library or its exception types.
    """
