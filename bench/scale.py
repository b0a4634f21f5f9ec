"""datasette-rs at scale: many tables, many actors, a permission plugin and a large facet.

    python3 bench/scale.py [--duration SECONDS] [--only SUBSTRING] [--binary PATH]

Runs the release binary as it is (target/release/datasette-rs unless --binary; it is not
built here, and its plugins are found beside it). Makes the fixtures in bench/work/scale/
once, installs Datasette 0.65 and datasette-auth-tokens in bench/work/venv and wrk from
Debian if missing, then drives each server with `wrk -t2 -c16` for DURATION seconds
(default 5) per measurement and prints markdown tables: req/s, p50 and p99 per measurement,
the ratios each scenario compares against its target, and the servers' memory.

Fixtures (bench/work/scale/):
    many.db    5,000 tables t0..t4999 (id integer primary key, name text, value real), 20 rows each
    few.db     the same with 10 tables t0..t9
    mid.db     100 such tables t0..t99 and grants(actor_id, table_name) giving the actor
               `bench` each of them, indexed on (actor_id, table_name)
    facets.db  items(id, name, category, price): 1,000,000 rows, 20 categories cat-00..cat-19

metadata.json hides many.db's t4999 and few.db's t9 from all but the actor `boss` and
configures datasette-auth-tokens with the bench token (actor `bench`) and 1,000 more tokens,
tok-000000000000..tok-000000000999, for the actors user0..user999 (the plugin refuses tokens
shorter than 16 characters, so the numbers are zero-padded).

A page slow enough that 2 x 16 requests, one after another, would outlast DURATION is run
for that long instead, and one slower than wrk's timeout (Datasette's database page of 5,000
tables) is timed with requests one at a time for DURATION seconds (at least one); the
measurement says which. After each run, the next waits until the server has finished the
requests wrk left behind. A ratio with a side that finished no request is "?"; wrk's
timeouts show among the socket errors.

Scenarios (each starts its servers on free ports and stops them when done; --only SUBSTRING
picks those whose name holds it):
    "table JSON, 5,000 tables"
        /many/t42.json against /few/t4.json, both datasette-rs: what 5,000 tables cost a
        table page (many / few >= 0.67)
    "?sql= by an actor with a hidden table"
        /many.json?sql=select * from t42 against the same on few.db, as the bench actor,
        from whom a table is hidden (many / few >= 0.5)
    "database page, 5,000 tables"
        /many.json, datasette-rs against Datasette 0.65 (>= 20x; wrk --timeout 10s)
    "permission plugin"
        /mid/t7.json and /mid.json as the bench actor, datasette-rs with
        datasette-permissions-sql voting from the grants table against datasette-rs with no
        permission plugin (each >= 0.5); checked first that the plugin lets the bench actor
        in (200) and keeps an anonymous request out (403 or 404)
    "repeated facet, 1M rows"
        /facets/items.json?_facet=category&_size=1, datasette-rs against Datasette 0.65,
        both with suggest_facets off and 20 s facet and SQL time limits; first checked that
        both give the same counts, summing to 1,000,000 (>= 20x; wrk --timeout 30s)
    "1,000 actors"
        a fresh datasette-rs on many.db, wrk cycling the 1,000 tokens over /many/tN.json
        (bench/work/scale/actors.lua): its peak RSS (VmHWM) < 128 MiB, and its RSS at start
"""
import argparse
import datetime
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

# bench/run.py, beside this script: how servers are started and awaited there.
from run import run, wait_ready

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "bench", "work")
SCALE = os.path.join(WORK, "scale")
TOKEN = "bench-token-0123456789abcdef"
BENCH = {"Authorization": f"Bearer {TOKEN}"}
ACTORS = 1000
FACET_ROWS = 1_000_000
CATEGORIES = [f"cat-{i:02d}" for i in range(20)]
RSS_TARGET_MIB = 128
ROUNDS = 2 * 16  # requests a slow page's wrk run should have time for, one after another


def actor_token(i):
    return f"tok-{i:012d}"


# Fixtures


