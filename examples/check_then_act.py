"""Check-then-act: four threads fill one cache, checking for a key before they compute it.

Each thread walks the same 10,000 keys: if a key is not in the cache yet (the check), it
computes the value and stores it (the act). Between one thread's check and its store, another
thread can check the same key, find it missing too, and compute it again: the work is done
twice, as a cache without a lock does in real programs (two connections opened, a file
downloaded twice). It prints how many times a value was computed; correct is 10000.
`racedemo exec --correct 10000 -- python3 examples/check_then_act.py` counts how often it
differs; `--switch-interval 1e-6` makes it far more common. check_then_act_locked.py is the
fix: the check and the act under one lock.
"""

import threading

KEYS = 10_000
THREADS = 4
cache = {}
computed = 0
count_lock = threading.Lock()
start = threading.Barrier(THREADS)


def compute(key):
    """The costly work. A call: where CPython can switch to another thread."""
    global computed
    with count_lock:  # the count itself loses nothing
        computed += 1
    return key * key


def worker():
    start.wait()  # every thread starts at once
    for key in range(KEYS):
        if key not in cache:  # check
            cache[key] = compute(key)  # act


threads = [threading.Thread(target=worker) for _ in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(computed)
