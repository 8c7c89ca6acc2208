//! The examples and the exit-status table every command's `--help` ends with: the first
//! thing people read, kept apart from the flag definitions.

pub(super) const EXIT_STATUS: &str = "\
Exit status:
    0  ran, and every expectation held
    1  an expectation failed (locked/atomic lost an update, or --expect was not met)
    2  invalid input: a bad flag value, store or path; nothing was run
    3  the run could not be carried out (a worker died or hung, a server could not be
       reached or died, the store failed, output failed): the report printed covers the
       trials that completed
  129  stopped by SIGHUP, 130 by SIGINT (Ctrl-C), 143 by SIGTERM: the report printed
       covers the trials that completed";

pub(super) const EXAMPLES: &str = "\
Examples:
  racedemo unsafe --threads 8          lost updates, every time
  racedemo unsafe --explain            one lost update, step by step
  racedemo locked                      the same workload under a Mutex: always correct
  racedemo compare --threads 8         unsafe, locked, atomic and optimistic, with their cost
  racedemo unsafe --store sqlite --processes 4   the same race between processes, in SQLite
  racedemo isolation --store postgres://localhost/test --store mysql://root@localhost/test
  racedemo sweep --threads 1..64       how the race and the cost change with the threads
  racedemo scenario list               other classic races, as files
  racedemo unsafe --format json | jq   one JSON document for scripts";

pub(super) const MAN_EXAMPLES: &str = "\
Examples:
  racedemo man | man -l -                      read it now
  racedemo man --dir ~/.local/share/man/man1   install every page for `man racedemo-unsafe`";

pub(super) const COMPLETION_EXAMPLES: &str = "\
Examples:
  racedemo completions bash > ~/.local/share/bash-completion/completions/racedemo
  racedemo completions zsh > ~/.zfunc/_racedemo      (with fpath+=~/.zfunc in .zshrc)
  racedemo completions fish > ~/.config/fish/completions/racedemo.fish
  racedemo completions powershell >> $PROFILE";

pub(super) const UNSAFE_EXAMPLES: &str = "\
Examples:
  racedemo unsafe --threads 8                  lost updates, every time
  racedemo unsafe --explain                    and one of them, step by step
  racedemo unsafe --yield                      lose updates even on one CPU
  racedemo unsafe -t 2 -i 1 --duration 10s     millions of one-increment trials
  racedemo unsafe --expect race                in CI: exit 1 unless a race shows (within 10s)
  racedemo unsafe --store sqlite --processes 4 SELECT then UPDATE, from 4 processes
  racedemo unsafe --store postgres://localhost/test --processes 8   the same on PostgreSQL
  racedemo unsafe --format json | jq '.results[0].summary'";

pub(super) const OPTIMISTIC_EXAMPLES: &str = "\
Examples:
  racedemo optimistic                          compare_exchange retried, in memory
  racedemo optimistic --store sqlite --processes 4   UPDATE ... WHERE v = <read>, retried
  racedemo compare --strategies atomic,optimistic    what the retries cost";

pub(super) const TRANSACTION_EXAMPLES: &str = "\
Examples:
  racedemo transaction --store sqlite --processes 4            SQLITE_BUSY, counted
  racedemo transaction --store sqlite --processes 4 --retry 50 retried until it commits
  racedemo transaction --store postgres://localhost/test --isolation repeatable-read
                                               0 lost, most transactions aborted (40001)
  racedemo transaction --store mysql://root@localhost/test --isolation repeatable-read
                                               updates silently lost, 0 errors
  racedemo transaction --store postgres://localhost/test --isolation serializable --retry 20";

pub(super) const LOCKED_EXAMPLES: &str = "\
Examples:
  racedemo locked --threads 8                  the same workload under a Mutex: never loses one
  racedemo locked --lock spin                  the same under a spin lock made from one atomic
  racedemo locked --explain                    two increments handing the counter on
  racedemo locked --format markdown >> \"$GITHUB_STEP_SUMMARY\"   a table in a CI summary";

pub(super) const ATOMIC_EXAMPLES: &str = "\
Examples:
  racedemo atomic --threads 8                  fetch_add: correct and lock-free
  racedemo atomic --explain                    two increments handing the counter on
  racedemo atomic --iterations 10_000_000 -n 5 what correctness costs per increment";