def build(name, fill):
    """Makes bench/work/scale/NAME with fill(conn) unless it is there; a failed build leaves nothing."""
    path = os.path.join(SCALE, name)
    if os.path.exists(path):
        return
    print(f"building {path}", file=sys.stderr)
    started = time.monotonic()
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.remove(tmp)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    fill(conn)
    conn.execute("COMMIT")
    conn.close()
    os.rename(tmp, path)
    print(f"built {name} in {time.monotonic() - started:.1f} s", file=sys.stderr)


def tables(count):
    def fill(conn):
        rng = random.Random(count)
        for t in range(count):
            conn.execute(f"CREATE TABLE t{t} (id INTEGER PRIMARY KEY, name TEXT, value REAL)")
            conn.executemany(
                f"INSERT INTO t{t} (id, name, value) VALUES (?, ?, ?)",
                [(i, f"row {i} of t{t}", round(rng.uniform(0, 1000), 2)) for i in range(1, 21)],
            )
    return fill


def mid(conn):
    tables(100)(conn)
    conn.execute("CREATE TABLE grants (actor_id TEXT, table_name TEXT)")
    conn.executemany("INSERT INTO grants VALUES (?, ?)", [("bench", f"t{t}") for t in range(100)])
    conn.execute("CREATE INDEX grants_actor_table ON grants (actor_id, table_name)")


def facets(conn):
    rng = random.Random(20261127)
    # Unequal weights, so that counts which came out all alike would show.
    weights = [1 + i % 7 for i in range(len(CATEGORIES))]
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL)")
    categories = rng.choices(CATEGORIES, weights, k=FACET_ROWS)
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        ((i + 1, f"item {i + 1}", categories[i], round(rng.uniform(1, 500), 2)) for i in range(FACET_ROWS)),
    )


def auth_tokens(actors):
    tokens = [{"token": {"$env": "BENCH_TOKEN"}, "actor": {"id": "bench"}}]
    tokens += [{"token": actor_token(i), "actor": {"id": f"user{i}"}} for i in range(actors)]
    return {"datasette-auth-tokens": {"tokens": tokens}}


def write_json(name, value):
    path = os.path.join(SCALE, name)
    with open(path, "w") as f:
        json.dump(value, f)
    return path


def prepare(binary):
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary} is not an executable; build it with `cargo build --release --workspace`")
    os.makedirs(SCALE, exist_ok=True)
    build("few.db", tables(10))
    build("mid.db", mid)
    build("many.db", tables(5000))
    build("facets.db", facets)
    venv = os.path.join(WORK, "venv")
    if not os.path.exists(os.path.join(venv, "bin", "datasette")):
        run([sys.executable, "-m", "venv", venv])
        run([os.path.join(venv, "bin", "pip"), "install", "-q", "datasette==0.65.*", "datasette-auth-tokens==0.3"])
    if not shutil.which("wrk"):
        run(["apt-get", "install", "-y", "-qq", "wrk"])
    write_json("metadata.json", {
        "databases": {
            "many": {"tables": {"t4999": {"allow": {"id": "boss"}}}},
            "few": {"tables": {"t9": {"allow": {"id": "boss"}}}},
        },
        "plugins": auth_tokens(ACTORS),
    })
    write_json("mid-plugin.json", {
        "plugins": {
            **auth_tokens(0),
            "datasette-permissions-sql": [{
                "action": "view-table",
                "sql": "select 1 from grants where actor_id = :actor_id and table_name = :resource_2",
                "database": "mid",
            }],
        },
    })
    write_json("mid-plain.json", {"plugins": auth_tokens(0)})
    write_json("facets.json", {"plugins": auth_tokens(0)})
    return os.path.join(venv, "bin", "datasette")


# Servers


