/*
 * git_test.c - the git module against real repositories.
 *
 * Each test builds a repository in a fresh temp dir with the git command
 * line (the reference implementation), then checks what pg_git_* answers
 * against what `git` itself says. Nothing touches the user's repository.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "perfguard/git.h"

#include "testutil.h"

/* A new repository with two commits on main; returns its path. */
static char *make_repo(void)
{
	char *dir = NULL;
	assert_int_equal(pg_mkdtemp("pg-git-test", &dir), 0);
	sh(dir, "git init -q -b main . && echo one > a.txt && "
		"git add a.txt && git commit -q -m 'first commit' && "
		"echo two >> a.txt && git commit -q -am 'second commit'");
	return dir;
}

static void open_finds_repository_from_subdirectory(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "mkdir -p sub/deeper");
	char *sub = pg_path_join(dir, "sub/deeper");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(sub, &r), 0);
	char *real = pg_realpath(dir);
	assert_string_equal(pg_git_workdir(r), real);
	pg_git_close(r);
	free(real);
	free(sub);
	pg_remove_tree(dir);
	free(dir);
}

static void open_outside_a_repository_is_not_found(void **state)
{
	(void)state;
	char *dir = NULL;
	assert_int_equal(pg_mkdtemp("pg-git-test", &dir), 0);
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), PG_ENOTFOUND);
	assert_null(r);
	assert_non_null(strstr(pg_error_message(), "not inside a git"));
	pg_remove_tree(dir);
	free(dir);
}

static void head_of_empty_repository_says_it_has_no_commits(void **state)
{
	(void)state;
	char *dir = NULL;
	assert_int_equal(pg_mkdtemp("pg-git-test", &dir), 0);
	sh(dir, "git init -q -b main .");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	char head[41];
	assert_int_equal(pg_git_head(r, head), PG_ENOTFOUND);
	assert_string_equal(pg_error_message(),
			    "the repository has no commits yet");
	/* `report` resolves HEAD: it said "unknown revision 'HEAD'" */
	assert_int_equal(pg_git_resolve(r, "HEAD", head), PG_ENOTFOUND);
	assert_string_equal(pg_error_message(),
			    "the repository has no commits yet");
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void resolve_agrees_with_git_rev_parse(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "git tag v1 HEAD~1 && git tag -a -m annotated v2 HEAD");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	const char *revs[] = {"HEAD", "HEAD~1", "main",
			      "v1",   "v2",	"refs/heads/main"};
	for (size_t i = 0; i < sizeof(revs) / sizeof(revs[0]); i++) {
		char want[64], got[41], cmd[128];
		snprintf(cmd, sizeof(cmd), "git rev-parse '%s^{commit}'",
			 revs[i]);
		sh_line(dir, want, sizeof(want), cmd);
		assert_int_equal(pg_git_resolve(r, revs[i], got), 0);
		assert_string_equal(got, want);
	}
	char head[41], short_rev[16], got[41];
	assert_int_equal(pg_git_head(r, head), 0);
	memcpy(short_rev, head, 10);
	short_rev[10] = '\0';
	assert_int_equal(pg_git_resolve(r, short_rev, got), 0);
	assert_string_equal(got, head);
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void resolve_unknown_revision_names_it(void **state)
{
	(void)state;
	char *dir = make_repo();
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	char got[41];
	assert_int_equal(pg_git_resolve(r, "origin/nope", got), PG_ENOTFOUND);
	assert_string_equal(pg_error_message(),
			    "unknown revision 'origin/nope'");
	assert_false(pg_git_is_shallow(r));
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void resolve_in_shallow_clone_hints_at_fetch_depth(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "echo three >> a.txt && git commit -q -am third && "
		"git clone -q --depth 1 \"file://$PWD\" shallow");
	char *clone = pg_path_join(dir, "shallow");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(clone, &r), 0);
	assert_true(pg_git_is_shallow(r));
	char got[41];
	assert_int_equal(pg_git_resolve(r, "HEAD~2", got), PG_ENOTFOUND);
	assert_non_null(
	    strstr(pg_error_message(), "unknown revision 'HEAD~2'"));
	assert_non_null(strstr(pg_error_message(),
			       "the clone is shallow: use `fetch-depth: 0`"));
	assert_int_equal(pg_git_parent(r, "HEAD", 0, got), PG_ENOTFOUND);
	assert_non_null(strstr(pg_error_message(), "fetch-depth: 0"));
	pg_git_close(r);
	free(clone);
	pg_remove_tree(dir);
	free(dir);
}

