"""check_then_act.py, fixed: the check and the act under one lock, so no thread can check a
key between another's check and its store. Every value is computed once: it always prints
10000.
"""

import threading

KEYS = 10_000
THREADS = 4
cache = {}
computed = 0
cache_lock = threading.Lock()
start = threading.Barrier(THREADS)


def compute(key):
    """The costly work. A call: where CPython can switch to another thread."""
    global computed
    computed += 1  # under cache_lock, held by the caller
    return key * key


def worker():
    start.wait()  # every thread starts at once
    for key in range(KEYS):
        with cache_lock:  # check and act as one step
            if key not in cache:
                cache[key] = compute(key)


threads = [threading.Thread(target=worker) for _ in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(computed)
