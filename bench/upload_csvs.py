"""A CSV import through datasette-upload-csvs against `sqlite-utils insert` of the same file.

    python3 bench/upload_csvs.py DATASETTE_RS [--rows N] [--sqlite-utils PATH]

DATASETTE_RS is a release build of datasette-rs with the upload-csvs plugin beside it
(`cargo build --release -p datasette-rs -p datasette-upload-csvs`). The script writes a CSV of
N rows (500,000 by default, about 41 MB: an integer key, a name, a real, an integer and a
note), signs in as root through `--root`'s one-time link, posts the file from the upload form
(CSRF token first) and polls `_csv_progress_` until the import has completed. It reports rows/s
from the POST to completion and how much the server's peak memory (VmHWM) grew. With
`--sqlite-utils`, it times `sqlite-utils insert db t FILE --csv --detect-types` on the same
file (sqlite-utils 3.x; 4.x detects types by default and has no flag: pass `--no-detect-flag`)
and prints the ratio.
"""
import argparse
import html
import http.cookiejar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SECRET = "bench-upload-secret-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("id,name,score,qty,note\n")
        for i in range(rows):
            f.write(f"{i},name {i % 1000},{i * 0.25:.2f},{i % 97},note number {i}\n")


def vm_hwm_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def start(binary, workdir):
    db = os.path.join(workdir, "data.db")
    sqlite3.connect(db).execute("vacuum")  # an empty file the plugin imports into
    metadata = os.path.join(workdir, "metadata.json")
    open(metadata, "w").write('{"plugins": {"datasette-upload-csvs": {}}}')
    port = free_port()
    log = open(os.path.join(workdir, "server.log"), "w+")
    proc = subprocess.Popen(
        [binary, "serve", db, "-m", metadata, "--secret", SECRET, "-p", str(port), "--root",
         "--setting", "max_post_body_bytes", str(1 << 30)],
        stdout=subprocess.DEVNULL, stderr=log,
    )
    for _ in range(200):
        log.seek(0)
        found = re.search(r"(http://\S+/-/auth-token\?token=\S+)", log.read())
        if found:
            return proc, port, found.group(1)
        time.sleep(0.1)
    sys.exit("the server did not start")


def import_through_plugin(binary, csv_path, rows):
    with tempfile.TemporaryDirectory() as workdir:
        proc, port, root_link = start(binary, workdir)
        try:
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(jar), NoRedirect())
            try:
                opener.open(root_link)
            except urllib.error.HTTPError:
                pass  # the redirect after signing in
            form = opener.open(f"http://127.0.0.1:{port}/-/upload-csvs").read().decode()
            token = html.unescape(re.search(r'name="csrftoken" value="([^"]+)"', form).group(1))
            boundary = "----bench-upload-boundary"
            body = (
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrftoken\"\r\n\r\n"
                f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"csv\"; "
                f"filename=\"bench.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            ).encode() + open(csv_path, "rb").read() + f"\r\n--{boundary}--\r\n".encode()
            before = vm_hwm_kib(proc.pid)
            started = time.time()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/-/upload-csvs", data=body, method="POST",
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                         "Accept": "application/json"},
            )
            opener.open(request).read()
            answered = time.time() - started
            progress = f"http://127.0.0.1:{port}/data/_csv_progress_.json?_shape=array"
            while True:
                state = json.loads(opener.open(progress).read())[0]
                if state.get("error"):
                    sys.exit(f"the import failed: {state['error']}")
                if state.get("completed"):
                    break
                time.sleep(0.05)
            took = time.time() - started
            assert state["rows_done"] == rows, state
            return took, answered, (vm_hwm_kib(proc.pid) - before) / 1024
        finally:
            proc.terminate()
            proc.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sqlite_utils(path, csv_path, detect_flag):
    with tempfile.TemporaryDirectory() as workdir:
        args = [path, "insert", os.path.join(workdir, "db.db"), "t", csv_path, "--csv"]
        if detect_flag:
            args.append("--detect-types")
        started = time.time()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        return time.time() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("datasette_rs")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--sqlite-utils")
    parser.add_argument("--no-detect-flag", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        csv_path = os.path.join(workdir, "bench.csv")
        write_csv(csv_path, args.rows)
        size = os.path.getsize(csv_path) / 1e6
        took, answered, grew = import_through_plugin(args.datasette_rs, csv_path, args.rows)
        print(f"{args.rows} rows, {size:.1f} MB")
        print(f"| importer | seconds | rows/s |")
        print(f"| --- | ---: | ---: |")
        print(f"| datasette-upload-csvs (answered after {answered:.2f} s; peak memory +{grew:.1f} MiB) "
              f"| {took:.2f} | {args.rows / took:,.0f} |")
        if args.sqlite_utils:
            su = sqlite_utils(args.sqlite_utils, csv_path, not args.no_detect_flag)
            print(f"| sqlite-utils insert --csv | {su:.2f} | {args.rows / su:,.0f} |")
            print(f"\nratio: {su / took:.1f}x")


if __name__ == "__main__":
    main()
