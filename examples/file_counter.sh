#!/bin/sh
# Eight processes each add 1 to a number in a file 100 times: read it, add one, write it back,
# as a cron job does. Nothing stops another process from writing between one's read and its
# write, so increments are lost and the file ends below 800 (a read that meets a write half
# done even starts again from nothing). Prints the final number.
#
#   racedemo exec --runs 10 --correct 800 -- examples/file_counter.sh
#   racedemo exec --runs 10 --correct 800 -c examples/file_counter.sh -c examples/file_counter_locked.sh
f=$(mktemp)
echo 0 > "$f"
for p in 1 2 3 4 5 6 7 8; do
  (
    for i in $(seq 100); do
      n=$(cat "$f")
      echo $((n + 1)) > "$f"
    done
  ) &
done
wait
cat "$f"
rm -f "$f"
