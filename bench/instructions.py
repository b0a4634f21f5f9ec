"""Instructions per request of two builds, counted by callgrind: repeatable whatever else the
machine is doing, so small differences between builds show where wrk's noise hides them.

    python3 bench/instructions.py OLD_BINARY NEW_BINARY [--requests N]

Serves bench/work/items.db (bench/fixture.py makes it) under `valgrind --tool=callgrind`,
sends N requests of each scenario one after another, and subtracts a run that sends none.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DB = os.path.join(ROOT, "bench", "work", "items.db")

SCENARIOS = [
    ("table JSON", "/items/items.json"),
    ("table HTML", "/items/items"),
    ("arbitrary SQL", "/items.json?sql=select+count(*)+from+items+where+category+%3D+%27cat-03%27"),
    ("row JSON", "/items/items/12345.json"),
    ("/-/actor.json", "/-/actor.json"),
]


def instructions(binary, path, requests, port):
    out = tempfile.mktemp(prefix="callgrind.")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "serve", DB, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, RUST_LOG="warn"),
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health", timeout=5).read()
            break
        except OSError:
            time.sleep(0.1)
    # Warm: connections, schema, counts and caches, as under load.
    for _ in range(3):
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
    for _ in range(requests):
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    text = open(out).read()
    os.unlink(out)
    return int(re.search(r"^summary:\s+(\d+)", text, re.M).group(1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--requests", type=int, default=200)
    a = p.parse_args()
    if not os.path.exists(DB):
        os.makedirs(os.path.dirname(DB), exist_ok=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "fixture.py"), DB, "100000"], check=True)
    print("| scenario | old instructions/request | new | new/old |")
    print("| --- | ---: | ---: | ---: |")
    for name, path in SCENARIOS:
        per = {}
        for b in (a.old, a.new):
            warm = instructions(b, path, 0, 8402)
            loaded = instructions(b, path, a.requests, 8402)
            per[b] = (loaded - warm) / a.requests
        print(f"| {name} | {per[a.old]:,.0f} | {per[a.new]:,.0f} | {per[a.new] / per[a.old]:.3f} |")


if __name__ == "__main__":
    main()
