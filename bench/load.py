"""Sustained mixed load on the release server: does it stay up, correct and flat?

    python3 bench/load.py [--seconds 60] [--connections 256]

Serves the benchmark fixture (made by bench/run.py's fixture.py if missing) with `--root`,
signs in through the one-time URL, then drives tables, rows, SQL and the protected table with
that session through `wrk -t2 -cCONNECTIONS`. Prints wrk's socket errors and non-2xx count and
the server's resident memory every second; fails (exit 1) on any socket error or non-2xx
answer, or if memory at the end is more than 10% above memory at the 10th second.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")

PATHS = [
    "/items/items.json",
    "/items/items",
    "/items/items.json?category=cat-07&_sort=price",
    "/items/items/12345.json",
    "/items/items/777",
    "/items.json?sql=select+category,+count(*)+from+items+group+by+category",
    "/items/readings.json?_size=50",
    "/items/items.json?_next=50000",
    "/items/secrets.json",
    "/items/secrets",
    "/-/actor.json",
    "/",
]

LUA = """
local paths = {%s}
local cookie = "%s"
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Cookie"] = cookie})
end
"""


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=256)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "datasette-rs"], cwd=ROOT, check=True)
    os.makedirs(WORK, exist_ok=True)
    db = os.path.join(WORK, "items.db")
    if not os.path.exists(db):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "fixture.py"), db], check=True)
    metadata = os.path.join(WORK, "load-metadata.json")
    with open(metadata, "w") as f:
        f.write('{"databases": {"items": {"tables": {"secrets": {"allow": {"id": "root"}}}}}}')
    server = subprocess.Popen(
        [os.path.join(ROOT, "target", "release", "datasette-rs"), "serve", db, "-m", metadata,
         "-p", "8131", "--root", "--secret", "load test secret, at least 32 bytes"],
        stderr=subprocess.PIPE, text=True,
    )
    try:
        root_url = None
        for line in server.stderr:
            if line.startswith("Sign in as root"):
                root_url = line.split(": ", 1)[1].strip()
                break
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(root_url)
            raise SystemExit("the sign-in URL did not redirect")
        except urllib.error.HTTPError as e:
            cookie = e.headers["Set-Cookie"].split(";")[0]
        req = urllib.request.Request("http://127.0.0.1:8131/items/secrets.json", headers={"Cookie": cookie})
        assert urllib.request.urlopen(req).status == 200, "signed in"
        for p in PATHS:  # warm every page once
            urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:8131" + p, headers={"Cookie": cookie})).read()

        script = os.path.join(WORK, "load.lua")
        with open(script, "w") as f:
            f.write(LUA % (", ".join(f'"{p}"' for p in PATHS), cookie))
        samples = []
        wrk = subprocess.Popen(
            ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "-s", script, "http://127.0.0.1:8131"],
            stdout=subprocess.PIPE, text=True,
        )
        started = time.monotonic()
        while wrk.poll() is None:
            time.sleep(1)
            samples.append((time.monotonic() - started, rss_kib(server.pid)))
        out = wrk.stdout.read()
    finally:
        server.terminate()
        server.wait()

    print(out)
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    at10 = next(kib for t, kib in samples if t >= 10)
    end = samples[-1][1]
    print("RSS (MiB) each second:", " ".join(f"{kib / 1024:.1f}" for _, kib in samples))
    print(f"req/s {rps}; RSS at 10 s {at10 / 1024:.1f} MiB, at the end {end / 1024:.1f} MiB ({(end - at10) / at10 * 100:+.1f}%)")
    print(f"socket errors: {errors.group(1) if errors else 'none'}; non-2xx: {non2xx.group(1) if non2xx else 0}")
    ok = not errors and not non2xx and end <= at10 * 1.10
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
