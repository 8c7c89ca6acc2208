#!/bin/sh
# file_counter.sh with each read-and-write under flock(1) on the file: always 800.
f=$(mktemp)
echo 0 > "$f"
for p in 1 2 3 4 5 6 7 8; do
  (
    for i in $(seq 100); do
      flock "$f" sh -c 'n=$(cat "$1"); echo $((n + 1)) > "$1"' sh "$f"
    done
  ) &
done
wait
cat "$f"
rm -f "$f"
