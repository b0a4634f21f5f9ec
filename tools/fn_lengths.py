"""The longest Rust functions of a tree, by lines from `fn` to its closing brace.

    python3 tools/fn_lengths.py [DIR] [N]

Counts every `fn` with a body in the `.rs` files under DIR (default: crates and plugins),
outside `#[cfg(test)]` modules, and prints the N (default 10) longest.
"""
import os
import re
import sys

roots = [sys.argv[1]] if len(sys.argv) > 1 else ["crates", "plugins"]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
found = []
for root in roots:
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(d, f)
            lines = open(path).read().split("#[cfg(test)]")[0].split("\n")
            for i, line in enumerate(lines):
                m = re.match(r"\s*(pub(\(\w+\))?\s+)?(async\s+)?(const\s+)?(unsafe\s+)?(extern \"C\"\s+)?fn (\w+)", line)
                if not m:
                    continue
                depth, started = 0, False
                for j in range(i, len(lines)):
                    depth += lines[j].count("{") - lines[j].count("}")
                    started = started or "{" in lines[j]
                    if started and depth <= 0:
                        found.append((j - i + 1, f"{path}:{i + 1} {m.group(7)}"))
                        break
                    if not started and lines[j].rstrip().endswith(";"):
                        break
for length, where in sorted(found, reverse=True)[:n]:
    print(f"{length:5} {where}")
