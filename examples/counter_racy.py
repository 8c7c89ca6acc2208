"""A shared counter: one thread adds 1 to it, one subtracts 1, 100,000 times each, no lock.

The read and the write are two steps with a call between them, as in most real code. CPython
switches threads only at calls and loop back edges, so the call is where the other thread can
run between this thread's read and its write: its update is then overwritten, and the counter
ends away from 0. `racedemo exec --correct 0 -- python3 examples/counter_racy.py` counts how
often; `--switch-interval 1e-6` makes the switches, and so the lost updates, far more common.
"""

import threading

ITERATIONS = 100_000
counter = 0
start = threading.Barrier(2)


def moved(value, delta):
    return value + delta


def worker(delta):
    global counter
    start.wait()  # both threads start together, as racedemo's own do
    for _ in range(ITERATIONS):
        counter = moved(counter, delta)


threads = [threading.Thread(target=worker, args=(d,)) for d in (1, -1)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter)
