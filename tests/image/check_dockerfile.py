#!/usr/bin/env python3
"""Checks that the Dockerfile stays in step with the build and the image.

Usage: check_dockerfile.py DOCKERFILE DOCKERIGNORE MAKEFILE BINARY ARCHIVE
(the build context is the directory of DOCKERIGNORE)

The Dockerfile cannot be built here (no Docker daemon, no base image), so
this checks what can be checked offline: the instructions parse; the
runtime stage installs the Debian package of every library the binary
loads (ldd) and nothing the link line does not name; the build stage
installs the -dev package of every library on the Makefile's link line;
the base image is the Debian release of this machine; the files it copies
exist and pass .dockerignore; and USER, EXPOSE, STOPSIGNAL, ENTRYPOINT and
CMD match the image `make image` built. Prints "ok"/"not ok" lines.
"""
import fnmatch
import glob
import json
import os
import re
import subprocess
import sys

from oci import Image

KEYWORDS = {"FROM", "RUN", "COPY", "ADD", "WORKDIR", "USER", "EXPOSE", "STOPSIGNAL", "ENTRYPOINT", "CMD",
            "ENV", "ARG", "LABEL", "HEALTHCHECK", "SHELL", "VOLUME", "ONBUILD"}
failed = 0

# Runtime packages that are data, not libraries, and why the image needs them.
RUNTIME_DATA = {
    "ca-certificates": "the system CA store, which verifies https mirrors without a tls.ca_file",
}


def check(cond, name, detail=""):
    global failed
    print(f"ok - {name}" if cond else f"not ok - {name}: {detail}")
    failed += 0 if cond else 1


def instructions(path):
    """[(stage index, KEYWORD, arguments)] with continuations joined."""
    out, stage, cur = [], -1, ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.lstrip().startswith("#"):
                continue
            cur += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
            if line.endswith("\\"):
                continue
            word, _, args = cur.strip().partition(" ")
            if word.upper() == "FROM":
                stage += 1
            out.append((stage, word.upper() if word.upper() == word else word, args.strip()))
            cur = ""
    return out


def apt_packages(args):
    """Package names of every `apt-get install` in a RUN line."""
    pkgs = []
    for cmd in re.split(r"&&|;", args):
        words = cmd.split()
        if words[:2] == ["apt-get", "install"]:
            pkgs += [w for w in words[2:] if not w.startswith("-")]
    return pkgs


def owner(path):
    """The Debian package that holds <path> (symlinks followed), or None."""
    for p in (path, os.path.realpath(path)):
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0]
    return None


def ldd_libs(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    return [m.group(1) for m in re.finditer(r"=> (/\S+)", out)]


def link_libs(makefile):
    """Library names of the -l options on LDLIBS."""
    with open(makefile) as f:
        for line in f:
            if re.match(r"LDLIBS\s*:?=", line):
                return re.findall(r"-l(\S+)", line)
    return []


def main():
    dockerfile, dockerignore, makefile, binary, archive = sys.argv[1:6]
    ins = instructions(dockerfile)
    bad = [k for _, k, _ in ins if k not in KEYWORDS]
    check(not bad, "every Dockerfile instruction is a known keyword in upper case", str(bad))
    froms = [a for _, k, a in ins if k == "FROM"]
    check(len(froms) == 2 and froms[0].split()[-2:] == ["AS", "build"], "two stages, the first named build", str(froms))
    codename = ""
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                codename = line.split("=", 1)[1].strip()
    check(all(f.split()[0] == f"debian:{codename}-slim" for f in froms),
          f"both stages are debian:{codename}-slim, the release the tests link against", str(froms))

    build = [p for s, k, a in ins if s == 0 and k == "RUN" for p in apt_packages(a)]
    runtime = [p for s, k, a in ins if s == 1 and k == "RUN" for p in apt_packages(a)]

    # Runtime: the package of each loaded library, libc6 aside (in the base).
    needed = {}
    for lib in ldd_libs(binary):
        pkg = owner(lib)
        if pkg and pkg != "libc6":
            needed[pkg] = lib
    check(set(needed) <= set(runtime), "runtime stage installs the package of every library ldd lists",
          f"missing {sorted(set(needed) - set(runtime))} (ldd: {needed})")
    named = set(link_libs(makefile))
    for pkg in runtime:
        if pkg in RUNTIME_DATA:
            check(True, f"runtime package {pkg} is data the agent reads: {RUNTIME_DATA[pkg]}")
            continue
        listing = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True).stdout.split()
        sonames = {re.sub(r"^lib|\.so.*$", "", os.path.basename(p)) for p in listing if re.search(r"\.so\.\d", p)}
        check(pkg in needed or sonames & named, f"runtime package {pkg} provides a library the binary links",
              f"provides {sorted(sonames)}, link line names {sorted(named)}")

    # Build: the -dev package of each -l library, plus a compiler and make.
    dev = {}
    for name in sorted(named):
        hits = glob.glob(f"/usr/lib/*/lib{name}.so") + glob.glob(f"/usr/lib/lib{name}.so")
        pkg = owner(hits[0]) if hits else None
        if pkg is None and name in ("m", "pthread"):
            pkg = "libc6-dev"  # libc's stubs
        dev[name] = pkg
    check(all(dev.values()), "every -l library has a -dev package here", str(dev))
    want = {p for p in dev.values() if p} | {"gcc", "make", "libc6-dev"}
    check(want <= set(build), "build stage installs the compiler, make and every -dev package of the link line",
          f"missing {sorted(want - set(build))}")
    runs = " ".join(a for s, k, a in ins if s == 0 and k == "RUN")
    check(re.search(r"\bmake build/spoa-shadow\b", runs), "build stage runs `make build/spoa-shadow`")

    # Copied files exist and .dockerignore lets them through.
    with open(dockerignore) as f:
        rules = [line.strip() for line in f if line.strip() and not line.startswith("#")]

    def included(path):
        keep = True
        for r in rules:
            neg = r.startswith("!")
            pat = r[1:] if neg else r
            if fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat.rstrip("/") + "/*") or path == pat.rstrip("/"):
                keep = neg
        return keep
    root = os.path.dirname(os.path.abspath(dockerignore))
    for s, k, a in ins:
        if k == "COPY" and "--from=" not in a:
            for src in a.split()[:-1]:
                p = os.path.join(root, src)
                files = [src] if os.path.isfile(p) else \
                    [os.path.relpath(os.path.join(d, n), root) for d, _, ns in os.walk(p) for n in ns]
                check(files and all(included(x) for x in files), f"COPY {src} exists and passes .dockerignore")

    # Same runtime contract as the buildah image.
    cfg = Image(archive).config["config"]
    last = {k: a for s, k, a in ins if s == 1}
    check(last.get("USER") == cfg.get("User"), "USER matches the image", f"{last.get('USER')} vs {cfg.get('User')}")
    check(set(last.get("EXPOSE", "").split()) == set(cfg.get("ExposedPorts", {})), "EXPOSE matches the image")
    check(last.get("STOPSIGNAL") == cfg.get("StopSignal"), "STOPSIGNAL matches the image")
    check(json.loads(last.get("ENTRYPOINT", "null")) == cfg.get("Entrypoint"), "ENTRYPOINT matches the image")
    check(json.loads(last.get("CMD", "null")) == cfg.get("Cmd"), "CMD matches the image")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
