"""datasette-rs against Datasette 0.65 on the same files, side by side in one run.

    python3 bench/run.py [--duration SECONDS] [--rounds N] [--large-rows N] [--huge-rows N]
                         [--only SCENARIO]

Builds the release binaries, makes the fixtures (bench/work/), installs Datasette 0.65 and
datasette-auth-tokens in a virtualenv and wrk from Debian if missing, then drives each server
with `wrk -t2 -c16` for DURATION seconds per scenario and prints one table: req/s, p50, p99
and peak RSS for each server, and the ratios against Datasette with suggest_facets off. Latencies count only answered
requests: where wrk gave up on requests (its 2 s timeout), the socket errors column says so.

"If-None-Match" sends each server the ETag its own table page carried (Datasette gives none,
so it serves the page). A streamed CSV export of the 1M-row table is timed once per server
(MB/s, and how much the server's peak memory grew meanwhile). With --huge-rows, a third file
of that many rows is served too ("huge" scenarios).

With --rounds N (default 1), every server runs every scenario N times, the servers taking
turns round after round, and each cell is the run of median req/s: a minute in which the
machine is slower then weighs on every server alike, rather than on whichever ran then.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
TOKEN = "bench-token-0123456789abcdef"

SCENARIOS = [
    ("table JSON", "/items/items.json", {}),
    ("filtered + sorted JSON", "/items/items.json?category=cat-07&_sort=price", {}),
    ("table HTML", "/items/items", {}),
    ("arbitrary SQL", "/items.json?sql=select+count(*)+from+items+where+category+%3D+%27cat-03%27", {}),
    ("row JSON", "/items/items/12345.json", {}),
    ("/-/actor.json", "/-/actor.json", {}),
    ("deep page (_next=50000)", "/items/items.json?_next=50000", {}),
    ("protected table via plugin", "/items/secrets.json", {"Authorization": f"Bearer {TOKEN}"}),
    ("1M-row table JSON", "/big/items.json", {}),
    ("table JSON, If-None-Match", "/items/items.json", {"If-None-Match": "ETAG"}),
    ("huge table JSON", "/huge/items.json", {}),
    ("huge table HTML", "/huge/items", {}),
    ("huge deep page (_next=9000000)", "/huge/items.json?_next=9000000", {}),
    ("huge filtered count", "/huge/items.json?category=cat-03&_size=1", {}),
    ("huge facet", "/huge/items.json?_facet=category&_size=1", {}),
]

STREAM = "/big/items.csv?_stream=on&_size=max"


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, **kw)


def prepare(large_rows, huge_rows):
    os.makedirs(WORK, exist_ok=True)
    run(["cargo", "build", "--release", "--quiet", "--workspace"], cwd=ROOT)
    files = [("items.db", 100_000), ("big.db", large_rows)]
    if huge_rows:
        files.append(("huge.db", huge_rows))
    for name, rows in files:
        path = os.path.join(WORK, name)
        stamp = path + f".{rows}"
        if not os.path.exists(stamp):
            run([sys.executable, os.path.join(ROOT, "bench", "fixture.py"), path, str(rows)])
            open(stamp, "w").close()
    venv = os.path.join(WORK, "venv")
    if not os.path.exists(os.path.join(venv, "bin", "datasette")):
        run([sys.executable, "-m", "venv", venv])
        run([os.path.join(venv, "bin", "pip"), "install", "-q", "datasette==0.65.*", "datasette-auth-tokens==0.3"])
    if not shutil.which("wrk"):
        run(["apt-get", "install", "-y", "-qq", "wrk"])
    metadata = {
        "databases": {"items": {"tables": {"secrets": {"allow": {"id": "bench"}}}}},
        "plugins": {
            "datasette-auth-tokens": {
                "tokens": [{"token": {"$env": "BENCH_TOKEN"}, "actor": {"id": "bench"}}]
            }
        },
    }
    with open(os.path.join(WORK, "metadata.json"), "w") as f:
        json.dump(metadata, f)
    return venv


def wait_ready(port, proc, timeout=60):
    """Seconds from now until the server answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1) as r:
                if r.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.002)
    raise SystemExit(f"server on port {port} did not start")


def start(name, cmd, port):
    env = dict(os.environ, BENCH_TOKEN=TOKEN, RUST_LOG="warn")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=WORK, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, proc)
    return {"name": name, "proc": proc, "port": port, "startup_ms": (time.monotonic() - t0) * 1000}


