"""The write API: datasette-rs against Datasette 1.0a41 on the same files, side by side.

    python3 bench/writes.py DATASETTE_RS DATASETTE [--duration SECONDS]

DATASETTE_RS is a release build of datasette-rs, DATASETTE the `datasette` executable of 1.0a41
(`python3 -m venv v && v/bin/pip install datasette==1.0a41`). Each server gets a fresh copy of
the same file and the same configuration (ana may insert) and a token for ana made by its own
`create-token`. wrk drives, with 8 connections (`-t2 -c8`) for DURATION seconds:

- inserts of 100 rows per request (rows/s);
- single-row inserts (rows/s);
- reads of ten rows (`/data/items.json?_size=10&_shape=array`: rows only, as Datasette 1.0's
  JSON is by default) alone, then the same reads while one client inserts 100-row batches as
  fast as it can: the share of the unloaded throughput kept.

Prints one table with the ratios. Needs wrk (Debian's).
"""
import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SECRET = "bench-writes-secret-0123456789abcdef"
CONFIG = {"permissions": {"insert-row": {"id": "ana"}}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, workdir):
    db = os.path.join(workdir, "data.db")
    c = sqlite3.connect(db)
    c.executescript(
        "create table items (id integer primary key, name text, qty integer, note text);"
    )
    c.executemany(
        "insert into items (name, qty, note) values (?, ?, ?)",
        [(f"item {i}", i % 97, "x" * 40) for i in range(10000)],
    )
    c.commit()
    c.close()
    config = os.path.join(workdir, "datasette.json")
    json.dump(CONFIG, open(config, "w"))
    port = free_port()
    proc = subprocess.Popen(
        [binary, "serve", db, "-c", config, "--secret", SECRET, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json")
            break
        except Exception:
            time.sleep(0.1)
    token = subprocess.run(
        [binary, "create-token", "ana", "--secret", SECRET],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    return proc, port, token


def batch(n, start=0):
    return json.dumps({"rows": [{"name": f"new {start + i}", "qty": i, "note": "y" * 40} for i in range(n)]})


def wrk_post(port, path, token, body, duration, connections=8):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("NON2XX %d\\n", summary.errors.status))\n'
        "end\n"
    )
    script.close()
    return wrk(port, path, duration, ["-s", script.name], connections)


def wrk(port, path, duration, extra=(), connections=8):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", *extra, f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True,
    ).stdout
    rps = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
    bad = [l for l in out.splitlines() if l.startswith("NON2XX") or "Non-2xx" in l]
    return rps, bad


def writer_loop(port, token, stop):
    body = batch(100).encode()
    while not stop.is_set():
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/data/items/-/insert", data=body, method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(req).read()
        except Exception as e:
            print("writer:", e, file=sys.stderr)


def measure(binary, duration):
    with tempfile.TemporaryDirectory() as d:
        proc, port, token = start(binary, d)
        try:
            out = {}
            rps, bad = wrk_post(port, "/data/items/-/insert", token, batch(100), duration)
            out["100-row inserts, rows/s"] = (rps * 100, bad)
            rps, bad = wrk_post(port, "/data/items/-/insert", token, batch(1), duration)
            out["single-row inserts, rows/s"] = (rps, bad)
            rps, bad = wrk(port, "/data/items.json?_size=10&_shape=array", duration)
            out["reads alone, req/s"] = (rps, bad)
            stop = threading.Event()
            t = threading.Thread(target=writer_loop, args=(port, token, stop))
            t.start()
            try:
                loaded, bad = wrk(port, "/data/items.json?_size=10&_shape=array", duration)
            finally:
                stop.set()
                t.join()
            out["reads while written, req/s"] = (loaded, bad)
            out["reads kept while written"] = (loaded / rps, [])
            return out
        finally:
            proc.terminate()
            proc.wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rs")
    p.add_argument("datasette")
    p.add_argument("--duration", type=int, default=5)
    args = p.parse_args()
    ours = measure(args.rs, args.duration)
    theirs = measure(args.datasette, args.duration)
    print(f"\nwrk -t2 -c8 -d{args.duration}s per scenario; {os.cpu_count()} cores\n")
    print("| scenario | datasette-rs | Datasette 1.0a41 | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for k in ours:
        a, b = ours[k][0], theirs[k][0]
        if k.startswith("reads kept"):
            print(f"| {k} | {a:.0%} | {b:.0%} | |")
        else:
            print(f"| {k} | {a:,.0f} | {b:,.0f} | {a / b:.1f}× |")
    for name, res in (("datasette-rs", ours), ("Datasette", theirs)):
        for k, (_, bad) in res.items():
            if bad:
                print(f"{name}, {k}: {bad}")


if __name__ == "__main__":
    main()
