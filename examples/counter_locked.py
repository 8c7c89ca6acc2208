"""The same counter as counter_racy.py, each read-and-write under one Lock: always 0.

`racedemo exec --correct 0 -c 'python3 examples/counter_racy.py' -c 'python3
examples/counter_locked.py'` shows the two side by side.
"""

import threading

ITERATIONS = 100_000
counter = 0
lock = threading.Lock()
start = threading.Barrier(2)


def moved(value, delta):
    return value + delta


def worker(delta):
    global counter
    start.wait()
    for _ in range(ITERATIONS):
        with lock:
            counter = moved(counter, delta)


threads = [threading.Thread(target=worker, args=(d,)) for d in (1, -1)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter)
