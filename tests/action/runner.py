"""A strict reader and a local runner of the repository's composite action.

`validate(doc)` checks action.yml against GitHub's action metadata rules
as far as a composite action uses them: the allowed keys at each level,
required descriptions, ids, shells, and that every `${{ }}` expression
parses and names only inputs, earlier steps and known contexts. It
returns the list of problems (empty when the file is valid).

`Job` runs the action's steps in order the way a runner does: each `run`
step in `bash --noprofile --norc -eo pipefail` with the step's
interpolated `env`, GITHUB_OUTPUT/GITHUB_PATH/GITHUB_ENV files read back
after the step, `if:` conditions evaluated (default `success()`), and a
failed step failing the job. The two `uses:` steps the action has are
played by local equivalents: `actions/cache` restores and (at the end of
the job, as the post step does) saves a directory under a key in a
local store; `actions/upload-artifact` copies the files into
RUNNER_TEMP/artifacts/NAME. Nothing here imitates perfguard: the steps
run the action's own scripts, which build and run the real binary.
"""
import os
import re
import shutil
import subprocess

import yaml

TOP_KEYS = {"name", "author", "description", "inputs", "outputs", "runs",
            "branding"}
INPUT_KEYS = {"description", "required", "default", "deprecationMessage"}
OUTPUT_KEYS = {"description", "value"}
STEP_KEYS = {"id", "name", "if", "run", "shell", "uses", "with", "env",
             "working-directory", "continue-on-error"}
SHELLS = {"bash", "sh", "pwsh", "python", "powershell", "cmd"}
ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
KNOWN_USES = {"actions/cache@v4", "actions/upload-artifact@v4"}


class ExprError(Exception):
    pass


# ---- expressions ---------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(\|\||&&|==|!=|!|\(|\)|,)|'((?:[^']|'')*)'|"
                   r"([A-Za-z_][A-Za-z0-9_.-]*))")


