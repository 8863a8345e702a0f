"""asyncio with many tasks."""
import asyncio
import sys
import time


def work(x):
    return (x * 31) % 7


async def worker(i, k):
    v = 0
    for j in range(k):
        v += work(i + j)
        await asyncio.sleep(0)
    return v


async def amain(scale):
    res = await asyncio.gather(*(worker(i, 20) for i in range(1000 * scale)))
    return sum(res)


t = time.perf_counter()
asyncio.run(amain(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
print("PG_ELAPSED", time.perf_counter() - t)
