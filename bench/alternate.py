"""Two builds of datasette-rs on the same files, alternating, for a change's cost.

    python3 bench/alternate.py OLD_BINARY NEW_BINARY [--duration SECONDS] [--rounds N]
                               [--old-args "ARGS"] [--new-args "ARGS"] [--only SUBSTRING]

Serves bench/work/items.db (made by bench/fixture.py if missing) with each binary in turn and
drives the ordinary pages with `wrk -t2 -c16` for DURATION seconds, ROUNDS times, old then new
then old…, so that a machine slower in one minute than the next weighs on both alike. Prints
each scenario's req/s for every round and the ratio of the new build's median to the old's.
`--new-args "--template-dir DIR"` (or `--old-args`) adds options to one side's command line:
the same binary twice then measures what an option costs.
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")

SCENARIOS = [
    ("table JSON", "/items/items.json", {}),
    ("table HTML", "/items/items", {}),
    ("arbitrary SQL", "/items.json?sql=select+count(*)+from+items+where+category+%3D+%27cat-03%27", {}),
    ("row JSON", "/items/items/12345.json", {}),
    ("/-/actor.json", "/-/actor.json", {}),
    ("table JSON, If-None-Match", "/items/items.json", {"If-None-Match": "ETAG"}),
]


def serve(binary, port, extra=()):
    db = os.path.join(WORK, "items.db")
    if not os.path.exists(db):
        os.makedirs(WORK, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "fixture.py"), db, "100000"], check=True)
    proc = subprocess.Popen(
        [binary, "serve", db, "-p", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, RUST_LOG="warn"),
    )
    for _ in range(3000):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1):
                return proc
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise SystemExit(f"{binary} did not start")


def wrk(port, path, headers, duration):
    if headers.get("If-None-Match") == "ETAG":
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
            headers = dict(headers, **{"If-None-Match": r.headers["ETag"]})
    cmd = ["wrk", "-t2", "-c16", f"-d{duration}s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--old-args", default="")
    p.add_argument("--new-args", default="")
    p.add_argument("--only", default="", help="only the scenarios whose name contains this")
    a = p.parse_args()
    scenarios = [s for s in SCENARIOS if a.only in s[0]]
    results = {(name, which): [] for name, _, _ in scenarios for which in ("old", "new")}
    sides = (("old", a.old, 8301, a.old_args), ("new", a.new, 8302, a.new_args))
    for _ in range(a.rounds):
        for which, binary, port, extra in sides:
            proc = serve(binary, port, shlex.split(extra))
            try:
                for name, path, headers in scenarios:
                    results[(name, which)].append(wrk(port, path, headers, a.duration))
            finally:
                proc.terminate()
                proc.wait()
    print("| scenario | old req/s | new req/s | new/old (medians) |")
    print("| --- | ---: | ---: | ---: |")
    for name, _, _ in scenarios:
        old, new = results[(name, "old")], results[(name, "new")]
        ratio = statistics.median(new) / statistics.median(old)
        fmt = lambda xs: " / ".join(f"{x:,.0f}" for x in xs)
        print(f"| {name} | {fmt(old)} | {fmt(new)} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
