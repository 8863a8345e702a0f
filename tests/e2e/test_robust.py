"""End-to-end tests of perfguard under faults and hostile input (issue 9).

Hostile scripts (NUL bytes, escaping children, workflow commands),
hostile files (devices, symlinks, pipes, a full disk), kills and Ctrl-C at
every fault-injection point of the store, concurrent writers and pushers,
a remote that rejects pushes, a bare repository. Every test drives the
real binary on real git repositories; processes are synchronised on
markers (pipes, "fault point" lines), never on sleeps.
"""
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest

from pgtest import Case, PERFGUARD, PYTHON, git, run
from test_baseline import APP as ROUNDS_APP

APP = ROUNDS_APP.format(rounds=1)

SUITE = """
python: {python}
trials: 2
max_trials: 2
warmup: 0
timeout: {timeout}
against: main
benchmarks:
  - name: app
    script: app.py
"""


def suite(timeout="60s", extra=""):
    return SUITE.format(python=PYTHON, timeout=timeout) + extra


def alive(pid):
    """True when pid is a process that is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_to_eof(fd, limit_s=120):
    """Read fd until every writer has closed it; the data read."""
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], limit_s)
        if not ready:
            raise AssertionError("a writer of the pipe is still alive: %r" % data)
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk


class Faulted:
    """perfguard started with PERFGUARD_FAULT=point, stopped there."""

    def __init__(self, args, cwd, point, env=None):
        full = dict(os.environ, PERFGUARD_FAULT=point)
        full.pop("GITHUB_ACTIONS", None)
        full.update(env or {})
        self.proc = subprocess.Popen([PERFGUARD] + args, cwd=cwd, env=full,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.seen = ""
        for line in self.proc.stderr:
            self.seen += line
            if "fault point %s reached" % point in line:
                return
        self.proc.wait()
        raise AssertionError("never reached fault point %s:\n%s" % (point, self.seen))

    def finish(self, sig):
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=120)
        return self.proc.returncode, out, self.seen + err


class RobustCase(Case):
    def make(self, extra_files=None, timeout="60s", extra="", name="repo"):
        files = {"app.py": APP, "perfguard.yml": suite(timeout, extra)}
        files.update(extra_files or {})
        return self.repo(files, name=name)

    def notes(self, root, ref="perfguard"):
        out = git(root, "notes", "--ref=" + ref, "list")
        return {line.split()[1] for line in out.splitlines()}


class RepositoryTests(RobustCase):
    def test_bare_repository_is_exit_2_with_the_message(self):
        root = self.make()
        bare = os.path.join(self.tmp, "bare.git")
        git(self.tmp, "clone", "-q", "--bare", root, bare)
        for args in (["baseline", "list"], ["check"], ["run"],
                     ["baseline", "update"]):
            p = run(args, cwd=bare)
            self.assertExit(p, 2)
            self.assertIn("this is a bare repository: run perfguard in a checkout",
                          p.stderr)


class ReadOnlyTests(RobustCase):
    def test_read_only_repository_is_exit_3_and_changes_nothing(self):
        root = self.make()
        self.assertExit(run(["run", "-o", "../r.json"], cwd=root), 0)
        if os.geteuid() == 0:
            # root writes anywhere: run perfguard as nobody, who can read
            # the repository but not write it.
            home = os.path.join(self.tmp, "home")
            os.mkdir(home)
            with open(os.path.join(home, ".gitconfig"), "w") as f:
                f.write("[safe]\n\tdirectory = %s\n" % root)
            os.chmod(self.tmp, 0o755)
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            env = dict(os.environ, HOME=home, TMPDIR=home)
            os.chmod(home, 0o777)
        else:
            prefix, env = [], dict(os.environ)
            for d, _, files in os.walk(os.path.join(root, ".git")):
                os.chmod(d, 0o555)
            self.addCleanup(lambda: [os.chmod(d, 0o755) for d, _, _ in
                                     os.walk(os.path.join(root, ".git"))])
        env.pop("GITHUB_ACTIONS", None)

        def pg(*args):
            return subprocess.run(prefix + [PERFGUARD] + list(args), cwd=root,
                                  env=env, capture_output=True, text=True,
                                  timeout=300)
        p = pg("baseline", "update", "--from", "../r.json")
        self.assertExit(p, 3)
        self.assertIn("Permission denied", p.stderr)
        self.assertEqual(self.notes(root), set())
        self.assertExit(pg("baseline", "list"), 0)
        self.assertExit(pg("compare", "../r.json", "../r.json"), 0)


class ChildProcessTests(RobustCase):
    """Everything a trial starts is gone when the trial ends."""

    def test_setsid_escapee_and_stdout_holder_are_killed_when_the_script_ends(self):
        # The script starts a daemon (fork, setsid, fork) and a child that
        # keeps writing to stdout, waits until both are up, and exits 0.
        script = """