def tokenize(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError("cannot read %r" % text[pos:])
        if m.group(1):
            out.append(("op", m.group(1)))
        elif m.group(2) is not None:
            out.append(("str", m.group(2).replace("''", "'")))
        else:
            out.append(("name", m.group(3)))
        pos = m.end()
    return out


class Parser:
    """Recursive descent over the subset of GitHub's expression language
    the action uses: || && ! == != ( ), string literals, context paths
    and the status functions always(), success(), failure()."""

    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            raise ExprError("expected %r, found %r" % (value, tok[1]))
        self.i += 1
        return tok

    def parse(self):
        node = self.or_()
        if self.i != len(self.toks):
            raise ExprError("unexpected %r" % (self.peek()[1],))
        return node

    def or_(self):
        node = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            node = ("and", node, self.cmp())
        return node

    def cmp(self):
        node = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            node = (op, node, self.unary())
        return node

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return ("not", self.unary())
        if self.peek() == ("op", "("):
            self.take()
            node = self.or_()
            self.take(")")
            return node
        kind, value = self.take()
        if kind == "str":
            return ("lit", value)
        if kind != "name":
            raise ExprError("unexpected %r" % value)
        if self.peek() == ("op", "("):
            self.take()
            self.take(")")
            if value not in ("always", "success", "failure", "cancelled"):
                raise ExprError("unknown function %s()" % value)
            return ("call", value)
        return ("path", value)


def paths(node):
    """Every context path an expression tree reads."""
    if node[0] == "path":
        yield node[1]
    for child in node[1:]:
        if isinstance(child, tuple):
            yield from paths(child)


def truthy(v):
    return v not in (None, "", False, 0)


def evaluate(node, ctx):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "call":
        failed = ctx["_failed"]
        return {"always": True, "success": not failed, "failure": failed,
                "cancelled": False}[node[1]]
    if kind == "path":
        cur = ctx
        for part in node[1].split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        return cur
    if kind == "not":
        return not truthy(evaluate(node[1], ctx))
    if kind == "and":
        left = evaluate(node[1], ctx)
        return evaluate(node[2], ctx) if truthy(left) else left
    if kind == "or":
        left = evaluate(node[1], ctx)
        return left if truthy(left) else evaluate(node[2], ctx)
    left, right = evaluate(node[1], ctx), evaluate(node[2], ctx)
    same = str(left if left is not None else "") == str(
        right if right is not None else "")
    return same if kind == "==" else not same


def interpolate(text, ctx):
    def one(m):
        v = evaluate(Parser(m.group(1)).parse(), ctx)
        if v is True:
            return "true"
        if v in (None, False):
            return "" if v is None else "false"
        return str(v)
    return EXPR.sub(one, str(text))


# ---- validation ----------------------------------------------------------

def check_expressions(text, where, allowed, problems):
    for m in EXPR.finditer(str(text)):
        try:
            tree = Parser(m.group(1)).parse()
        except ExprError as e:
            problems.append("%s: %s" % (where, e))
            continue
        for p in paths(tree):
            if not allowed(p):
                problems.append("%s: unknown context %s" % (where, p))


def validate(doc):
    """Problems of an action.yml document (a dict), [] when none."""
    problems = []
    if not isinstance(doc, dict):
        return ["the file is not a mapping"]
    for k in doc:
        if k not in TOP_KEYS:
            problems.append("unknown top-level key %r" % k)
    for k in ("name", "description", "runs"):
        if not doc.get(k):
            problems.append("missing %r" % k)
    inputs = doc.get("inputs") or {}
    for name, spec in inputs.items():
        if not ID.match(name):
            problems.append("input %r: not a valid id" % name)
        if not isinstance(spec, dict) or not spec.get("description"):
            problems.append("input %r: needs a description" % name)
            continue
        for k in spec:
            if k not in INPUT_KEYS:
                problems.append("input %r: unknown key %r" % (name, k))
        if "default" in spec and not isinstance(spec["default"], str):
            problems.append("input %r: default must be a string" % name)
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append("runs.using must be 'composite'")
    steps = runs.get("steps")
    if not isinstance(steps, list) or not steps:
        problems.append("runs.steps must be a non-empty list")
        steps = []
    seen = {}
    for i, step in enumerate(steps):
        where = "step %d (%s)" % (i + 1, (step or {}).get("name", "?"))
        if not isinstance(step, dict):
            problems.append(where + ": not a mapping")
            continue
        for k in step:
            if k not in STEP_KEYS:
                problems.append("%s: unknown key %r" % (where, k))
        if ("run" in step) == ("uses" in step):
            problems.append(where + ": needs exactly one of run and uses")
        if "run" in step and step.get("shell") not in SHELLS:
            problems.append(where + ": a run step needs a shell")
        if "uses" in step and step["uses"] not in KNOWN_USES:
            problems.append("%s: unexpected action %s" % (where, step["uses"]))
        sid = step.get("id")
        if sid is not None:
            if not ID.match(str(sid)) or sid in seen:
                problems.append("%s: bad or repeated id %r" % (where, sid))
            seen[sid] = i

        def allowed(p, i=i):
            head, _, rest = p.partition(".")
            if head == "inputs":
                return rest in inputs
            if head == "steps":
                sid, _, tail = rest.partition(".")
                return seen.get(sid, i) < i and tail.startswith("outputs.")
            return head in ("github", "runner", "env")
        for k in ("if", "run", "env", "with"):
            if k in step:
                check_expressions(yaml.safe_dump(step[k]), where + " " + k,
                                  allowed, problems)
    for name, spec in (doc.get("outputs") or {}).items():
        if not isinstance(spec, dict) or "value" not in spec:
            problems.append("output %r: a composite action's output needs "
                            "a value" % name)
            continue
        for k in spec:
            if k not in OUTPUT_KEYS:
                problems.append("output %r: unknown key %r" % (name, k))

        def out_allowed(p):
            head, _, rest = p.partition(".")
            sid, _, tail = rest.partition(".")
            return head == "steps" and sid in seen and tail.startswith(
                "outputs.")
        check_expressions(spec["value"], "output " + name, out_allowed,
                          problems)
    return problems


# ---- running -------------------------------------------------------------

def read_kv_file(path):
    """name=value lines and name<<DELIM heredocs, as GITHUB_OUTPUT has."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line and ("=" not in line or
                             line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


class Job:
    """One job that uses the action once, like `uses: ./` in a workflow."""

    def __init__(self, action_dir, workspace, runner_temp, cache_store,
                 env, inputs=None, github=None):
        self.action_dir = action_dir
        with open(os.path.join(action_dir, "action.yml")) as f:
            self.doc = yaml.safe_load(f)
        self.workspace = workspace
        self.temp = runner_temp
        self.cache_store = cache_store
        self.env = dict(env)
        defaults = {k: v.get("default", "")
                    for k, v in (self.doc.get("inputs") or {}).items()}
        defaults.update(inputs or {})
        self.inputs = defaults
        self.github = dict(github or {})
        self.github.setdefault("action_path", action_dir)
        self.github.setdefault("workspace", workspace)
        self.steps = {}
        self.failed = False
        self.post = []
        self.log = []
        os.makedirs(runner_temp, exist_ok=True)

    def context(self):
        return {"inputs": self.inputs, "steps": self.steps,
                "github": self.github, "env": self.env,
                "runner": {"temp": self.temp}, "_failed": self.failed}

    def run(self):
        """Run every step; return the action's outputs (a dict)."""
        for i, step in enumerate(self.doc["runs"]["steps"]):
            cond = step.get("if", "success()")
            cond = str(cond).strip()
            if cond.startswith("${{") and cond.endswith("}}"):
                cond = cond[3:-2]
            if not truthy(evaluate(Parser(cond).parse(), self.context())):
                self.log.append((step.get("name"), "skipped"))
                continue
            outputs, ok = self.step(i, step)
            if step.get("id"):
                self.steps[step["id"]] = {"outputs": outputs,
                                          "outcome": "success" if ok
                                          else "failure"}
            self.log.append((step.get("name"), "ok" if ok else "failed"))
            if not ok and not step.get("continue-on-error"):
                self.failed = True
        for post in self.post:
            post()
        ctx = self.context()
        return {k: interpolate(v["value"], ctx)
                for k, v in (self.doc.get("outputs") or {}).items()}

    def step(self, i, step):
        ctx = self.context()
        env = {k: interpolate(v, ctx) for k, v in
               (step.get("env") or {}).items()}
        if "uses" in step:
            with_ = {k: interpolate(v, ctx) for k, v in
                     (step.get("with") or {}).items()}
            if step["uses"].startswith("actions/cache@"):
                return self.cache(with_), True
            return self.upload(with_), True
        files = {}
        for name in ("output", "path", "env"):
            files[name] = os.path.join(self.temp, "step%d_%s" % (i, name))
            open(files[name], "w").close()
        script = os.path.join(self.temp, "step%d.sh" % i)
        with open(script, "w") as f:
            f.write(interpolate(step["run"], ctx))
        full = dict(self.env)
        full.update(env)
        full.update(GITHUB_ACTION_PATH=self.action_dir,
                    GITHUB_OUTPUT=files["output"], GITHUB_PATH=files["path"],
                    GITHUB_ENV=files["env"], RUNNER_TEMP=self.temp,
                    GITHUB_WORKSPACE=self.workspace)
        r = subprocess.run(["bash", "--noprofile", "--norc", "-eo",
                            "pipefail", script], cwd=self.workspace,
                           env=full, capture_output=True, text=True)
        self.log.append((step.get("name"), r.stdout, r.stderr))
        with open(files["path"]) as f:
            added = f.read().splitlines()
        for line in added:
            if line:
                self.env["PATH"] = line + os.pathsep + self.env.get("PATH",
                                                                    "")
        self.env.update(read_kv_file(files["env"]))
        return read_kv_file(files["output"]), r.returncode == 0

    def cache(self, with_):
        path, key = with_["path"], with_["key"]
        if not path or not key:
            raise ExprError("actions/cache needs path and key")
        stored = os.path.join(self.cache_store, key)
        hit = os.path.isdir(stored)
        if hit:
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(stored, path, symlinks=True)

        def save():
            if not hit and not self.failed and os.path.isdir(path):
                shutil.copytree(path, stored, symlinks=True)
        self.post.append(save)
        return {"cache-hit": "true" if hit else "false"}

    def upload(self, with_):
        name = with_["name"]
        dest = os.path.join(self.temp, "artifacts", name)
        os.makedirs(dest, exist_ok=True)
        for rel in with_["path"].splitlines():
            rel = rel.strip()
            if rel:
                src = os.path.join(self.workspace, rel)
                if os.path.exists(src):
                    shutil.copy(src, dest)
        return {"artifact-url": "file://" + dest}
