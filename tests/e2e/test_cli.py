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

# Commands and subcommands as typed on the command line.
COMMANDS = [["profile"], ["run"], ["check"], ["compare"],
            ["baseline", "update"], ["baseline", "show"],
            ["baseline", "list"], ["baseline", "drop"],
            ["baseline", "prune"], ["history"], ["record"], ["ingest"],
            ["analyze"]]

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
        for cmd in COMMANDS:
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
        for cmd in COMMANDS:
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
        for cmd in COMMANDS:
            with self.subTest(command=" ".join(cmd)):
                a = run(["help", cmd[0]], self.tmp)
                b = run(cmd + ["-h"], self.tmp)
                self.assertEqual(b.returncode, 0, b.stderr)
                self.assertEqual(a.stdout, b.stdout)


if __name__ == "__main__":
    unittest.main()
