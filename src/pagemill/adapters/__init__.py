"""Adapters: implementations of the ports on real technologies (SQL, memory, filesystem…).

Each subpackage implements ports and imports only ``pagemill.domain``, ``pagemill.ports`` and its
own third-party libraries; only the composition root (``pagemill.bootstrap``) imports them.
"""
