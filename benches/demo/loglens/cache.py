"""A small least-recently-used cache and a memoising decorator on top.

Built on dict's insertion order: a hit moves the key to the end, and the
oldest entry (the first key) is evicted when the cache is full.  Not
thread-safe; loglens is single-threaded.
"""


class LRUCache:
    def __init__(self, capacity=256):
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.data = {}
        self.hits = 0
        self.misses = 0

    def get(self, key, default=None):
        data = self.data
        if key in data:
            value = data.pop(key)
            data[key] = value
            self.hits += 1
            return value
        self.misses += 1
        return default

    def put(self, key, value):
        data = self.data
        if key in data:
            del data[key]
        elif len(data) >= self.capacity:
            del data[next(iter(data))]
        data[key] = value

    def __len__(self):
        return len(self.data)


_MISSING = object()


def memoize(capacity=256):
    """Decorator: cache a one-argument function's results in an LRUCache."""

    def wrap(func):
        cache = LRUCache(capacity)

        def cached(arg):
            value = cache.get(arg, _MISSING)
            if value is _MISSING:
                value = func(arg)
                cache.put(arg, value)
            return value

        cached.cache = cache
        cached.__name__ = func.__name__
        cached.__qualname__ = func.__qualname__
        cached.__doc__ = func.__doc__
        cached.__wrapped__ = func
        return cached

    return wrap
