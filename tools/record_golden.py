#!/usr/bin/env python3
"""Records Datasette's answers to the parity requests into tests/golden/parity.json.

Usage: python3 tools/record_golden.py PATH/TO/datasette   (a Datasette 0.65 executable)

It builds the golden fixture (tests/golden/build_fixture.py), serves it with
tests/golden/metadata.json on a free loopback port as the anonymous actor, and stores for each
path in PATHS its status, content type, `Link`, `Location` and `Content-Disposition` headers (null when absent) and body (parsed JSON,
or text). tests/compat.rs compares our answers with these, value by value.
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

# Each a request Datasette answers the way a client of it relies on.
PATHS = [
    # _shape=object keys are the rows' tilde-encoded path segments.
    "/fixture/measurements.json?_shape=object&_size=3",
    # _col/_nocol: each column once, keys first; bad names listed.
    "/fixture/stations.json?_col=name&_col=name&_col=elevation_m&_nocol=elevation_m&_size=2",
    "/fixture/stations.json?_col=bad&_col=worse",
    "/fixture/stations.json?_nocol=id",
    "/fixture/stations.json?_nocol=bad",
    # Sorting errors, sortable_columns.
    "/fixture/stations.json?_sort=nope",
    "/fixture/cities.json?_sort=country",
    # _where and its errors.
    "/fixture/stations.json?_where=id+%3E+10&_col=name",
    "/fixture/stations.json?_where=id+%3E",
    "/fixture.json?sql=select+*+from",
    # The Link header to the next page, on the bare shapes too.
    "/fixture/stations.json?_size=5&_shape=array",
    "/fixture/stations.json?_size=5&_shape=arrays&_next=10",
    # _labels / _label: foreign key values with the labels of the rows they point to.
    "/fixture/measurements.json?_labels=on&_size=3",
    "/fixture/measurements.json?_label=station_id&_shape=array&_size=2",
    "/fixture/measurements.json?_shape=object&_labels=1&_size=2",
    "/fixture/measurements.json?_label=temp_c&_size=1",
    "/fixture/measurements.csv?_labels=on&_size=3",
    # The front page by relationships; foreign keys in SQLite's order.
    "/.json?_sort=relationships",
    # CSV options on a page: no header line, a file to save.
    "/fixture/stations.csv?_size=2&_header=off",
    "/fixture/stations.csv?_size=2&_dl=1",
    # Full-text search of one column, several columns, a view through _fts_table/_fts_pk.
    "/fixture/cities.json?_search_name=hafen&_size=2&_col=name",
    "/fixture/cities.json?_search_country=polska&_search_name=k*&_searchmode=raw&_size=3&_col=name",
    "/fixture/cities.json?_search_nope=x",
    "/fixture/big_cities.json?_search=hafen&_fts_table=cities_fts&_fts_pk=id&_size=3",
    # _json=COLUMN: text holding JSON written as JSON (what does not parse stays text).
    "/fixture/cities.json?_json=tags&_json=name&_size=2&_col=tags",
    "/fixture.json?sql=select+%27%5B1%2C2%5D%27+as+j%2C+%27x%27+as+k&_json=j&_json=k&_shape=array",
    # Two facets on one column.
    "/fixture/cities.json?_facet=tags&_facet_array=tags&_facet_size=2&_size=0",
    # A facet on a foreign key: its values labelled with the rows they point to.
    "/fixture/measurements.json?_facet=station_id&_size=0&_facet_size=3",
    # A row's incoming keys with counts and links.
    "/fixture/stations/1.json?_extras=foreign_key_tables",
    # Old names that moved.
    "/-/config.json",
    "/-/config",
    "/:memory:.json?sql=select+1",
    # SQL that does not begin as a read.
    "/fixture.json?sql=.schema",
    "/fixture.json?sql=update+stations+set+name+%3D+1",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(opener, base, path):
    try:
        r = opener.open(base + path)
    except urllib.error.HTTPError as e:
        r = e
    # Recorded as if served on the port the golden files name.
    body = r.read().decode("utf-8").replace(base, "http://127.0.0.1:8001")
    ctype = r.headers.get("content-type", "")
    headers = {
        h: r.headers[h].replace(base, "http://127.0.0.1:8001") if r.headers.get(h) else None
        for h in ("link", "location", "content-disposition")
    }
    return {
        "path": path,
        "status": r.status,
        "content_type": ctype,
        "headers": headers,
        "body": json.loads(body) if ctype.startswith("application/json") else body,
    }


def main():
    datasette = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "fixture.db")
        subprocess.run([sys.executable, os.path.join(GOLDEN, "build_fixture.py"), db], check=True)
        port = free_port()
        server = subprocess.Popen(
            [datasette, "serve", db, "-m", os.path.join(GOLDEN, "metadata.json"),
             "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/-/versions.json")
                    break
                except OSError:
                    time.sleep(0.1)
            opener = urllib.request.build_opener(NoRedirect)
            entries = [fetch(opener, base, p) for p in PATHS]
        finally:
            server.terminate()
            server.wait()
    with open(os.path.join(GOLDEN, "parity.json"), "w") as f:
        json.dump(entries, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"recorded {len(entries)} responses")


if __name__ == "__main__":
    main()
