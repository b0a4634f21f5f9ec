"""The import graph between the host's top-level modules, and any cycle in it.

    python3 tools/module_graph.py [crates/host/src]

An edge A -> B means a file of module A names `crate::B`. Prints the edges, then each
cycle found (none: "no cycles").
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "crates/host/src"
modules = sorted(
    n[:-3] if n.endswith(".rs") else n
    for n in os.listdir(root)
    if n not in ("lib.rs", "main.rs") and (n.endswith(".rs") or os.path.isdir(os.path.join(root, n)))
)
edges = {m: set() for m in modules}
for m in modules:
    path = os.path.join(root, m)
    files = [path + ".rs"] if os.path.exists(path + ".rs") else [
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".rs")
    ]
    for f in files:
        text = open(f).read()
        # Test modules may reach anywhere.
        text = text.split("#[cfg(test)]")[0]
        for other in re.findall(r"crate::(\w+)", text):
            if other in edges and other != m:
                edges[m].add(other)
for m in modules:
    print(f"{m} -> {', '.join(sorted(edges[m])) or '-'}")


def cycles():
    found, stack, on = [], [], set()
    def walk(n):
        stack.append(n); on.add(n)
        for o in sorted(edges[n]):
            if o in on:
                found.append(stack[stack.index(o):] + [o])
            elif not any(o in c for c in found):
                walk(o)
        stack.pop(); on.discard(n)
    for m in modules:
        walk(m)
    return {" -> ".join(c) for c in found}


cs = cycles()
print("\n".join(sorted(cs)) if cs else "no cycles")
