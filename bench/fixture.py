"""Deterministic benchmark fixture.

    python3 bench/fixture.py OUT.db [ROWS]

items:    ROWS rows (default 100,000): integer pk, text, a 20-value indexed category,
          a real, a timestamp, a nullable column and unicode text.
readings: ROWS / 2 rows with a compound primary key (station, ts).
secrets:  a small protected table.
"""
import random
import sqlite3
import sys
from datetime import datetime, timedelta

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
rng = random.Random(20261127)
categories = [f"cat-{i:02d}" for i in range(20)]
words = ["alpha", "Bravo", "charlie", "délta", "écho", "foxtrot", "गोल्फ", "hotel", "インド", "juliet"]
start = datetime(2020, 1, 1)

conn = sqlite3.connect(out)
conn.executescript(
    """
    PRAGMA journal_mode = OFF;
    PRAGMA synchronous = OFF;
    DROP TABLE IF EXISTS items;
    DROP TABLE IF EXISTS readings;
    DROP TABLE IF EXISTS secrets;
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        category TEXT NOT NULL,
        price REAL NOT NULL,
        created TEXT NOT NULL,
        note TEXT,
        label TEXT NOT NULL
    );
    CREATE TABLE readings (
        station TEXT NOT NULL,
        ts TEXT NOT NULL,
        value REAL,
        PRIMARY KEY (station, ts)
    );
    CREATE TABLE secrets (id INTEGER PRIMARY KEY, secret TEXT);
    """
)


def items():
    for i in range(1, rows + 1):
        yield (
            i,
            f"item {i} {rng.choice(words)}",
            rng.choice(categories),
            round(rng.uniform(0.5, 999.5), 2),
            (start + timedelta(seconds=rng.randrange(0, 5 * 365 * 86400))).isoformat(),
            None if rng.random() < 0.3 else f"note {rng.randrange(1000)}",
            f"{rng.choice(words)} {rng.choice(words)} ✓",
        )


conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)", items())
conn.execute("CREATE INDEX items_category ON items (category)")


def readings():
    for i in range(rows // 2):
        yield (
            f"station-{i % 50:02d}",
            (start + timedelta(minutes=i)).isoformat(),
            round(rng.gauss(15, 8), 3),
        )


conn.executemany("INSERT INTO readings VALUES (?, ?, ?)", readings())
conn.executemany(
    "INSERT INTO secrets VALUES (?, ?)", [(i, f"secret {i}") for i in range(1, 101)]
)
conn.commit()
conn.execute("VACUUM")
conn.close()
