"""Pure rules of pagemill: ids, statuses and transitions, pipelines, page ranges, rates.

Nothing here performs I/O or imports a framework; every other layer may import it.
"""