def free_port():
    """A port nothing listens on now (so that no other server on the machine answers for ours)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name, cmd, port):
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken by another process")
    env = dict(os.environ, BENCH_TOKEN=TOKEN, RUST_LOG="warn")
    print("+", " ".join(cmd), file=sys.stderr)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=SCALE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = {"name": name, "proc": proc, "port": port}
    try:
        wait_ready(port, proc, timeout=120)
    except BaseException:
        stop([server])
        raise
    server["startup_ms"] = (time.monotonic() - t0) * 1000
    if proc.poll() is not None:
        raise SystemExit(f"{name} exited with {proc.returncode} after answering on port {port}")
    server["rss_start"] = rss_mb(proc.pid)
    return server


def stop(servers):
    for s in servers:
        if s["proc"].poll() is None:
            s["proc"].send_signal(signal.SIGTERM)
    for s in servers:
        try:
            s["proc"].wait(timeout=30)
        except subprocess.TimeoutExpired:
            s["proc"].kill()
            s["proc"].wait()


def pids_of(pid):
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [int(p) for p in children]


def vm_mb(pids, field):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def peak_rss_mb(pid):
    """Peak resident memory of the process and its children (Datasette's workers), in MiB."""
    return vm_mb(pids_of(pid), "VmHWM")


def rss_mb(pid):
    return vm_mb(pids_of(pid), "VmRSS")


def cpu_seconds(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def settle(server, timeout=300):
    """Waits until the server has stopped working on requests wrk left behind (it keeps
    running queries whose clients have gone), so that they do not slow the next measurement."""
    pids = pids_of(server["proc"].pid)
    started = time.monotonic()
    before = cpu_seconds(pids)
    while time.monotonic() - started < timeout:
        time.sleep(0.25)
        now = cpu_seconds(pids)
        if now - before < 0.02:
            return
        before = now
    print(f"{server['name']} still busy after {timeout} s", file=sys.stderr)


# Measuring

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(port, path, headers, duration, timeout=None, script=None):
    cmd = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency"]
    if timeout:
        cmd.append(f"--timeout={timeout}s")
    if script:
        cmd += ["-s", script]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return float(m.group(1)) * UNITS[m.group(2)] if m and requests else None

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "requests": requests,
        "p50": pct(50),
        "p99": pct(99),
        "non2xx": int(bad.group(1)) if bad else 0,
        "errors": errors.group(1).strip() if errors else "",
    }


def fetch(port, path, headers, timeout=120):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    return status, body, (time.monotonic() - started) * 1000


def expect_ok(server, path, headers):
    """A first request, which must answer 200 (it also warms the server up)."""
    status, body, ms = fetch(server["port"], path, headers, timeout=600)
    server.setdefault("first_ms", {})[path] = ms
    print(f"{server['name']:34} GET {path} -> {status} in {ms:.0f} ms", file=sys.stderr)
    if status != 200:
        raise SystemExit(f"{server['name']}: GET {path} answered {status}, not 200:\n{body[:2000].decode(errors='replace')}")
    return body


def sequential(port, path, headers, duration):
    """Requests one after another for DURATION seconds (at least one): wrk's figures."""
    started = time.monotonic()
    times, non2xx = [], 0
    while not times or time.monotonic() - started < duration:
        status, _, ms = fetch(port, path, headers, timeout=600)
        times.append(ms)
        non2xx += not 200 <= status < 400
    times.sort()
    return {
        "rps": len(times) / (time.monotonic() - started),
        "requests": len(times),
        "p50": times[len(times) // 2],
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "non2xx": non2xx,
        "errors": "",
    }


class Bench:
    def __init__(self, args, binary, datasette):
        self.args = args
        self.binary = binary
        self.datasette = datasette
        self.rows = []  # (scenario, label, server name, path, result)
        self.ratios = []  # (scenario, comparison, value, target, passed, unit)
        self.servers = []  # every server started, for the memory table

    def rs(self, name, files, metadata, *settings):
        port = free_port()
        cmd = [self.binary, "serve", *files, "-m", metadata, "-p", str(port)]
        for k, v in settings:
            cmd += ["--setting", k, v]
        return start(name, cmd, port)

    def ds(self, name, files, metadata, *settings):
        port = free_port()
        cmd = [self.datasette, "serve", *files, "-m", metadata, "-p", str(port)]
        for k, v in settings:
            cmd += ["--setting", k, v]
        return start(name, cmd, port)

    def measure(self, scenario, label, server, path, headers, timeout=None):
        first = server.get("first_ms", {}).get(path)
        limit = timeout or 2  # wrk's default timeout
        if first is not None and first > limit * 1000:
            # wrk would give up on every request, and leave the server busy with sixteen of
            # them long after: time it one request at a time instead.
            r = sequential(server["port"], path, headers, self.args.duration)
            label += f" (one at a time: its first request took {first / 1000:.0f} s, over wrk's {limit} s timeout)"
        else:
            duration = self.args.duration
            if first is not None and first * ROUNDS / 1000 > duration:
                # Sixteen such requests at once may outlast the run: give wrk long enough for
                # two rounds of them, judged by a request on a warm server.
                _, _, again = fetch(server["port"], path, headers, timeout=600)
                needed = math.ceil(again * ROUNDS / 1000)
                if needed > duration:
                    duration = needed
                    label += f" (wrk -d{needed}s: one request alone takes {again:.0f} ms)"
            r = wrk(server["port"], path, headers, duration, timeout)
        if server["proc"].poll() is not None:
            raise SystemExit(f"{server['name']} exited with {server['proc'].returncode} during {label}")
        settle(server)
        print(f"{server['name']:34} {label:44} {r}", file=sys.stderr)
        self.rows.append((scenario, label, server["name"], path, r))
        return r

    def ratio(self, scenario, comparison, a, b, target):
        value = a["rps"] / b["rps"] if a["rps"] and b["rps"] else None
        self.ratios.append((scenario, comparison, value, target, value is not None and value >= target, "×"))

    def with_servers(self, scenario, specs, body):
        """Starts the servers of specs [(kind, name, files, metadata, settings)], each on a free
        port, runs body(*servers) and stops them, whatever happens."""
        servers = []
        try:
            for kind, name, files, metadata, settings in specs:
                servers.append((self.rs if kind == "rs" else self.ds)(name, files, metadata, *settings))
            body(*servers)
        finally:
            for s in servers:
                s["exit"] = s["proc"].poll()
                s["rss_peak"] = peak_rss_mb(s["proc"].pid) if s["exit"] is None else None
                s["scenario"] = scenario
            stop(servers)
            self.servers += servers


SCALE_META = "metadata.json"


def scenario_tables(b):
    name = "table JSON"

    def body(many, few):
        a_path, b_path = "/many/t42.json", "/few/t4.json"
        expect_ok(many, a_path, {})
        expect_ok(few, b_path, {})
        a = b.measure(name, "table JSON, 5,000 tables", many, a_path, {})
        c = b.measure(name, "table JSON, 10 tables", few, b_path, {})
        b.ratio(name, "table JSON: 5,000 tables / 10 tables", a, c, 0.67)

    b.with_servers(name, [
        ("rs", "datasette-rs, many.db", ["many.db"], SCALE_META, []),
        ("rs", "datasette-rs, few.db", ["few.db"], SCALE_META, []),
    ], body)


def scenario_sql(b):
    name = "?sql= by an actor with a hidden table"

    def body(many, few):
        a_path, b_path = "/many.json?sql=select+*+from+t42", "/few.json?sql=select+*+from+t4"
        expect_ok(many, a_path, BENCH)
        expect_ok(few, b_path, BENCH)
        a = b.measure(name, "?sql= by an actor with a hidden table, 5,000 tables", many, a_path, BENCH)
        c = b.measure(name, "?sql= by an actor with a hidden table, 10 tables", few, b_path, BENCH)
        b.ratio(name, "?sql=: 5,000 tables / 10 tables", a, c, 0.5)

    b.with_servers(name, [
        ("rs", "datasette-rs, many.db", ["many.db"], SCALE_META, []),
        ("rs", "datasette-rs, few.db", ["few.db"], SCALE_META, []),
    ], body)


def scenario_database(b):
    name = "database page, 5,000 tables"

    def body(rs, ds):
        path = "/many.json"
        expect_ok(rs, path, {})
        expect_ok(ds, path, {})
        a = b.measure(name, name, rs, path, {}, timeout=10)
        c = b.measure(name, name, ds, path, {}, timeout=10)
        b.ratio(name, "database page, 5,000 tables: datasette-rs / Datasette 0.65", a, c, 20)

    b.with_servers(name, [
        ("rs", "datasette-rs, many.db", ["many.db"], SCALE_META, []),
        ("ds", "Datasette 0.65, many.db", ["many.db"], SCALE_META, []),
    ], body)


def scenario_permission(b):
    name = "permission plugin"

    def body(plugin, plain):
        status, body_, _ = fetch(plugin["port"], "/mid/t7.json", BENCH)
        anon, _, _ = fetch(plugin["port"], "/mid/t7.json", {})
        print(f"{plugin['name']:34} /mid/t7.json: bench -> {status}, anonymous -> {anon}", file=sys.stderr)
        if status != 200 or anon not in (403, 404):
            raise SystemExit(
                f"datasette-permissions-sql is not deciding: on {plugin['name']}, /mid/t7.json answered "
                f"{status} to the bench actor (expected 200) and {anon} to an anonymous request "
                f"(expected 403 or 404); is target/release/libdatasette_permissions_sql.so beside the binary?\n"
                f"{body_[:1000].decode(errors='replace')}"
            )
        for path in ("/mid/t7.json", "/mid.json"):
            expect_ok(plugin, path, BENCH)
            expect_ok(plain, path, BENCH)
            label = f"{path}, bench actor"
            a = b.measure(name, f"{label}, permissions-sql", plugin, path, BENCH)
            c = b.measure(name, f"{label}, no permission plugin", plain, path, BENCH)
            b.ratio(name, f"{path}: permissions-sql / no permission plugin", a, c, 0.5)

    b.with_servers(name, [
        ("rs", "datasette-rs, mid.db, permissions-sql", ["mid.db"], "mid-plugin.json", []),
        ("rs", "datasette-rs, mid.db, no plugin", ["mid.db"], "mid-plain.json", []),
    ], body)


def facet_counts(server, path):
    body = expect_ok(server, path, {})
    data = json.loads(body)
    results = data.get("facet_results")
    if isinstance(results, dict) and "results" in results and "category" not in results:
        results = results["results"]  # Datasette 1.0's nesting
    facet = (results or {}).get("category")
    if not facet:
        raise SystemExit(f"{server['name']}: no category facet in {path}: {body[:1000].decode(errors='replace')}")
    return {r["value"]: r["count"] for r in facet["results"]}, facet.get("truncated")


def scenario_facet(b):
    name = "repeated facet, 1M rows"
    limits = [("facet_time_limit_ms", "20000"), ("sql_time_limit_ms", "20000")]

    def body(rs, ds):
        path = "/facets/items.json?_facet=category&_size=1"
        with sqlite3.connect(os.path.join(SCALE, "facets.db")) as conn:
            truth = dict(conn.execute("select category, count(*) from items group by category"))
        ours, our_trunc = facet_counts(rs, path)
        theirs, their_trunc = facet_counts(ds, path)
        problems = []
        if ours != theirs:
            for k in sorted(set(ours) | set(theirs), key=str):
                if ours.get(k) != theirs.get(k):
                    problems.append(f"  {k!r}: datasette-rs {ours.get(k)}, Datasette 0.65 {theirs.get(k)}")
        for who, counts in (("datasette-rs", ours), ("Datasette 0.65", theirs)):
            if sum(counts.values()) != FACET_ROWS:
                problems.append(f"  {who}: the counts sum to {sum(counts.values()):,}, not {FACET_ROWS:,}")
            if counts != truth:
                problems.append(f"  {who}: the counts differ from SQLite's own {truth}")
        if our_trunc or their_trunc:
            problems.append(f"  truncated: datasette-rs {our_trunc}, Datasette 0.65 {their_trunc}")
        if problems:
            raise SystemExit("the facet counts disagree:\n" + "\n".join(problems))
        print(f"facet counts agree: {len(ours)} categories summing to {sum(ours.values()):,}", file=sys.stderr)
        a = b.measure(name, name, rs, path, {}, timeout=30)
        c = b.measure(name, name, ds, path, {}, timeout=30)
        b.ratio(name, "repeated facet, 1M rows: datasette-rs / Datasette 0.65", a, c, 20)

    b.with_servers(name, [
        ("rs", "datasette-rs, facets.db", ["facets.db"], "facets.json",
         limits + [("suggest_facets", "off")]),
        ("ds", "Datasette 0.65, facets.db", ["facets.db"], "facets.json",
         limits + [("suggest_facets", "off")]),
    ], body)


ACTORS_LUA = """
-- Each request as the next of the %(actors)d actors, for the next table of many.db.
-- Each thread starts at its own place in the cycle (setup sets its global `offset`).
local counter = 0
local threads = 0

setup = function(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

init = function(args)
  counter = offset or 0
end

request = function()
  counter = counter + 1
  local path = "/many/t" .. (counter %% %(tables)d) .. ".json"
  local token = string.format("tok-%%012d", counter %% %(actors)d)
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
"""


def scenario_actors(b):
    name = "1,000 actors"

    def body(rs):
        for i in (0, 517, ACTORS - 1):
            status, raw, _ = fetch(rs["port"], "/-/actor.json", {"Authorization": f"Bearer {actor_token(i)}"})
            actor = (json.loads(raw).get("actor") or {}).get("id") if status == 200 else None
            if actor != f"user{i}":
                raise SystemExit(f"{rs['name']}: token {actor_token(i)} made actor {actor!r} (status {status}), not user{i}")
        script = os.path.join(SCALE, "actors.lua")
        with open(script, "w") as f:
            f.write(ACTORS_LUA % {"actors": ACTORS, "tables": 4999})
        r = wrk(rs["port"], "/", {}, b.args.duration, script=script)
        print(f"{rs['name']:34} {name:44} {r}", file=sys.stderr)
        b.rows.append((name, "1,000 actors over /many/tN.json", rs["name"], "actors.lua", r))
        peak = peak_rss_mb(rs["proc"].pid)
        b.ratios.append((name, f"peak RSS of datasette-rs after 1,000 actors (right after start {rs['rss_start']:.1f} MiB)",
                         peak, RSS_TARGET_MIB, peak < RSS_TARGET_MIB, "MiB"))

    b.with_servers(name, [("rs", "datasette-rs, many.db, 1,000 actors", ["many.db"], SCALE_META, [])], body)


SCENARIOS = [
    ("table JSON, 5,000 tables", scenario_tables),
    ("?sql= by an actor with a hidden table", scenario_sql),
    ("database page, 5,000 tables", scenario_database),
    ("permission plugin", scenario_permission),
    ("repeated facet, 1M rows", scenario_facet),
    ("1,000 actors", scenario_actors),
]


def fmt(ms):
    return "–" if ms is None else f"{ms:.2f}"


def rate(rps):
    return f"{rps:.1f}" if rps >= 10 or not rps else f"{rps:.3g}"


def report(b, args):
    print(f"\n{datetime.datetime.now():%Y-%m-%d %H:%M}; `wrk -t2 -c16 -d{args.duration}s` per measurement; "
          f"{os.cpu_count()} cores; {os.path.relpath(b.binary, ROOT)}\n")
    print("| scenario | measurement | server | req/s | p50 ms | p99 ms | non-2xx | socket errors |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
    for scenario, label, server, _, r in b.rows:
        print(f"| {scenario} | {label} | {server} | {rate(r['rps'])} | {fmt(r['p50'])} | {fmt(r['p99'])} | "
              f"{r['non2xx']} | {r['errors']} |")
    print("\n| scenario | comparison | value | target | |")
    print("| --- | --- | ---: | ---: | :---: |")
    for scenario, comparison, value, target, passed, unit in b.ratios:
        if unit == "MiB":
            shown, wanted = f"{value:.1f} MiB", f"< {target} MiB"
        else:
            shown, wanted = ("n/a: a side finished no request" if value is None else f"{value:.2f}×"), f"≥ {target}×"
        mark = "?" if value is None else "✓" if passed else "✗"
        print(f"| {scenario} | {comparison} | {shown} | {wanted} | {mark} |")
    print("\n| scenario | server | start-up to first 200 | RSS after start | peak RSS |")
    print("| --- | --- | ---: | ---: | ---: |")
    for s in b.servers:
        peak = f"exited ({s['exit']}) before the end" if s["rss_peak"] is None else f"{s['rss_peak']:.1f} MiB"
        print(f"| {s['scenario']} | {s['name']} | {s['startup_ms']:.0f} ms | {s['rss_start']:.1f} MiB | {peak} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--only", help="run only scenarios whose name contains this")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "datasette-rs"))
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    datasette = prepare(binary)
    b = Bench(args, binary, datasette)
    chosen = [(n, f) for n, f in SCENARIOS if not args.only or args.only in n]
    if not chosen:
        raise SystemExit(f"no scenario matches {args.only!r}: " + "; ".join(n for n, _ in SCENARIOS))
    try:
        for _, scenario in chosen:
            scenario(b)
    finally:
        if b.rows or b.ratios:
            report(b, args)


if __name__ == "__main__":
    main()