import os, sys, time
r, w = os.pipe()
def daemon():
    os.setsid()
    if os.fork() == 0:
        open("pid-daemon-%d" % os.getpid(), "w").close()
        os.write(w, b"d")
        while True:
            time.sleep(1)
    os._exit(0)
if os.fork() == 0:
    daemon()
if os.fork() == 0:
    open("pid-writer-%d" % os.getpid(), "w").close()
    os.write(w, b"w")
    while True:
        sys.stdout.write("still here\\n" * 100)
        sys.stdout.flush()
got = b""
while len(got) < 2:
    got += os.read(r, 2)
"""
        root = self.make({"escape.py": script}, timeout="20s",
                         extra="  - name: escape\n    script: escape.py\n")
        p = run(["run", "-o", "r.json", "--bench", "escape"], cwd=root)
        self.assertExit(p, 0)
        doc = json.loads(self.read("r.json", root))
        self.assertEqual(doc["benchmarks"][0]["status"], "ok")
        pids = [int(f.rsplit("-", 1)[1]) for f in os.listdir(root) if f.startswith("pid-")]
        self.assertGreaterEqual(len(pids), 4)
        self.assertEqual([pid for pid in pids if alive(pid)], [])

    def test_kill_9_of_perfguard_ends_the_trial_and_the_next_run_sweeps_its_tmp(self):
        script = """
import os, time
fd = int(os.environ["READY_FD"])
if os.fork() == 0:
    os.setsid()
    os.write(fd, b"child up\\n")
    while True:
        time.sleep(1)
os.write(fd, b"script up\\n")
while True:
    time.sleep(1)
