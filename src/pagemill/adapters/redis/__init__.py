"""The live store on Redis for the scale-out mode (hash + capped stream per execution)."""

from pagemill.adapters.redis.live import RedisLiveStore

__all__ = ["RedisLiveStore"]
