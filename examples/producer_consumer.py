"""A producer and a consumer sharing a bounded buffer through a Condition: always correct.

The consumer waits while the buffer is empty and the producer while it is full, each in a
`while` loop around `wait()`, so a wake-up that finds nothing to do waits again. The consumer
adds up what it takes: 1 + 2 + ... + 10,000 = 50005000, every run.

    racedemo exec --correct 50005000 -- python3 examples/producer_consumer.py
"""

import threading

ITEMS = 10_000
CAPACITY = 4
buffer = []
ready = threading.Condition()
total = 0


def producer():
    for item in range(1, ITEMS + 1):
        with ready:
            while len(buffer) == CAPACITY:
                ready.wait()
            buffer.append(item)
            ready.notify_all()


def consumer():
    global total
    for _ in range(ITEMS):
        with ready:
            while not buffer:
                ready.wait()
            total += buffer.pop(0)
            ready.notify_all()


threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(total)
