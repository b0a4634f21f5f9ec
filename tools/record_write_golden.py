#!/usr/bin/env python3
"""Records Datasette 1.0's answers to the write requests into tests/golden/writes.json.

Usage: python3 tools/record_write_golden.py PATH/TO/datasette   (Datasette 1.0a41's executable;
`python3 -m venv v && v/bin/pip install datasette==1.0a41` gives one)

It makes a fresh database from tests/golden/write_requests.json's schema, serves it with that
file's configuration (as datasette.yaml in JSON) on a free loopback port, makes a token for
"ana" with `datasette create-token`, sends each request in order with it, and stores each
answer's status and body (parsed JSON, or text). tests/write_compat.rs sends the same requests
to datasette-rs and compares, value by value, less the differences it lists.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "golden")
SECRET = "write-golden-secret-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(base, request, token):
    """One request as tests/write_compat.rs sends it: (status, body)."""
    method = request.get("method", "POST")
    body = None
    if method == "POST":
        if "raw" in request:
            body = request["raw"].encode()
        else:
            payload = request["body"]
            if payload.get("rows") == "MANY":
                payload = dict(payload, rows=[{"name": f"d{i}"} for i in range(101)])
            body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if not request.get("anonymous"):
        headers["Authorization"] = "Bearer " + request.get("token", token)
    req = urllib.request.Request(base + request["path"], data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def main():
    datasette = sys.argv[1]
    spec = json.load(open(os.path.join(GOLDEN, "write_requests.json")))
    with tempfile.TemporaryDirectory() as d:
        import sqlite3

        db = os.path.join(d, "data.db")
        sqlite3.connect(db).executescript(spec["schema"])
        config = os.path.join(d, "datasette.json")
        json.dump(spec["config"], open(config, "w"))
        port = free_port()
        server = subprocess.Popen(
            [datasette, "serve", db, "-c", config, "--secret", SECRET, "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/-/versions.json")
                    break
                except Exception:
                    time.sleep(0.1)
            token = subprocess.run(
                [datasette, "create-token", "ana", "--secret", SECRET],
                capture_output=True, text=True, check=True,
            ).stdout.strip()
            answers = []
            for request in spec["requests"]:
                status, body = send(base, request, token)
                answers.append({"name": request["name"], "status": status, "body": body})
        finally:
            server.terminate()
            server.wait()
    with open(os.path.join(GOLDEN, "writes.json"), "w") as f:
        json.dump(answers, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(answers)} answers recorded")


if __name__ == "__main__":
    main()
