"""The Redis cache (config/cache.py) keeps one client per connection pool and still behaves as Django's:
values, many values, counters, expiry and removal, from several threads."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.cache import caches

from tests.conftest import skip_or_fail


@pytest.fixture
def redis_cache():
    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set: the Redis cache is not configured")
    cache = caches["default"]
    assert type(cache).__name__ == "ReusingRedisCache"
    prefix = f"test-redis-cache-{threading.get_ident()}-"
    yield cache, prefix
    cache.delete_many([f"{prefix}{name}" for name in ("a", "b", "n", "gone", "thread-0", "thread-1", "thread-2")])


def test_one_client_serves_every_call(redis_cache):
    cache, _prefix = redis_cache
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share its pool


def test_the_cache_answers_as_djangos_does(redis_cache):
    cache, prefix = redis_cache
    cache.set(f"{prefix}a", {"user": [1, "x"]}, 30)
    cache.set_many({f"{prefix}b": 2}, 30)
    assert cache.get(f"{prefix}a") == {"user": [1, "x"]}
    assert cache.get_many([f"{prefix}a", f"{prefix}b", f"{prefix}missing"]) == {
        f"{prefix}a": {"user": [1, "x"]},
        f"{prefix}b": 2,
    }
    assert cache.add(f"{prefix}a", "other", 30) is False
    cache.set(f"{prefix}n", 1, 30)
    assert cache.incr(f"{prefix}n") == 2
    cache.set(f"{prefix}gone", 1, 30)
    cache.delete(f"{prefix}gone")
    assert cache.get(f"{prefix}gone") is None


def test_threads_share_nothing_they_should_not(redis_cache):
    _cache, prefix = redis_cache
    found: dict[int, object] = {}

    def work(number: int) -> None:
        cache = caches["default"]  # each thread's own handler, as in a threaded worker
        cache.set(f"{prefix}thread-{number}", number, 30)
        found[number] = cache.get(f"{prefix}thread-{number}")

    threads = [threading.Thread(target=work, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert found == {0: 0, 1: 1, 2: 2}
