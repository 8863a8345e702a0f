"""Options, help and README agree.

The options a command accepts come from its option table (src/cli/opt.h);
this test does not trust that: it takes every long option name written
in any table of src/cli/*.c, asks the real binary whether each command
accepts it, and asserts that every accepted option is listed in that
command's help and in README.md, and that every option the help lists is
accepted.
"""
import glob
import os
import re
import unittest

from pgtest import SOURCE, Case, run

def commands(cwd):
    """Every command and subcommand as typed on the command line, from
    `perfguard --help` and each command's usage lines (a command whose
    usage lines name subcommands, like baseline, gives one per
    subcommand)."""
    overview = run(["--help"], cwd).stdout
    listed = overview.split("Commands:", 1)[1].split("\n\n", 1)[0]
    names = [l.split()[0] for l in listed.splitlines() if l.strip()]
    out = []
    for name in names:
        if name == "help":
            continue
        text = run(["help", name], cwd).stdout
        subs = re.findall(r"perfguard %s ([a-z][a-z-]*)\b" % name, text)
        subs = list(dict.fromkeys(subs))
        if len(subs) > 1:
            out.extend([name, sub] for sub in subs)
        else:
            out.append([name])
    return out


ROW = re.compile(r'\{\s*\w+,\s*"([a-z][a-z0-9-]*)",\s*(?:\'(.)\'|0)')


def table_options():
    """(long name, short letter or None) of every option-table row."""
    rows = set()
    for path in glob.glob(os.path.join(SOURCE, "src", "cli", "*.c")):
        with open(path) as f:
            text = f.read()
        for table in re.finditer(
                r"static const struct cli_opt \w+\[\] = \{(.*?)\n\};",
                text, re.S):
            rows.update(ROW.findall(table.group(1)))
    return {(name, short or None) for name, short in rows}


def accepts(cmd, name, cwd):
    """Does `perfguard CMD --name=x --help` get past getopt?"""
    r = run(cmd + ["--%s=x" % name, "--help"], cwd)
    return "unrecognized option" not in r.stderr


class OptionsTest(Case):
    def test_probe_tells_unknown_options_apart(self):
        self.assertFalse(accepts(["check"], "no-such-option", self.tmp))
        self.assertTrue(accepts(["check"], "against", self.tmp))

    def test_every_accepted_option_is_in_help_and_readme(self):
        rows = table_options()
        self.assertGreater(len(rows), 20, "option tables not found")
        with open(os.path.join(SOURCE, "README.md")) as f:
            readme = f.read()
        cmds = commands(self.tmp)
        self.assertIn(["baseline", "update"], cmds)
        for cmd in cmds:
            help_text = run(["help", cmd[0]], self.tmp).stdout
            own = re.findall(r"(?m)^  (?:-., )?--([a-z][a-z0-9-]*)",
                             help_text)
            for name, short in sorted(rows, key=lambda r: r[0]):
                # getopt takes "--out" for "--output": an abbreviation of
                # an option of this command is not an option of its own
                if any(o != name and o.startswith(name) for o in own):
                    continue
                if not accepts(cmd, name, self.tmp):
                    continue
                with self.subTest(command=" ".join(cmd), option=name):
                    self.assertRegex(help_text,
                                     r"(?m)^  (-., )?--%s\b" % name)
                    self.assertTrue("--" + name in readme,
                                    "--%s is not in README.md" % name)
                    if short:
                        self.assertIn("-%s, --%s" % (short, name),
                                      help_text)

    def test_every_option_in_help_is_accepted(self):
        for cmd in commands(self.tmp):
            r = run(["help", cmd[0]], self.tmp)
            self.assertEqual(r.returncode, 0, r.stderr)
            listed = re.findall(r"(?m)^  (?:-., )?--([a-z][a-z0-9-]*)",
                                r.stdout)
            self.assertTrue(listed)
            if cmd[0] == "baseline":
                continue  # options are per subcommand; checked above
            for name in listed:
                with self.subTest(command=cmd[0], option=name):
                    self.assertTrue(accepts(cmd, name, self.tmp))

    def test_help_and_dash_h_print_the_same(self):
        for cmd in commands(self.tmp):
            with self.subTest(command=" ".join(cmd)):
                a = run(["help", cmd[0]], self.tmp)
                b = run(cmd + ["-h"], self.tmp)
                self.assertEqual(b.returncode, 0, b.stderr)
                self.assertEqual(a.stdout, b.stdout)

    def test_dash_h_before_the_command_prints_its_help(self):
        # README: -h/--help before or after the command name, as in git
        for cmd in commands(self.tmp):
            with self.subTest(command=" ".join(cmd)):
                a = run(["help", cmd[0]], self.tmp)
                b = run(["-h"] + cmd, self.tmp)
                self.assertEqual(b.returncode, 0, b.stderr)
                self.assertEqual(a.stdout, b.stdout)


if __name__ == "__main__":
    unittest.main()
