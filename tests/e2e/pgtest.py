"""Shared fixtures of the end-to-end tests.

Every test drives the real perfguard binary ($PERFGUARD) as a subprocess,
on real Python scripts, in real git repositories made in temporary
directories. Nothing here imitates perfguard; it only sets the scene and
reads what perfguard wrote.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

PERFGUARD = os.environ.get("PERFGUARD", "perfguard")
SOURCE = os.environ.get(
    "PERFGUARD_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PYTHON = "/usr/bin/python3"


def run(args, cwd, env=None, timeout=600, input=None):
    """Run perfguard with args in cwd; return CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.pop("GITHUB_ACTIONS", None)
    full_env.pop("GITHUB_EVENT_NAME", None)
    full_env.pop("GITHUB_EVENT_PATH", None)
    if env:
        full_env.update(env)
    return subprocess.run([PERFGUARD] + list(args), cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout,
                          input=input)


_clock = [1700000000]


def git(cwd, *args):
    """Run git in cwd with a fixed identity and a clock that advances one
    minute per call, so commit dates order commits; return stdout."""
    _clock[0] += 60
    date = "%d +0000" % _clock[0]
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t",
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    r = subprocess.run(["git"] + list(args), cwd=cwd, env=env,
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


class Case(unittest.TestCase):
    """A test case with a fresh temporary directory."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pg-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, rel, text, root=None):
        path = os.path.join(root or self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))
        return path

    def read(self, rel, root=None):
        with open(os.path.join(root or self.tmp, rel)) as f:
            return f.read()

    def repo(self, files, name="repo"):
        """A git repository with one commit on main holding files."""
        root = os.path.join(self.tmp, name)
        os.makedirs(root)
        git(root, "init", "-q", "-b", "main")
        for rel, text in files.items():
            self.write(rel, text, root)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        return root

    def commit(self, root, files, message="change", branch=None):
        if branch:
            git(root, "checkout", "-q", "-b", branch)
        for rel, text in files.items():
            self.write(rel, text, root)
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", message)
        return git(root, "rev-parse", "HEAD")

    def assertExit(self, proc, code):
        self.assertEqual(proc.returncode, code,
                         "exit %d, expected %d\n--- stdout\n%s\n--- stderr\n%s"
                         % (proc.returncode, code, proc.stdout, proc.stderr))
