"""The import graph between the host's top-level modules, or between its files, and any cycle.

    python3 tools/module_graph.py [crates/host/src]            # top-level modules
    python3 tools/module_graph.py --files [crates/host/src]    # every file

An edge A -> B means a file of module A names `crate::B` (with --files: file A names
something of file B, through `crate::`, `super::` or `self::` paths). A module's file naming
its own submodules (declaring them, calling into them) is not an edge: only files that are
not each other's ancestors can make a circle. Prints the edges, then each cycle found (none:
"no cycles").
"""
import os
import re
import sys

args = [a for a in sys.argv[1:] if a != "--files"]
root = args[0] if args else "crates/host/src"
by_file = "--files" in sys.argv[1:]


def file_graph():
    """Module path (`views::table::html`) -> the module paths its file names."""
    paths = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            if not f.endswith(".rs") or (d == root and f in ("lib.rs", "main.rs")):
                continue
            rel = os.path.relpath(os.path.join(d, f), root)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            paths["::".join(rel)] = os.path.join(d, f)
    known = set(paths)

    def resolve(parts):
        # The longest prefix that is a file of its own.
        for n in range(len(parts), 0, -1):
            if "::".join(parts[:n]) in known:
                return "::".join(parts[:n])
        return None

    edges = {m: set() for m in known}
    for m, f in paths.items():
        text = open(f).read().split("#[cfg(test)]")[0]
        here = m.split("::")
        # `super::` is the parent of a file's module; a `mod.rs` is its module itself.
        parent = here[:-1]
        refs = []
        for base, rest, group in re.findall(r"\b(crate|super|self)((?:::\w+)*)(?:::\{([^}]*)\})?", text):
            start = {"crate": [], "super": parent, "self": here}[base]
            tail = [p for p in rest.split("::") if p]
            names = [n.strip().split("::")[0] for n in group.split(",")] if group else [""]
            for n in names:
                refs.append(start + tail + ([n] if n and n != "self" else []))
        for parts in refs:
            target = resolve(parts)
            if target and target != m and not target.startswith(m + "::") and not m.startswith(target + "::"):
                edges[m].add(target)
    return sorted(known), edges
modules = sorted(
    n[:-3] if n.endswith(".rs") else n
    for n in os.listdir(root)
    if n not in ("lib.rs", "main.rs") and (n.endswith(".rs") or os.path.isdir(os.path.join(root, n)))
)
edges = {m: set() for m in modules}
if by_file:
    modules, edges = file_graph()
for m in ([] if by_file else modules):
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