"""
        root = self.make({"hang.py": script},
                         extra="  - name: hang\n    script: hang.py\n")
        tmpdir = os.path.join(self.tmp, "tmpdir")
        os.mkdir(tmpdir)
        r, w = os.pipe()
        env = dict(os.environ, TMPDIR=tmpdir, READY_FD=str(w))
        proc = subprocess.Popen([PERFGUARD, "run", "-o", "r.json", "--bench", "hang"],
                                cwd=root, env=env, pass_fds=(w,),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        seen = b""
        while seen.count(b"up\n") < 2:
            chunk = os.read(r, 100)
            self.assertTrue(chunk, "the benchmark never started")
            seen += chunk
        left = [f for f in os.listdir(tmpdir) if f.startswith("perfguard-trial.")]
        self.assertTrue(left, "no trial directory while the trial runs")
        proc.kill()
        proc.wait()
        # EOF: every process that held the pipe (the script, its setsid
        # child, perfguard's keeper) is gone.
        read_to_eof(r)
        os.close(r)
        self.assertExit(run(["run", "-o", "r.json", "--bench", "app"], cwd=root,
                            env={"TMPDIR": tmpdir}), 0)
        self.assertEqual([f for f in os.listdir(tmpdir) if f.startswith("perfguard-")], [])


class EarlyCheckTests(RobustCase):
    """Problems found before anything runs are exit 2 with the fix."""

    def test_wall_without_hyperfine_is_exit_2_before_any_trial(self):
        root = self.make({"mark.py": "open('ran', 'w').close()\n"},
                         extra="  - name: mark\n    script: mark.py\n    wall: true\n")
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        os.symlink("/usr/bin/git", os.path.join(bindir, "git"))
        p = run(["run", "-o", "r.json"], cwd=root, env={"PATH": bindir})
        self.assertExit(p, 2)
        self.assertIn("hyperfine", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(root, "ran")))

    def test_script_outside_the_repository_is_exit_2(self):
        for script in ("../../../../etc/passwd", "sub/../../x.py"):
            root = self.make(extra="  - name: evil\n    script: %s\n" % script)
            p = run(["run", "-o", "r.json"], cwd=root)
            self.assertExit(p, 2)
            self.assertIn("outside the repository", p.stderr)
            os.rename(root, root + "-%d" % len(script))

    def test_script_symlinked_outside_the_repository_is_exit_2(self):
        root = self.make(extra="  - name: evil\n    script: link.py\n")
        outside = self.write("outside.py", "print('hi')\n")
        os.symlink(outside, os.path.join(root, "link.py"))
        p = run(["run", "-o", "r.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("outside the repository", p.stderr)

    def test_interpreter_that_is_not_python_says_so(self):
        root = self.repo({"app.py": APP,
                          "perfguard.yml": suite().replace(PYTHON, "/bin/echo")})
        p = run(["run", "-o", "r.json"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("'/bin/echo' is not a Python interpreter", p.stderr)


class PushTests(RobustCase):
    """--push exits 0 only when the note is on the remote."""

    def remote_with_clones(self, n):
        origin = self.make()
        self.assertExit(run(["run", "-o", "../r.json"], cwd=origin), 0)
        commits = []
        for i in range(n):
            git(origin, "checkout", "-q", "-b", "b%d" % i, "main")
            commits.append(self.commit(origin, {"f%d.txt" % i: "x"}))
        remote = os.path.join(self.tmp, "remote.git")
        git(self.tmp, "clone", "-q", "--bare", origin, remote)
        clones = []
        for i in range(n):
            path = os.path.join(self.tmp, "clone%d" % i)
            git(self.tmp, "clone", "-q", "--no-checkout", remote, path)
            git(path, "checkout", "-q", commits[i])
            with open(os.path.join(self.tmp, "r.json")) as f, \
                    open(os.path.join(path, "r.json"), "w") as g:
                g.write(f.read())
            clones.append(path)
        return remote, clones, commits

    def update(self, clone, commit):
        return ["baseline", "update", "--from", "r.json", "--commit", commit,
                "--allow-other-tree", "--push", "origin"]

    def test_rejecting_remote_is_exit_3_and_never_reported_as_pushed(self):
        remote, (clone,), (commit,) = self.remote_with_clones(1)
        hook = os.path.join(remote, "hooks", "pre-receive")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n")
        os.chmod(hook, 0o755)
        p = run(self.update(clone, commit), cwd=clone)
        self.assertExit(p, 3)
        self.assertIn("rejected by policy", p.stderr)
        self.assertIn("not on origin", p.stderr)
        self.assertNotIn("pushed refs/notes/perfguard", p.stderr)
        self.assertEqual(self.notes(clone), {commit})
        self.assertEqual(git(remote, "for-each-ref", "refs/notes"), "")

    def test_missing_remote_is_exit_3(self):
        _, (clone,), (commit,) = self.remote_with_clones(1)
        p = run(self.update(clone, commit)[:-1] + ["nowhere"], cwd=clone)
        self.assertExit(p, 3)
        self.assertIn("not on nowhere", p.stderr)

    def test_eight_concurrent_pushers_all_land(self):
        remote, clones, commits = self.remote_with_clones(8)
        procs = [subprocess.Popen([PERFGUARD] + self.update(c, commit), cwd=c,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
                 for c, commit in zip(clones, commits)]
        for p in procs:
            out, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, err)
        self.assertEqual(self.notes(remote), set(commits))


NUL_APP = """
import sys
sys.stdout.buffer.write(b"progress\\0\\n")
sys.stdout.flush()
raise RuntimeError("boom after the NUL")
"""


class ReportTests(RobustCase):
    """Hostile output, and report paths that are not plain files."""

    @classmethod
    def setUpClass(cls):
        # One base and one failing head results file serve every test.
        cls.shared = tempfile.mkdtemp(prefix="pg-e2e-")
        root = os.path.join(cls.shared, "repo")
        os.makedirs(root)
        git(root, "init", "-q", "-b", "main")
        for name, text in (("app.py", APP), ("perfguard.yml", suite())):
            with open(os.path.join(root, name), "w") as f:
                f.write(text)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        cls.base = os.path.join(cls.shared, "base.json")
        cls.head = os.path.join(cls.shared, "head.json")
        assert run(["run", "-o", cls.base], cwd=root).returncode == 0
        with open(os.path.join(root, "app.py"), "w") as f:
            f.write(NUL_APP)
        git(root, "commit", "-q", "-am", "nul")
        assert run(["run", "-o", cls.head], cwd=root).returncode == 3

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared, True)

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "reports")
        os.mkdir(self.root)

    def compare(self, *args, **kw):
        return run(["compare", self.base, self.head] + list(args), cwd=self.root, **kw)

    def test_nul_in_output_keeps_every_byte_in_every_report(self):
        with open(self.head) as f:
            stored = json.load(f)["benchmarks"][0]["output"]
        self.assertIn("progress\0\n", stored)
        self.assertIn("boom after the NUL", stored)
        p = self.compare("--junit", "j.xml", "--summary", "s.md", "--json", "r.json")
        self.assertExit(p, 3)
        self.assertIn("boom after the NUL", p.stdout)
        self.assertIn("boom after the NUL", p.stderr + p.stdout)
        with open(os.path.join(self.root, "r.json")) as f:
            out = json.load(f)
        text = json.dumps(out)
        self.assertIn("progress\\u0000\\n", text)
        self.assertIn("boom after the NUL", text)
        for name in ("j.xml", "s.md"):
            body = self.read(name, self.root)
            self.assertIn("progress\ufffd", body)
            self.assertIn("boom after the NUL", body)

    def test_replayed_output_is_fenced_from_github_workflow_commands(self):
        root = self.make({"app.py": "print('::error::owned')\n"
                                    "print('::set-output name=x::y')\n"
                                    "raise SystemExit(1)\n"})
        p = run(["run", "-o", "r.json"], cwd=root, env={"GITHUB_ACTIONS": "true"})
        self.assertExit(p, 3)
        lines = p.stderr.splitlines()
        start = [l for l in lines if l.startswith("::stop-commands::")]
        self.assertEqual(len(start), 1, p.stderr)
        token = start[0].split("::")[2]
        self.assertGreaterEqual(len(token), 32)
        i, j = lines.index(start[0]), lines.index("::%s::" % token)
        inside = lines[i + 1:j]
        self.assertIn("::error::owned", inside)
        self.assertIn("::set-output name=x::y", inside)
        outside = lines[:i] + lines[j + 1:]
        self.assertFalse([l for l in outside if l.lstrip().startswith("::")
                          and not l.startswith("::warning") and not l.startswith("::error file")],
                         p.stderr)
        # Off GitHub the output is shown as it was, without a fence.
        p = run(["run", "-o", "r.json"], cwd=root)
        self.assertNotIn("::stop-commands::", p.stderr)
        self.assertIn("::error::owned", p.stderr)

    def test_devices_symlinks_and_pipes_are_written_not_replaced(self):
        if os.geteuid() == 0:
            null = os.path.join(self.root, "null")
            os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        else:
            null = os.path.join(self.root, "null")
            os.symlink("/dev/null", null)
        real = self.write("real.md", "old\n")
        link = os.path.join(self.root, "link.md")
        os.symlink(real, link)
        dangling = os.path.join(self.root, "dangling.xml")
        os.symlink("made-by-perfguard.xml", dangling)
        r, w = os.pipe()
        p = subprocess.Popen([PERFGUARD, "compare", self.base, self.head,
                              "--junit", "./null", "--summary", "link.md",
                              "--json", "/dev/fd/%d" % w], cwd=self.root,
                             pass_fds=(w,), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        os.close(w)
        piped = read_to_eof(r)
        os.close(r)
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 3, err)  # the head benchmark failed
        self.assertNotIn("cannot", err)
        self.assertTrue(json.loads(piped)["benchmarks"])
        self.assertTrue(stat.S_ISCHR(os.stat(null).st_mode) or os.path.islink(null))
        self.assertTrue(os.path.islink(link))
        self.assertIn("perfguard", self.read("real.md"))
        p = self.compare("--junit", "dangling.xml")
        self.assertTrue(os.path.islink(dangling))
        self.assertIn("<testsuite", self.read("made-by-perfguard.xml", self.root))

    def test_results_file_on_a_device_or_symlink_is_written_not_replaced(self):
        root = self.make(name="runrepo")
        null = os.path.join(self.tmp, "null")
        if os.geteuid() == 0:
            os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        else:
            os.symlink("/dev/null", null)
        self.assertExit(run(["run", "-o", null], cwd=root), 0)
        self.assertTrue(stat.S_ISCHR(os.stat(null).st_mode))
        real = self.write("real.json", "")
        link = os.path.join(self.tmp, "link.json")
        os.symlink(real, link)
        self.assertExit(run(["run", "-o", link], cwd=root), 0)
        self.assertTrue(os.path.islink(link))
        with open(real) as f:
            self.assertEqual(json.load(f)["benchmarks"][0]["status"], "ok")

    def test_full_disk_and_closed_pipes_are_exit_3(self):
        p = run(["compare", self.base, self.base, "--json", "/dev/full"], cwd=self.root)
        self.assertExit(p, 3)
        self.assertIn("No space left on device", p.stderr)
        r, w = os.pipe()
        os.close(r)
        p = subprocess.run([PERFGUARD, "compare", self.base, self.base, "--json",
                            "/dev/fd/%d" % w], cwd=self.root, pass_fds=(w,),
                           capture_output=True, text=True, timeout=120)
        os.close(w)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("Broken pipe", p.stderr)
        # stdout itself, checked at exit as git does
        with open("/dev/full", "w") as full:
            p = subprocess.run([PERFGUARD, "compare", self.base, self.base],
                               cwd=self.root, stdout=full, stderr=subprocess.PIPE,
                               text=True, timeout=120)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("standard output", p.stderr)
        self.assertExit(run(["compare", self.base, self.base], cwd=self.root), 0)


class FullDiskTests(RobustCase):
    """Every file a command writes, and standard output, on a full disk
    (/dev/full): exit 3 with the system's reason, never a silent success
    (issue 10: no unchecked result of a write)."""

    FULL = "No space left on device"

    @classmethod
    def setUpClass(cls):
        cls.shared = tempfile.mkdtemp(prefix="pg-e2e-")
        cls.root = root = os.path.join(cls.shared, "repo")
        os.makedirs(root)
        git(root, "init", "-q", "-b", "main")
        for name, text in (("app.py", APP), ("perfguard.yml", suite())):
            with open(os.path.join(root, name), "w") as f:
                f.write(text)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        cls.results = os.path.join(cls.shared, "r.json")
        cls.shard = os.path.join(cls.shared, "s.json")
        for args in (["run", "-o", cls.results],
                     ["run", "--shard", "1/1", "-o", cls.shard],
                     ["baseline", "update", "--from", cls.results]):
            p = run(args, cwd=root)
            assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared, True)

    def assertFull(self, args):
        p = run(args, cwd=self.root)
        self.assertEqual(p.returncode, 3, "%s: %s" % (args, p.stderr))
        self.assertIn(self.FULL, p.stderr, args)
        self.assertIn("/dev/full", p.stderr, args)

    def test_every_report_format_on_a_full_disk_is_exit_3(self):
        for opt in ("--json", "--junit", "--summary", "--html"):
            self.assertFull(["compare", self.results, self.results, opt,
                             "/dev/full"])
        self.assertFull(["merge", "-o", "/dev/full", self.shard])
        self.assertFull(["report", "--history", "5", "-o", "/dev/full"])
        self.assertFull(["history", "--json", "/dev/full"])
        self.assertFull(["analyze", "--json", "/dev/full", self.results])

    def test_every_profile_format_on_a_full_disk_is_exit_3(self):
        for fmt in ("text", "json", "pstats", "collapsed", "speedscope",
                    "html", "svg"):
            self.assertFull(["profile", "--format", fmt, "-o", "/dev/full",
                             "app.py"])

    def test_results_on_a_full_disk_are_exit_3(self):
        self.assertFull(["run", "-o", "/dev/full"])
        self.assertFull(["baseline", "update", "--shard", "1/1", "-o",
                         "/dev/full"])

    def test_standard_output_on_a_full_disk_is_exit_3(self):
        for args in (["compare", self.results, self.results],
                     ["profile", "app.py"],
                     ["history"],
                     ["baseline", "show"],
                     ["baseline", "list"],
                     ["report", "--history", "5", "-o", "-"],
                     ["help", "run"],
                     ["run", "--help"],
                     ["--help"],
                     ["--version"]):
            with open("/dev/full", "w") as full:
                p = subprocess.run([PERFGUARD] + args, cwd=self.root,
                                   stdout=full, stderr=subprocess.PIPE,
                                   text=True, timeout=120)
            self.assertEqual(p.returncode, 3, "%s: %s" % (args, p.stderr))
            self.assertIn("standard output", p.stderr, args)


class FaultTests(RobustCase):
    """A kill (SIGKILL) or Ctrl-C (SIGINT) at every write point of the
    store: the store stays consistent, and the next run recovers."""

    def setUp(self):
        super().setUp()
        self.root = self.make()
        self.first = git(self.root, "rev-parse", "HEAD")
        self.assertExit(run(["run", "-o", "../r.json"], cwd=self.root), 0)
        self.results = os.path.join(self.tmp, "r.json")
        self.assertExit(run(["baseline", "update", "--from", self.results],
                            cwd=self.root), 0)
        self.second = self.commit(self.root, {"x.txt": "x"})
        self.update = ["baseline", "update", "--from", self.results,
                       "--commit", self.second, "--allow-other-tree"]

    def consistent(self, root, expected):
        self.assertEqual(self.notes(root), expected)
        git(root, "fsck", "--no-dangling", "--no-progress")
        for commit in expected:
            self.assertExit(run(["baseline", "show", commit], cwd=root), 0)

    def test_kill_and_ctrl_c_between_the_notes_commit_and_the_ref(self):
        for sig in (signal.SIGKILL, signal.SIGINT):
            code, out, err = Faulted(self.update, self.root, "store-before-ref").finish(sig)
            self.assertEqual(code, -9 if sig == signal.SIGKILL else 130, err)
            self.consistent(self.root, {self.first})
        self.assertExit(run(self.update, cwd=self.root), 0)
        self.consistent(self.root, {self.first, self.second})

    def test_ctrl_c_while_measuring_records_nothing(self):
        update = ["baseline", "update"]
        code, _, err = Faulted(update, self.root, "store-before-ref").finish(signal.SIGINT)
        self.assertEqual(code, 130, err)
        self.consistent(self.root, {self.first})

    def test_kill_and_ctrl_c_in_an_atomic_file_write(self):
        for args, path in ((["run", "-o", "out.json"], "out.json"),
                           (["compare", self.results, self.results, "--json",
                             "cmp.json"], "cmp.json")):
            for sig in (signal.SIGKILL, signal.SIGINT):
                code, _, err = Faulted(args, self.root, "file-before-rename").finish(sig)
                self.assertEqual(code, -9 if sig == signal.SIGKILL else 130, err)
                self.assertFalse(os.path.exists(os.path.join(self.root, path)))
            self.assertEqual(run(args, cwd=self.root).returncode, 0)
            with open(os.path.join(self.root, path)) as f:
                json.load(f)

    def test_kill_in_a_directory_store_write(self):
        root = self.make(extra="store: {kind: dir, path: .perfguard/baselines}\n",
                         name="dirstore")
        head = git(root, "rev-parse", "HEAD")
        update = ["baseline", "update", "--from", self.results, "--commit", head,
                  "--allow-other-tree"]
        code, _, err = Faulted(update, root, "file-before-rename").finish(signal.SIGKILL)
        self.assertEqual(code, -9, err)
        self.assertExit(run(["baseline", "show", head], cwd=root), 2)
        self.assertExit(run(update, cwd=root), 0)
        self.assertExit(run(["baseline", "show", head], cwd=root), 0)

    def pushed_pair(self):
        """A bare remote and a clone whose push will be rejected once
        (the remote holds a note the clone has not seen)."""
        remote = os.path.join(self.tmp, "remote.git")
        git(self.tmp, "clone", "-q", "--bare", self.root, remote)
        git(self.root, "remote", "add", "origin", remote)
        git(self.root, "push", "-q", "origin", "refs/notes/perfguard")
        clone = os.path.join(self.tmp, "clone")
        git(self.tmp, "clone", "-q", remote, clone)
        self.assertExit(run(["baseline", "update", "--from", self.results,
                             "--commit", self.second, "--allow-other-tree",
                             "--push", "origin"], cwd=self.root), 0)
        return remote, clone

    def test_kill_and_ctrl_c_between_ref_and_push(self):
        remote = os.path.join(self.tmp, "remote.git")
        git(self.tmp, "clone", "-q", "--bare", self.root, remote)
        git(self.root, "remote", "add", "origin", remote)
        push = self.update + ["--push", "origin"]
        code, _, err = Faulted(push, self.root, "store-before-push").finish(signal.SIGKILL)
        self.assertEqual(code, -9, err)
        self.consistent(self.root, {self.first, self.second})
        self.assertEqual(git(remote, "for-each-ref", "refs/notes"), "")
        code, _, err = Faulted(push, self.root, "store-before-push").finish(signal.SIGINT)
        self.assertEqual(code, 130, err)
        self.assertIn("recorded here but not on origin", err)
        self.assertEqual(git(remote, "for-each-ref", "refs/notes"), "")
        self.assertExit(run(push, cwd=self.root), 0)
        self.assertEqual(self.notes(remote), {self.first, self.second})

    def test_kill_while_merging_the_remote_notes(self):
        remote, clone = self.pushed_pair()
        third = self.commit(clone, {"y.txt": "y"})
        clone_update = ["baseline", "update", "--from", self.results,
                        "--commit", third, "--allow-other-tree", "--push",
                        "origin"]
        for sig in (signal.SIGKILL, signal.SIGINT):
            code, _, err = Faulted(clone_update, clone,
                                   "store-merge-before-ref").finish(sig)
            self.assertEqual(code, -9 if sig == signal.SIGKILL else 130, err)
            self.consistent(clone, {third})
            self.assertEqual(self.notes(remote), {self.first, self.second})
        self.assertExit(run(clone_update, cwd=clone), 0)
        self.assertEqual(self.notes(remote), {self.first, self.second, third})
        self.consistent(clone, {self.first, self.second, third})


DEEP = """
import sys
sys.setrecursionlimit(20000)

