"""Redis for the scale-out mode: the live store (hash + capped stream per execution) and the
limits every API replica shares."""

from pagemill.adapters.redis.limits import RedisLimitStore
from pagemill.adapters.redis.live import RedisLiveStore

__all__ = ["RedisLimitStore", "RedisLiveStore"]
