#!/usr/bin/env python3
"""Checks the image archive that `make image` builds.

Usage: check_image.py ARCHIVE BINARY DEFAULT_CONFIG

The archive must be a valid OCI layout whose blobs match their digests; the
image config must run the agent as 10001:10001 with the expected entrypoint,
command, ports and labels; the filesystem must hold exactly the agent, the
libraries ldd lists for it, the loader, /etc/passwd, /etc/group,
/etc/nsswitch.conf and the default configuration. Prints "ok"/"not ok"
lines and a "# image:" line with its sizes; exits 1 on any failure.
"""
import os
import platform
import subprocess
import sys

from oci import Image

failed = 0


def check(cond, name, detail=""):
    global failed
    print(f"ok - {name}" if cond else f"not ok - {name}: {detail}")
    failed += 0 if cond else 1


def ldd_paths(binary):
    """The library paths ldd resolves for <binary>, loader included."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = set()
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > parts.index("=>") + 1 and parts[parts.index("=>") + 1].startswith("/"):
            paths.add(parts[parts.index("=>") + 1])
        elif parts and parts[0].startswith("/"):
            paths.add(parts[0])
    return paths


def main():
    archive, binary, default_config = sys.argv[1:4]
    img = Image(archive)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()[-1]

    check(img.layout.get("imageLayoutVersion") == "1.0.0", "archive is an OCI image layout")
    check(not img.digest_errors, "every blob matches its digest and size", "; ".join(img.digest_errors))
    check(img.ref_name == f"spoa-shadow:{version}", f"image is named spoa-shadow:{version}", str(img.ref_name))
    cfg = img.config.get("config", {})
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    check(img.config.get("os") == "linux" and img.config.get("architecture") == arch, f"linux/{arch} image",
          f"{img.config.get('os')}/{img.config.get('architecture')}")
    check(cfg.get("User") == "10001:10001", "runs as user 10001:10001", str(cfg.get("User")))
    check(cfg.get("Entrypoint") == ["/usr/local/bin/spoa-shadow"], "entrypoint is the agent", str(cfg.get("Entrypoint")))
    check(cfg.get("Cmd") == ["-c", "/etc/spoa-shadow/spoa-shadow.yaml"], "default command loads the default config",
          str(cfg.get("Cmd")))
    check(set(cfg.get("ExposedPorts", {})) == {"12345/tcp", "9901/tcp"}, "exposes the SPOP and admin ports",
          str(cfg.get("ExposedPorts")))
    labels = cfg.get("Labels", {})
    check(labels.get("org.opencontainers.image.title") == "spoa-shadow"
          and labels.get("org.opencontainers.image.version") == version, "OCI title and version labels", str(labels))
    check(not cfg.get("Env") or all(not e.startswith("LD_") for e in cfg["Env"]), "no loader environment set")

    files = {}
    dirs = set()
    size = 0
    for path, info, data in img.files():
        if info.isdir():
            dirs.add(path.rstrip("/"))
        else:
            files[path] = (info, data)
            size += info.size
    expected = {"/usr/local/bin/spoa-shadow", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
                "/etc/spoa-shadow/spoa-shadow.yaml"} | ldd_paths(binary)
    check(set(files) == expected, "filesystem holds exactly the agent, its libraries and its /etc files",
          f"extra {sorted(set(files) - expected)} missing {sorted(expected - set(files))}")
    check(all(i.isfile() for i, _ in files.values()), "every file is a regular file (no links)")
    check(all(i.uid == 0 and i.gid == 0 and not i.mode & 0o022 for i, _ in files.values()),
          "files are root-owned and not writable by the agent's user")
    check(not any(os.path.basename(p) in ("sh", "bash", "busybox") for p in files), "no shell in the image")

    passwd = files.get("/etc/passwd", (None, b""))[1].decode()
    group = files.get("/etc/group", (None, b""))[1].decode()
    users = [line.split(":") for line in passwd.splitlines()]
    check(any(u[2:4] == ["10001", "10001"] for u in users) and all(u[2] != "0" for u in users),
          "/etc/passwd has user 10001 and no root", passwd)
    check(any(g.split(":")[2] == "10001" for g in group.splitlines()), "/etc/group has group 10001", group)
    nss = files.get("/etc/nsswitch.conf", (None, b""))[1].decode()
    check(any(line.split()[:3] == ["hosts:", "files", "dns"] for line in nss.splitlines() if line.strip()),
          "nsswitch.conf resolves hosts from files then DNS", nss)
    with open(default_config, "rb") as f:
        check(files.get("/etc/spoa-shadow/spoa-shadow.yaml", (None, None))[1] == f.read(),
              "default config is k8s/image/spoa-shadow.yaml")
    agent = files.get("/usr/local/bin/spoa-shadow", (None, b""))
    check(agent[0] is not None and agent[0].mode & 0o111 and agent[0].size < os.path.getsize(binary),
          "agent is executable and stripped")
    print(f"# image: archive {os.path.getsize(archive) // 1024} KiB, filesystem {size // 1024} KiB "
          f"in {len(files)} files, {len(img.layers)} layer(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
