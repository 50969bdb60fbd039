#!/usr/bin/env python3
"""The manifest says the truth: every target of Package.swift imports exactly the modules it
declares (its dependencies' products or targets), and declares exactly what it imports.
Toolchain modules (Foundation, Glibc, XCTest, Synchronization, ...) need no declaration.
Exit 1 and a line per difference otherwise."""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOOLCHAIN = {"Foundation", "FoundationEssentials", "Glibc", "Darwin", "XCTest", "Synchronization", "Dispatch",
             "Testing", "_Concurrency", "Swift", "FoundationNetworking", "os"}

desc = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
problems = []
for t in desc["targets"]:
    if t["type"] == "system":
        continue
    name = t["name"]
    folder = ROOT / (t.get("path") or ("Tests/" + name if t["type"] == "test" else "Sources/" + name))
    declared = set()
    for d in t.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in d:
                declared.add(d[kind][0])
    imported = set()
    for f in folder.rglob("*.swift"):
        for m in re.finditer(r"^\s*(?:@testable\s+|@_exported\s+|public\s+|internal\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?(\w+)", f.read_text(), re.M):
            imported.add(m.group(1))
    c_sources = list(folder.rglob("*.c"))
    imported -= TOOLCHAIN
    for missing in sorted(imported - declared):
        problems.append(f"{name}: imports {missing} but does not declare it")
    for unused in sorted(declared - imported):
        if c_sources:
            continue
        problems.append(f"{name}: declares {unused} but never imports it")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
