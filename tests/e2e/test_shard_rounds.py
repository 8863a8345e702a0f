"""End-to-end test that the shards of a check settle their verdicts as the
merged check will (`perfguard merge`): extra rounds and the smallest
trial count sized by the whole check's families, not the shard's. Its own
file so test_shard stays inside its ctest timeout on a loaded machine."""
import json
import unittest

from pgtest import run
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


if __name__ == "__main__":
    unittest.main()
