"""Django's Redis cache with one client per connection pool, instead of a new `redis.Redis` per call.

Django's `RedisCacheClient.get_client` builds a `redis.Redis` around the pool for every cache call; at
one call per API request (the token's kept look-up, accounts/auth.py) building it was about a tenth of
a list request's CPU (bench/README.md, figure 3). A `redis.Redis` holds no connection of its own (each
command takes one from the pool and gives it back) and is safe to share between threads, so one per
pool is kept. Everything else — pools, serialisation, every cache method — is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusingRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with ReusingRedisCacheClient."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
