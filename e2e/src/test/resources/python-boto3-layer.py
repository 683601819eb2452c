#!/usr/bin/env python3
"""Stages the one layer of a Python image with boto3, from the interpreter that runs this script.

Usage: <venv>/bin/python python-boto3-layer.py LAYER_DIR

The node pulls nothing, so the image is made from this machine: the interpreter and its standard
library at their own absolute paths (Python finds its prefix from its executable), the shared
libraries the interpreter and its C extension modules load (their ldd closure, the dynamic loader
included), and the venv's site-packages as /app/site-packages (for PYTHONPATH) without the AWS CLI,
pip or setuptools, and with botocore's data cut to what a Secrets Manager client loads.
"""
import os
import re
import shutil
import subprocess
import sys
import sysconfig

SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages"}
SKIP_SITE = {"awscli", "pip", "setuptools", "docutils", "_distutils_hack", "pkg_resources", "yaml", "_yaml"}


def copy_file(src, layer):
    dst = layer + src
    if os.path.exists(dst):
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(src, dst)  # follows links: the file's content under the name the loader asks for


def closure(binaries):
    found = set()
    for binary in binaries:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = re.search(r"(/\S+) \(0x", line)
            if m:
                found.add(m.group(1))
    return found


def main(layer):
    prefix = sys.base_prefix
    executable = os.path.realpath(os.path.join(prefix, "bin", "python3"))
    stdlib = sysconfig.get_paths(vars={"base": prefix, "installed_base": prefix})["stdlib"]
    copy_file(executable, layer)
    os.symlink(os.path.basename(executable), layer + os.path.join(prefix, "bin", "python3"))
    shutil.copytree(
        stdlib,
        layer + stdlib,
        ignore=lambda d, names: [
            n for n in names if d == stdlib and (n in SKIP_STDLIB or n.startswith("config-"))
        ],
    )
    libs = [executable]
    for root, _, names in os.walk(layer + stdlib):
        libs += [os.path.join(root, n)[len(layer):] for n in names if n.endswith(".so")]
    for lib in closure(libs):
        copy_file(lib, layer)
    site = sysconfig.get_paths()["purelib"]
    target = os.path.join(layer, "app", "site-packages")
    shutil.copytree(
        site, target, ignore=lambda d, names: [n for n in names if d == site and n.split("-")[0] in SKIP_SITE]
    )
    data = os.path.join(target, "botocore", "data")
    for name in os.listdir(data):
        path = os.path.join(data, name)
        if os.path.isdir(path) and name != "secretsmanager":
            shutil.rmtree(path)
    os.makedirs(os.path.join(layer, "tmp"), exist_ok=True)


if __name__ == "__main__":
    main(sys.argv[1])