static void merge_base_is_the_fork_point(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "git checkout -q -b topic && echo t > t.txt && git add t.txt "
		"&& git commit -q -m topic && git checkout -q main && "
		"echo m > m.txt && git add m.txt && git commit -q -m main2 && "
		"git checkout -q --orphan lonely && git commit -q -m lonely && "
		"git checkout -q topic");
	char want[64], got[41];
	sh_line(dir, want, sizeof(want), "git merge-base topic main");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	assert_int_equal(pg_git_merge_base(r, "HEAD", "main", got), 0);
	assert_string_equal(got, want);
	assert_int_equal(pg_git_merge_base(r, "topic", "lonely", got),
			 PG_ENOTFOUND);
	assert_non_null(strstr(pg_error_message(), "share no history"));
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void parent_numbers_follow_git(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir,
	   "git checkout -q -b side HEAD~1 && echo s > s.txt && "
	   "git add s.txt && git commit -q -m side && git checkout -q main "
	   "&& git merge -q --no-edit side");
	char p1[64], p2[64], root[64], got[41];
	sh_line(dir, p1, sizeof(p1), "git rev-parse HEAD^1");
	sh_line(dir, p2, sizeof(p2), "git rev-parse HEAD^2");
	sh_line(dir, root, sizeof(root), "git rev-list --max-parents=0 HEAD");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	assert_int_equal(pg_git_parent(r, "HEAD", 0, got), 0);
	assert_string_equal(got, p1);
	assert_int_equal(pg_git_parent(r, "HEAD", 1, got), 0);
	assert_string_equal(got, p2);
	assert_int_equal(pg_git_parent(r, "HEAD", 2, got), PG_ENOTFOUND);
	assert_int_equal(pg_git_parent(r, root, 0, got), PG_ENOTFOUND);
	assert_non_null(strstr(pg_error_message(), "has no parent 1"));
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void dirty_means_tracked_changes_in_index_or_worktree(void **state)
{
	(void)state;
	char *dir = make_repo();
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	bool dirty = true;
	assert_int_equal(pg_git_is_dirty(r, &dirty), 0);
	assert_false(dirty);

	sh(dir, "echo junk > untracked.txt");
	assert_int_equal(pg_git_is_dirty(r, &dirty), 0);
	assert_false(dirty);

	sh(dir, "echo changed >> a.txt");
	assert_int_equal(pg_git_is_dirty(r, &dirty), 0);
	assert_true(dirty);

	sh(dir, "git add a.txt");
	assert_int_equal(pg_git_is_dirty(r, &dirty), 0);
	assert_true(dirty);

	sh(dir, "git commit -q -m c && git rm -q --cached a.txt");
	assert_int_equal(pg_git_is_dirty(r, &dirty), 0);
	assert_true(dirty);
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void
untracked_lists_new_files_not_ignored_or_perfguards_own(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "mkdir -p pkg/__pycache__ .perfguard/results new && "
		"echo x > extra.py && echo x > pkg/__pycache__/m.pyc && "
		"echo x > .perfguard/results/r.json && echo x > new/n.py && "
		"echo x > skip.log && echo '*.log' > .gitignore && "
		"echo x > pkg/m.py && git add .gitignore pkg/m.py && "
		"git commit -q -m ignore");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	struct pg_strvec u = {0};
	assert_int_equal(pg_git_untracked(r, &u), 0);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.v[0], "extra.py");
	assert_string_equal(u.v[1], "new/");
	pg_strvec_release(&u);
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void same_tree_compares_trees_not_commits(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "git commit -q --allow-empty -m empty");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	bool same = false;
	assert_int_equal(pg_git_same_tree(r, "HEAD", "HEAD~1", &same), 0);
	assert_true(same);
	sh(dir, "echo changed >> a.txt && git commit -q -am changed");
	assert_int_equal(pg_git_same_tree(r, "HEAD", "HEAD~1", &same), 0);
	assert_false(same);
	assert_int_equal(pg_git_same_tree(r, "HEAD", "nosuch", &same),
			 PG_ENOTFOUND);
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void assert_mode(const char *path, mode_t want)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, want);
}

