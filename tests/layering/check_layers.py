#!/usr/bin/env python3
"""Checks the layering of spoa/: every #include "layer/file.h" must name a
folder the including file's layer may use, <ev.h> may appear only where the
event loop is allowed, <openssl/...> only in the TLS files of the mirror
client's adapter, <nghttp2/...> only in its HTTP/2 file, and headers must not include one another in a cycle.

Usage: check_layers.py [SPOA_DIR]   (default: the spoa/ beside tests/)
Prints one line per violation ("file:line: ...") and exits 1 when there is any.
"""
import os
import re
import sys

# Rank of each layer: a file may include its own folder and any folder of a
# lower rank, never one of its own rank or above.
RANK = {
    "core": 0,
    "spop": 1, "config": 1, "http": 1,
    "capture": 2,
    "compare": 3,
    "mirror": 4,
    "replay": 5, "admin": 5,
    "app": 6,
}

# Files that may use libev (<ev.h>): the I/O layer only.
EV_ALLOWED = ("app/", "admin/admin.c", "replay/", "mirror/mirror_client_ev.c", "mirror/mirror_client_ev.h")

# Files that may use OpenSSL (<openssl/...>): the TLS part of the mirror
# client's I/O adapter only.
TLS_ALLOWED = ("mirror/tls_client.c", "mirror/tls_conn.c", "mirror/tls_impl.h")

# Files that may use nghttp2 (<nghttp2/...>): the mirror client's HTTP/2
# connections only.
H2_ALLOWED = ("mirror/mirror_h2.c",)

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def scan(root):
    problems = []
    graph = {}
    for layer in sorted(os.listdir(root)):
        ldir = os.path.join(root, layer)
        if not os.path.isdir(ldir):
            continue
        if layer not in RANK:
            problems.append(f"{layer}/: a folder that is not a known layer ({', '.join(RANK)})")
            continue
        for name in sorted(os.listdir(ldir)):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"{layer}/{name}"
            graph[rel] = []
            with open(os.path.join(ldir, name), encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    kind, target = m.groups()
                    where = f"spoa/{rel}:{lineno}"
                    if kind == "<":
                        if target == "ev.h" and not rel.startswith(EV_ALLOWED):
                            problems.append(f"{where}: includes <ev.h>, but libev is allowed only in "
                                            + ", ".join(EV_ALLOWED))
                        if target.startswith("openssl/") and rel not in TLS_ALLOWED:
                            problems.append(f"{where}: includes <{target}>, but OpenSSL is allowed only in "
                                            + ", ".join(TLS_ALLOWED))
                        if target.startswith("nghttp2/") and rel not in H2_ALLOWED:
                            problems.append(f"{where}: includes <{target}>, but nghttp2 is allowed only in "
                                            + ", ".join(H2_ALLOWED))
                        continue
                    if "/" not in target:
                        problems.append(f'{where}: includes "{target}" without its layer folder')
                        continue
                    tlayer = target.split("/", 1)[0]
                    if tlayer not in RANK:
                        problems.append(f'{where}: includes "{target}" from an unknown layer')
                        continue
                    if tlayer != layer and RANK[tlayer] >= RANK[layer]:
                        problems.append(f'{where}: includes "{target}": layer {layer} may not use '
                                        f'{tlayer} (same level or above)')
                    graph[rel].append((target, lineno))
    problems += cycles(graph)
    return problems


def cycles(files):
    """Include cycles among modules (a module is x.c with its x.h): x depends
    on y when x.c or x.h includes y.h. Each cycle is reported once."""
    graph = {}
    for rel, targets in files.items():
        deps = graph.setdefault(rel.rsplit(".", 1)[0], [])
        for target, _ in targets:
            mod = target.rsplit(".", 1)[0]
            if mod != rel.rsplit(".", 1)[0] and mod not in deps:
                deps.append(mod)
    graph = {k: [(d, 0) for d in v] for k, v in graph.items()}
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for target, _ in graph.get(node, []):
            if target not in graph:
                continue
            if state.get(target) == 1:
                loop = stack[stack.index(target):] + [target]
                found.append("include cycle: " + " -> ".join(f"spoa/{n}.[ch]" for n in loop))
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "spoa")
    problems = scan(root)
    for p in problems:
        print(p)
    if problems:
        print(f"layering: {len(problems)} violation(s)")
        return 1
    print("layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