def peak_rss_mb(pid):
    """Peak resident memory of the process and its children (Datasette's workers), in MiB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(port, path, headers, duration):
    cmd = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": pct(50),
        "p99": pct(99),
        "non2xx": int(bad.group(1)) if bad else 0,
        "errors": errors.group(1) if errors else "",
    }


def check(port, path, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def with_etag(port, path, headers):
    """The scenario's headers, its ETAG placeholder replaced by the tag the server gives."""
    if headers.get("If-None-Match") != "ETAG":
        return headers
    _, _, got = check(port, path, {})
    return dict(headers, **{"If-None-Match": got.get("ETag") or '"none"'})


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def stream_export(server):
    """Reads the streamed CSV export once: MB/s, rows, and the growth of peak memory (MiB)."""
    pids = [server["proc"].pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(server["proc"].pid)], capture_output=True, text=True).stdout.split()]
    before = {p: vm(p, "VmRSS") for p in pids}
    started = time.monotonic()
    size, lines = 0, 0
    with urllib.request.urlopen(f"http://127.0.0.1:{server['port']}{STREAM}", timeout=600) as r:
        while chunk := r.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.monotonic() - started
    growth = max(vm(p, "VmHWM") - before[p] for p in pids)
    return {"mb_s": size / seconds / 1e6, "mb": size / 1e6, "lines": lines, "seconds": seconds, "rss_growth": growth}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--large-rows", type=int, default=1_000_000)
    ap.add_argument("--huge-rows", type=int, default=0, help="also serve huge.db of this many rows")
    ap.add_argument("--only", help="run only scenarios whose name contains this")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each scenario, servers taking turns")
    args = ap.parse_args()
    venv = prepare(args.large_rows, args.huge_rows)
    release = os.path.join(ROOT, "target", "release")
    datasette = os.path.join(venv, "bin", "datasette")
    files = ["items.db", "big.db", *(["huge.db"] if args.huge_rows else []), "-m", "metadata.json"]
    # The ceiling answers the bytes of our table JSON page from memory.
    servers_spec = [
        ("datasette-rs", [os.path.join(release, "datasette-rs"), "serve", *files, "-p", "8101"], 8101),
        ("Datasette 0.65", [datasette, "serve", *files, "-p", "8102"], 8102),
        ("Datasette, suggest_facets off", [datasette, "serve", *files, "-p", "8103", "--setting", "suggest_facets", "off"], 8103),
    ]
    scenarios = [
        s for s in SCENARIOS
        if (not args.only or args.only in s[0]) and (args.huge_rows or not s[0].startswith("huge"))
    ]
    results = {}
    servers = []
    try:
        for name, cmd, port in servers_spec:
            servers.append(start(name, cmd, port))
        status, body, _ = check(8101, "/items/items.json", {})
        with open(os.path.join(WORK, "table.json"), "wb") as f:
            f.write(body)
        servers.append(start("ceiling (bytes from memory)", [os.path.join(release, "datasette-rs-ceiling"), os.path.join(WORK, "table.json"), "8104"], 8104))
        runs = {}
        for _ in range(max(args.rounds, 1)):
            for s in servers:
                for title, path, headers in scenarios:
                    if s["port"] == 8104 and title != "table JSON":
                        continue
                    headers = with_etag(s["port"], path, headers)
                    status, _, _ = check(s["port"], path, headers)
                    assert status in (200, 304), (s["name"], path, status)
                    run = wrk(s["port"], path, headers, args.duration)
                    runs.setdefault((s["name"], title), []).append(run)
                    print(f"{s['name']:32} {title:28} {run}", file=sys.stderr)
        for key, each in runs.items():
            results[key] = sorted(each, key=lambda r: r["rps"])[len(each) // 2]
        for s in servers:
            s["rss"] = peak_rss_mb(s["proc"].pid)
            if s["port"] != 8104 and (not args.only or args.only in "streamed CSV"):
                s["stream"] = stream_export(s)
                print(f"{s['name']:32} streamed CSV {s['stream']}", file=sys.stderr)
    finally:
        for s in servers:
            s["proc"].send_signal(signal.SIGTERM)
            s["proc"].wait()
    report(servers, scenarios, results, args)


def report(servers, scenarios, results, args):
    ours, base = "datasette-rs", "Datasette, suggest_facets off"
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    print(f"\nwrk -t2 -c16 -d{args.duration}s per scenario{rounds}; {os.cpu_count()} cores; fixture 100,000 rows (1M: {args.large_rows:,})\n")
    print("| scenario | server | req/s | p50 ms | p99 ms | non-2xx | socket errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for title, _, _ in scenarios:
        for s in servers:
            r = results.get((s["name"], title))
            if r:
                print(f"| {title} | {s['name']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} | {r['errors']} |")
    print("\n| scenario | req/s ratio (datasette-rs / Datasette, suggestions off) | p99 ratio |")
    print("| --- | ---: | ---: |")
    for title, _, _ in scenarios:
        a, b = results.get((ours, title)), results.get((base, title))
        if a and b:
            print(f"| {title} | {a['rps'] / b['rps']:.1f}× | {a['p99'] / b['p99']:.2f} |")
    ceiling = results.get(("ceiling (bytes from memory)", "table JSON"))
    cached = results.get((ours, "table JSON, If-None-Match"))
    if ceiling and cached:
        print(f"\nIf-None-Match (304) against the ceiling's table JSON: {cached['rps']:.0f} / {ceiling['rps']:.0f} req/s = {cached['rps'] / ceiling['rps']:.0%}")
    small, huge = results.get((ours, "table JSON")), results.get((ours, "huge table JSON"))
    if small and huge:
        print(f"huge ({args.huge_rows:,} rows) table JSON against the 100,000-row one: p50 {huge['p50']:.2f} / {small['p50']:.2f} ms = {huge['p50'] / small['p50']:.2f}×; req/s {huge['rps'] / small['rps']:.0%}")
    streams = [s for s in servers if "stream" in s]
    if streams:
        print(f"\n| streamed CSV ({STREAM}) | MB | rows | seconds | MB/s | peak RSS growth |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for s in streams:
            x = s["stream"]
            print(f"| {s['name']} | {x['mb']:.0f} | {x['lines'] - 1:,} | {x['seconds']:.1f} | {x['mb_s']:.1f} | {x['rss_growth']:.1f} MiB |")
    print("\n| server | start-up to first 200 | peak RSS |")
    print("| --- | ---: | ---: |")
    for s in servers:
        print(f"| {s['name']} | {s['startup_ms']:.0f} ms | {s.get('rss', 0):.0f} MiB |")


if __name__ == "__main__":
    main()
