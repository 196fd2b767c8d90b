"""Tornado's own Queue doing the work of `crates/queues/benches/queues.rs`.

`put_get/<bound>/<n>_producers`: n producer coroutines put their share of the items, one
consumer (the measuring coroutine) gets them all; time per item, from starting the producers
to the last item received. Each case runs ROUNDS times; the median is printed.

Run with the Tornado 6.6.1 to compare with:

    python benches/tornado_queue.py

Results: docs/BENCHMARKS.md.
"""

import asyncio
import statistics
import sys
import time

import tornado
from tornado.ioloop import IOLoop
from tornado.queues import Queue

ITEMS = 200_000
ROUNDS = 7


async def put_get(maxsize: int, producers: int, per_producer: int) -> float:
    q: Queue[int] = Queue(maxsize=maxsize)

    async def producer(p: int) -> None:
        for i in range(per_producer):
            await q.put(p * per_producer + i)

    start = time.perf_counter()
    tasks = [asyncio.ensure_future(producer(p)) for p in range(producers)]
    for _ in range(producers * per_producer):
        await q.get()
    elapsed = time.perf_counter() - start
    await asyncio.gather(*tasks)
    return elapsed


async def main() -> None:
    print(f"tornado {tornado.version}, python {sys.version.split()[0]}, {ITEMS} items")
    for bound_name, maxsize in (("unbounded", 0), ("maxsize_100", 100)):
        for producers in (1, 16):
            per = -(-ITEMS // producers)
            times = [await put_get(maxsize, producers, per) for _ in range(ROUNDS)]
            ns = statistics.median(times) / (per * producers) * 1e9
            print(f"put_get/{bound_name}/{producers}_producers/tornado-python  {ns:8.1f} ns/item")


if __name__ == "__main__":
    IOLoop.current().run_sync(main)