static void materialise_writes_the_commit_not_the_worktree(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "mkdir -p pkg/sub bin && printf 'print(1)\\n' > pkg/sub/m.py "
		"&& printf '#!/bin/sh\\n' > bin/run.sh && chmod 755 "
		"bin/run.sh && ln -s pkg/sub/m.py link.py && "
		"printf 'x\\0y' > pkg/bin.dat && "
		"git add -A && git commit -q -m tree");
	char want[64];
	sh_line(dir, want, sizeof(want), "git rev-parse HEAD");
	/* The user's uncommitted work, which must survive untouched. */
	sh(dir, "echo uncommitted > pkg/sub/m.py && echo new > new.txt && "
		"git add new.txt && cp .git/index .git/index.before");

	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	char *out = NULL;
	assert_int_equal(pg_git_materialise(r, want, &out), 0);
	assert_non_null(out);
	assert_true(strncmp(out, dir, strlen(dir)) != 0);

	char *p = pg_path_join(out, "pkg/sub/m.py");
	char *text = read_text(p);
	assert_string_equal(text, "print(1)\n");
	free(text);
	assert_mode(p, 0644);
	free(p);
	p = pg_path_join(out, "bin/run.sh");
	assert_mode(p, 0755);
	free(p);
	p = pg_path_join(out, "link.py");
	char target[64] = {0};
	assert_int_equal(readlink(p, target, sizeof(target) - 1), 12);
	assert_string_equal(target, "pkg/sub/m.py");
	free(p);
	p = pg_path_join(out, "new.txt");
	assert_false(pg_path_exists(p));
	free(p);
	p = pg_path_join(out, ".git");
	assert_false(pg_path_exists(p));
	free(p);
	/* Byte for byte, including the NUL, as git stores it. */
	sh(dir, "git cat-file blob HEAD:pkg/bin.dat | cmp - '%s/pkg/bin.dat'",
	   out);
	/* Every committed path is there, and nothing else. */
	sh(dir,
	   "git ls-tree -r --name-only HEAD | sort > .git/want.txt && "
	   "(cd '%s' && find . -type f -o -type l | sed 's|^./||' | sort) "
	   "> .git/got.txt && cmp .git/want.txt .git/got.txt",
	   out);

	/* The user's worktree and index are as they were. */
	char *mine = pg_path_join(dir, "pkg/sub/m.py");
	text = read_text(mine);
	assert_string_equal(text, "uncommitted\n");
	free(text);
	free(mine);
	sh(dir, "cmp .git/index .git/index.before");

	assert_int_equal(pg_remove_tree(out), 0);
	free(out);
	char got[41];
	assert_int_equal(pg_git_materialise(r, "no-such-rev", &out),
			 PG_ENOTFOUND);
	assert_null(out);
	(void)got;
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void commit_info_gives_subject_and_time(void **state)
{
	(void)state;
	char *dir = make_repo();
	char when[64];
	sh_line(dir, when, sizeof(when), "git log -1 --format=%ct");
	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	char *subject = NULL;
	int64_t t = 0;
	assert_int_equal(pg_git_commit_info(r, "HEAD", &subject, &t), 0);
	assert_string_equal(subject, "second commit");
	assert_int_equal(t, strtoll(when, NULL, 10));
	free(subject);
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

static void base_for_check_is_merge_base_or_test_merge_parent(void **state)
{
	(void)state;
	char *dir = make_repo();
	sh(dir, "git checkout -q -b pr && echo p > p.txt && git add p.txt && "
		"git commit -q -m pr && git checkout -q main && echo m > m.txt "
		"&& git add m.txt && git commit -q -m main2");
	char fork[64], main_tip[64], pr_tip[64];
	sh_line(dir, fork, sizeof(fork), "git merge-base main pr");
	sh_line(dir, main_tip, sizeof(main_tip), "git rev-parse main");
	sh_line(dir, pr_tip, sizeof(pr_tip), "git rev-parse pr");

	struct pg_repo *r = NULL;
	assert_int_equal(pg_git_open(dir, &r), 0);
	char got[41];
	char *how = NULL;
	/* On the PR branch, no event: the fork point with main. */
	sh(dir, "git checkout -q pr");
	assert_int_equal(pg_git_base_for_check(r, NULL, NULL, got, &how), 0);
	assert_string_equal(got, fork);
	assert_string_equal(how, "merge-base of HEAD and main");
	free(how);

	/* GitHub's test merge commit: main's tip is the base. */
	sh(dir, "git checkout -q --detach main && git merge -q --no-edit pr");
	char *event = pg_path_join(dir, ".git/event.json");
	char json[512];
	snprintf(json, sizeof(json),
		 "{\"pull_request\": {\"head\": {\"sha\": \"%s\"}, "
		 "\"base\": {\"sha\": \"%s\"}}}",
		 pr_tip, fork);
	write_text(event, json);
	assert_int_equal(pg_git_base_for_check(r, "main", event, got, &how), 0);
	assert_string_equal(got, main_tip);
	assert_string_equal(how, "first parent of GitHub's test merge commit");
	free(how);
	/* A push event (no pull_request) falls back to the merge-base. */
	write_text(event, "{\"ref\": \"refs/heads/main\"}");
	assert_int_equal(pg_git_base_for_check(r, "pr", event, got, NULL), 0);
	assert_string_equal(got, pr_tip);

	assert_int_equal(pg_git_base_for_check(r, "nope", NULL, got, NULL),
			 PG_ENOTFOUND);
	assert_non_null(strstr(pg_error_message(), "'nope'"));
	free(event);
	pg_git_close(r);
	pg_remove_tree(dir);
	free(dir);
}

int main(void)
{
	test_git_identity();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(open_finds_repository_from_subdirectory),
	    cmocka_unit_test(open_outside_a_repository_is_not_found),
	    cmocka_unit_test(head_of_empty_repository_says_it_has_no_commits),
	    cmocka_unit_test(resolve_agrees_with_git_rev_parse),
	    cmocka_unit_test(resolve_unknown_revision_names_it),
	    cmocka_unit_test(resolve_in_shallow_clone_hints_at_fetch_depth),
	    cmocka_unit_test(merge_base_is_the_fork_point),
	    cmocka_unit_test(parent_numbers_follow_git),
	    cmocka_unit_test(dirty_means_tracked_changes_in_index_or_worktree),
	    cmocka_unit_test(
		untracked_lists_new_files_not_ignored_or_perfguards_own),
	    cmocka_unit_test(same_tree_compares_trees_not_commits),
	    cmocka_unit_test(materialise_writes_the_commit_not_the_worktree),
	    cmocka_unit_test(commit_info_gives_subject_and_time),
	    cmocka_unit_test(base_for_check_is_merge_base_or_test_merge_parent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