pub(super) const COMPARE_EXAMPLES: &str = "\
Examples:
  racedemo compare --threads 8                 every strategy, with the cost of correctness
  racedemo compare --strategies unsafe,atomic  just these two
  racedemo compare --strategies locked:mutex,locked:rwlock,locked:semaphore,locked:spin
                                               what each lock costs, measured the same way
  racedemo compare --store file --processes 4  a file: read+write, and the same under flock
  racedemo compare --store redis://127.0.0.1/  GET/SET, a lock key, INCR, WATCH/MULTI/EXEC
  racedemo compare --format csv > compare.csv  one row per strategy";

pub(super) const RUN_EXAMPLES: &str = "\
Examples:
  racedemo scenario run tickets-racy           outcomes with their grades
  racedemo scenario run store-buffering-relaxed --explain   why both reads can see 0
  racedemo scenario run counter-racy --python  and its Python program run 20 times, side by side
  racedemo scenario run ./my-race.toml -n 1000 a path works as well as a name
  racedemo scenario run scenarios/litmus/c/SB.litmus   a herdtools7 litmus test: each model's verdict
  racedemo scenario run bank-racy --format json   one JSON document";

pub(super) const CHECK_EXAMPLES: &str = "\
Examples:
  racedemo scenario check                      every scenario found by name
  racedemo scenario check scenarios/ --junit junit.xml   and a JUnit report for CI
  racedemo scenario check scenarios/litmus/c scenarios/litmus/x86   the litmus tests
  racedemo scenario check --format markdown    a table for a CI job summary
  racedemo scenario check --python=10          and how often each scenario's race shows in Python";

pub(super) const SCENARIO_EXAMPLES: &str = "\
Examples:
  racedemo scenario list                       every scenario racedemo can find by name
  racedemo scenario show tickets-racy          its explanation and program
  racedemo scenario run tickets-racy           outcomes with their grades
  racedemo scenario run ./my-race.toml         a path works as well as a name
  racedemo scenario check scenarios/           run all; exit 1 if one does not behave as its file expects";

pub(super) const SWEEP_EXAMPLES: &str = "\
Examples:
  racedemo sweep                                   --threads 1..16 (1, 2, 4, 8, 16), all strategies
  racedemo sweep --threads 1,2,4,8,16,32,64        the thread sweep of docs/PERFORMANCE.md
  racedemo sweep --iterations 10..1000000:x10      how long a trial must be for the race to show
  racedemo sweep --window 0..100:+20 --strategies unsafe --svg window.svg
  racedemo sweep --format csv > sweep.csv          one row per point and strategy";

pub(super) const ISOLATION_EXAMPLES: &str = "\
Examples:
  racedemo isolation --store postgres://localhost/test --store mysql://root@localhost/test
  racedemo isolation --store postgres://localhost/test --levels read-committed,serializable
  racedemo isolation --store mysql://root@localhost/test --format markdown   for a slide or an issue";

pub(super) const EXEC_EXAMPLES: &str = "\
Examples (from the repository's folder):
  racedemo exec -- python3 examples/counter_racy.py             the last line each run prints, 100 runs
  racedemo exec --correct 0 -- python3 examples/counter_racy.py how often it differs from 0
  racedemo exec --correct 0 -c 'python3 examples/counter_racy.py' -c 'python3 examples/counter_locked.py'
  racedemo exec --correct 10000 --vary switch-interval=0.005,1e-6 -- python3 examples/check_then_act.py
  racedemo exec --runs 10 --correct 800 -c examples/file_counter.sh   eight processes on one file
  racedemo exec --runs 500 --outcome 'total: (\\d+)' -- ./job.sh
  racedemo exec --outcome exit --correct 0 -- cargo test -q flaky_test";

pub(super) const WORKER_EXAMPLES: &str = "\
Examples:
  racedemo unsafe --store redis://db.internal/ --run demo --remote-workers 3   on one machine
  racedemo worker --store redis://db.internal/ --run demo                      on each of three others
  racedemo worker --store postgres://me@db.internal/test --run demo --wait 5m";
