#!/usr/bin/env python3
"""Writes the licence notices of everything compiled into the whatap binary for one target:
every crate it links (from `cargo metadata`, normal dependencies only: build tools are not in
the binary), the Rust standard library and musl libc (statically linked). Each distinct
licence text is written once, with the crates that ship it.

Usage: scripts/third-party-licenses.py TARGET-TRIPLE > THIRD-PARTY-LICENSES.txt
"""

import html.parser
import json
import os
import re
import subprocess
import sys

LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|COPYRIGHT|NOTICE|UNLICENSE)", re.IGNORECASE)


def linked_packages(target):
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--locked", "--format-version", "1", "--filter-platform", target],
            check=True,
            capture_output=True,
        ).stdout
    )
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    seen, todo = set(), [root]
    while todo:
        node = nodes[todo.pop()]
        # A proc-macro runs in the compiler; what it depends on is not in the binary.
        if node["id"] != root and is_proc_macro(packages[node["id"]]):
            continue
        for dep in node["deps"]:
            normal = any(k["kind"] is None for k in dep["dep_kinds"])
            if normal and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append(dep["pkg"])
    linked = (packages[i] for i in seen if not is_proc_macro(packages[i]))
    return sorted(linked, key=lambda p: (p["name"], p["version"]))


def is_proc_macro(package):
    return any("proc-macro" in t["kind"] for t in package["targets"])


def licence_texts(package):
    """The licence files a crate ships, as (file name, text)."""
    root = os.path.dirname(package["manifest_path"])
    names = sorted(n for n in os.listdir(root) if LICENSE_FILE.match(n))
    if package.get("license_file"):
        names.append(package["license_file"])
    texts = []
    for name in dict.fromkeys(names):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                texts.append((name, f.read().strip() + "\n"))
    return texts


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def rust_std_notice():
    sysroot = subprocess.run(
        ["rustc", "--print", "sysroot"], check=True, capture_output=True, text=True
    ).stdout.strip()
    path = os.path.join(sysroot, "share", "doc", "rust", "COPYRIGHT-library.html")
    if not os.path.exists(path):
        return "The Rust Standard Library: Apache-2.0 OR MIT (https://www.rust-lang.org/policies/licenses)\n"
    parser = Text()
    with open(path, encoding="utf-8") as f:
        parser.feed(f.read())
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip() + "\n"


def musl_notice():
    path = "/usr/share/doc/musl/copyright"
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return f.read().strip() + "\n"
    return "musl libc: MIT, Copyright © 2005-2020 Rich Felker, et al. (https://musl.libc.org)\n"


def main():
    target = sys.argv[1]
    packages = linked_packages(target)
    out = sys.stdout
    rule = "=" * 78 + "\n"
    out.write(f"Third-party software in whatap for {target}\n{rule}\n")
    out.write("Crates (name version: licence, source):\n")
    groups = {}  # licence text, spacing folded -> (text, crates that ship it)
    missing = []
    for p in packages:
        out.write(f"  {p['name']} {p['version']}: {p['license'] or 'see its licence file'}")
        out.write(f", {p['repository']}\n" if p.get("repository") else "\n")
        texts = licence_texts(p)
        if not texts:
            missing.append(p)
        for name, text in texts:
            # Copies that differ only in spacing are one text.
            group = groups.setdefault(" ".join(text.split()), (text, []))
            group[1].append(f"{p['name']} {p['version']} ({name})")
    if "musl" in target:
        out.write("  musl libc (statically linked): MIT\n")
    out.write("  The Rust Standard Library: Apache-2.0 OR MIT\n\n")
    for p in missing:
        out.write(
            f"{p['name']} {p['version']} ships no licence file; its licence is {p['license']}.\n"
        )
    for text, users in groups.values():
        out.write(rule + "Used by: " + ", ".join(users) + "\n" + rule + text + "\n")
    if "musl" in target:
        out.write(rule + "musl libc\n" + rule + musl_notice() + "\n")
    out.write(rule + "The Rust Standard Library\n" + rule + rust_std_notice())


if __name__ == "__main__":
    main()
