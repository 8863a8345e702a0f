/*
 * history.test.js - `perfguard report --history N` in a real browser: a
 * real git repository whose function `work` gets 4x slower at its fourth
 * commit, a baseline recorded per commit by the real binary (`baseline
 * update`), then the page: no errors, one point per commit on the total
 * and the top functions with their intervals, commits labelled by short
 * hash and subject (a subject holding markup stays text), and the step
 * visible in the medians.
 */
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./harness');

const SUBJECT = (i) => 'commit ' + i + ' <img src=x onerror="document.title=1">';
let browser, dir, hashes = [];

function git(...args) {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: Object.assign({}, process.env, {
    GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' }) }).trim();
}

before(async () => {
  dir = h.tmpdir();
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'bench.py'), 'import app\napp.main()\n');
  fs.writeFileSync(path.join(dir, 'perfguard.yml'), 'python: /usr/bin/python3\ntrials: 4\nclock: cpu\nbenchmarks:\n  - name: loop\n    script: bench.py\n');
  for (let i = 1; i <= 5; i++) {
    const rep = i >= 4 ? 4 : 1;
    fs.writeFileSync(path.join(dir, 'app.py'), 'def work(n):\n    t = 0\n    for i in range(n * ' + rep + '):\n        t += i\n    return t\n\n' +
      'def other():\n    return sorted(range(20000))\n\ndef main():\n    for _ in range(5):\n        work(20000)\n        other()\n');
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', SUBJECT(i));
    hashes.push(git('rev-parse', 'HEAD'));
    const r = h.perfguard(['baseline', 'update', '-q'], dir);
    assert.strictEqual(r.status, 0, r.stderr);
  }
  const r = h.perfguard(['report', '-q', '--history', '10', '--top', '3', '-o', 'history.html'], dir);
  assert.strictEqual(r.status, 0, r.stderr);
  browser = await h.launch();
});

after(async () => { if (browser) await browser.close(); });

test('one point per commit, with intervals, labelled by hash and subject', async () => {
  const { page, problems } = await h.open(browser, path.join(dir, 'history.html'));
  assert.deepStrictEqual(problems, []);
  assert.strictEqual(await page.$('img'), null);
  const charts = await page.$$('svg.pg-chart');
  assert.strictEqual(charts.length, 2, 'a total chart and a functions chart');
  const totalPoints = await charts[0].$$eval('circle.pg-point', (c) => c.length);
  assert.strictEqual(totalPoints, 5);
  const labels = await page.$$eval('svg.pg-chart:first-of-type text.pg-commit', (t) => t.map((x) => x.firstChild.nodeValue));
  assert.deepStrictEqual(labels, hashes.map((x) => x.slice(0, 7)));
  const subjects = await page.$$eval('svg.pg-chart text.pg-subject title', (t) => t.map((x) => x.textContent));
  assert.ok(subjects.some((s) => s.includes(SUBJECT(5))), 'the subject, as text');
  const keys = await page.textContent('.pg-series-key');
  assert.match(keys, /work/);
  await page.close();
});

test('the step shows in the medians of work', async () => {
  const { page } = await h.open(browser, path.join(dir, 'history.html'));
  const work = await page.evaluate(() => PG.data().series.find((s) => s.function === 'app.py:work'));
  assert.ok(work, 'work is charted');
  const before = Math.max(...work.median.slice(0, 3)), after = Math.min(...work.median.slice(3));
  assert.ok(after > 2 * before, 'medians ' + work.median);
  for (let i = 0; i < 5; i++) assert.ok(work.low[i] <= work.median[i] && work.median[i] <= work.high[i]);
  await page.close();
});