def r(n):
    x = 0
    for i in range(30):
        x += i
    return x if n == 0 else r(n - 1) + x

r(8000)
"""


class ExportTests(RobustCase):
    def test_deep_recursion_exports_stay_linear(self):
        script = self.write("deep.py", DEEP)
        ss = os.path.join(self.tmp, "deep.speedscope.json")
        self.assertExit(run(["profile", "--python", PYTHON, "-o", ss, "--format",
                             "speedscope", script], cwd=self.tmp), 0)
        # 8,000 nested frames: two events each, well under 100 bytes per
        # event (the quadratic form of this file was 120 MB).
        self.assertLess(os.path.getsize(ss), 2 * 8100 * 100)
        with open(ss) as f:
            prof = json.load(f)["profiles"][0]
        depth = deepest = 0
        for ev in prof["events"]:
            depth += 1 if ev["type"] == "O" else -1
            deepest = max(deepest, depth)
        self.assertEqual(depth, 0)
        self.assertGreaterEqual(deepest, 8000)
        col = os.path.join(self.tmp, "deep.collapsed")
        self.assertExit(run(["profile", "--python", PYTHON, "-o", col, "--format",
                             "collapsed", script], cwd=self.tmp), 0)
        with open(col) as f:
            lines = f.read().splitlines()
        self.assertTrue(lines)
        frames = [len(l.rsplit(" ", 1)[0].split(";")) for l in lines]
        self.assertLessEqual(max(frames), 512)  # PG_COLLAPSED_MAX_DEPTH
        self.assertTrue(any(l.rsplit(" ", 1)[0].endswith(";[deeper frames]")
                            for l in lines))


class SubmoduleTests(RobustCase):
    def with_submodule(self):
        lib = self.repo({"helper.py": "def help(n):\n    return sum(range(n))\n"},
                        name="lib")
        root = self.make({"app.py": "from lib.helper import help\nhelp(20000)\n"})
        git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
            lib, "lib")
        git(root, "commit", "-q", "-m", "add lib")
        self.commit(root, {"x.txt": "x"}, branch="feature")
        return root

    def test_base_checkout_has_the_submodules_files(self):
        root = self.with_submodule()
        p = run(["check", "--baseline", "rerun"], cwd=root)
        self.assertExit(p, 0)

    def test_uninitialised_submodule_is_exit_2_naming_the_fix(self):
        root = self.with_submodule()
        clone = os.path.join(self.tmp, "clone")
        git(self.tmp, "clone", "-q", "-b", "feature", root, clone)
        git(clone, "branch", "-q", "main", "origin/main")
        p = run(["check", "--baseline", "rerun"], cwd=clone)
        self.assertExit(p, 2)
        self.assertIn("git submodule update --init --recursive", p.stderr)


class GlobalOptionTests(RobustCase):
    def test_common_options_work_before_the_command_as_in_git(self):
        root = self.make()
        os.rename(os.path.join(root, "perfguard.yml"), os.path.join(root, "other.yml"))
        p = run(["-s", "other.yml", "-q", "run", "-o", "r.json"], cwd=root)
        self.assertExit(p, 0)
        self.assertNotIn("perfguard:", p.stderr)
        noisy = run(["--suite=other.yml", "run", "-o", "r.json"], cwd=root)
        self.assertExit(noisy, 0)
        self.assertIn("perfguard:", noisy.stderr)
        p = run(["--color", "always", "-v", "compare", "r.json", "r.json"], cwd=root)
        self.assertExit(p, 0)
        self.assertIn("\x1b[", p.stdout)
        p = run(["-q", "--suite", "other.yml", "baseline", "list"], cwd=root)
        self.assertExit(p, 0)
        self.assertEqual(p.stderr, "")
        p = run(["-q", "chekc"], cwd=root)
        self.assertExit(p, 2)
        self.assertIn("did you mean 'check'", p.stderr)


if __name__ == "__main__":
    unittest.main()
