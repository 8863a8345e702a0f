"""End-to-end test that the shards of a check settle their verdicts as the
merged check will (`perfguard merge`): extra rounds and the smallest
trial count sized by the whole check's families, not the shard's. Its own
file so test_shard stays inside its ctest timeout on a loaded machine."""
import json
import unittest

from pgtest import PYTHON, run
import test_shard


class ShardRoundsTests(test_shard.ShardTests):
    # Only the case below runs here; the others are test_shard.py's.
    test_three_shards_merged_give_the_unsharded_verdict = None
    test_a_missing_or_repeated_shard_is_an_error_not_a_pass = None
    test_bad_shard_arguments_are_usage_errors = None
    test_run_shards_merge_into_one_recordable_baseline = None

    def test_shards_settle_their_verdicts_as_the_merged_check_will(self):
        # Four benchmarks, one per shard, 5 trials at most; b2 >10x
        # slower. Judged alone, a shard saw one total (5 trials suffice)
        # and settled; merged, four totals need 6 trials per side for
        # any to be significant, so the gross slowdown passed as
        # "unclear". Each shard must size its rounds and families as the
        # whole check's.
        root = self.project(n=4, slow=(2,), repeat=40, trials=(5, 5), loops=1)
        files = self.shards(root, 4, [])
        merged = run(["merge", "--json", "merged.json"] + files, cwd=root)
        self.assertExit(merged, 1)
        doc = json.loads(self.read("merged.json", root))
        totals = {v["bench"]: v["kind"] for v in doc["verdicts"]
                  if v["metric"] == "total"}
        self.assertEqual(totals["b2"], "regressed", merged.stdout)

    def test_shards_add_the_rounds_the_merge_needs(self):
        # Four benchmarks, one per shard, 2 trials, all 10x slower (no
        # extra calls). 2 against 2 trials give p = 1/6 at best. A shard
        # judging the others as showing nothing saw q = 4/6: settled,
        # unchanged, and stopped at 2 trials; the merge saw four p = 1/6,
        # q = 1/6, unclear: INCONCLUSIVE (exit 2) where one check adds
        # rounds. A shard must add rounds while the merge could find its
        # verdicts unclear, up to the trials that can decide them.
        bench = ("def work(n):\n    t = 0\n    for i in range(n):\n"
                 "        t = (t * 31 + i) % 1000003\n    return t\n"
                 "work({n})\n")
        files = {"b%d.py" % i: bench.format(n=20000) for i in range(4)}
        files["perfguard.yml"] = test_shard.SUITE.format(
            python=PYTHON, benches="".join(
                "  - name: b%d\n    script: b%d.py\n" % (i, i)
                for i in range(4))).replace(
            "trials: 8\nmax_trials: 16\nwarmup: 1",
            "trials: 2\nmax_trials: 2\nwarmup: 0")
        root = self.repo(files)
        self.commit(root, {"b%d.py" % i: bench.format(n=200000)
                           for i in range(4)}, branch="feature")
        shards = self.shards(root, 4, [])
        merged = run(["merge", "--json", "merged.json"] + shards, cwd=root)
        self.assertExit(merged, 1)
        doc = json.loads(self.read("merged.json", root))
        totals = {v["bench"]: v["kind"] for v in doc["verdicts"]
                  if v["metric"] == "total"}
        self.assertEqual(set(totals.values()), {"regressed"}, merged.stderr)


if __name__ == "__main__":
    unittest.main()
