"""Twelve clients that never read a huge answer: the server's peak memory before and after,
and the slowest `/-/health` meanwhile.

    python3 bench/slow_readers.py BINARY

Serves a new empty database with BINARY (a release build) on port 8140, sends twelve requests
that are never read (the attacker's `replace(printf('%.*c', 60000000, 'x'), 'x', char(1))`, and
a 15 MB answer, alternately), then asks `/-/health` 30 times, 100 ms apart. An answer of
`/-/health` other than 200 is an error, as the old builds' 408 was.
"""
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def main(binary, port=8140):
    d = tempfile.mkdtemp()
    db = os.path.join(d, "data.db")
    sqlite3.connect(db).execute("create table t (x)").connection.commit()
    p = subprocess.Popen([binary, "serve", db, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/-/health")
                break
            except OSError:
                time.sleep(0.02)

        def hwm():
            for line in open(f"/proc/{p.pid}/status"):
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) // 1024

        urllib.request.urlopen(f"{base}/data.json?sql=select+1").read()
        before = hwm()
        q = urllib.parse.quote
        issue = q("select replace(printf('%.*c', 60000000, 'x'), 'x', char(1)) as t")
        near = q("select replace(printf('%.*c', 2500000, 'x'), 'x', char(1)) as t")
        sockets = []
        for i in range(12):
            s = socket.create_connection(("127.0.0.1", port))
            sql = issue if i % 2 == 0 else near
            s.sendall(f"GET /data.json?sql={sql} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            sockets.append(s)
        slowest = 0
        for _ in range(30):
            t = time.monotonic()
            urllib.request.urlopen(f"{base}/-/health").read()
            slowest = max(slowest, time.monotonic() - t)
            time.sleep(0.1)
        print(f"peak memory before {before} MiB, after {hwm()} MiB; slowest /-/health {slowest * 1000:.0f} ms")
    finally:
        p.terminate()
        p.wait()


if __name__ == "__main__":
    main(sys.argv[1])
