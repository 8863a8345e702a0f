/*
 * check.test.js - `perfguard compare A B --html` in a real browser. Two
 * results sets are measured by the real binary (`perfguard run`) on a
 * real script: head makes one function 8x slower, another 3x faster and
 * calls a new one. The page must load without errors, list the
 * regression first, and colour every frame of the differential flame
 * graph as the verdicts of the same run's JSON report say (strong red
 * only for regressions, strong blue only for improvements, pale for the
 * rest, green for head-only frames), and plot each judged function's
 * per-trial values on both sides.
 */
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const APP = (slow, fast, extra) => `
def tokenize(text):
    return text.split()

def normalise(words):
    return [w.lower().strip(".,") for w in words]

def slow_part(words):
    total = 0
    for _ in range(${slow}):
        for w in words:
            total += 1
    return total

def fast_part(words):
    total = 0
    for _ in range(${fast}):
        for w in words:
            total += 1
    return total
${extra ? 'def only_here(words):\n    return sorted(words)\n' : ''}
def main():
    words = normalise(tokenize("The quick brown fox jumps over the lazy dog. " * 4000))
    slow_part(words)
    fast_part(words)
    ${extra ? 'only_here(words)' : 'pass'}
`;

let browser, dir, report;

const SUITE = 'python: /usr/bin/python3\ntrials: 10\nclock: cpu\nthresholds: {function: 10%, min_share: 2%, fdr: 0.05}\nbenchmarks:\n  - name: words\n    script: bench.py\n';

/* One side's project, measured by `perfguard run`; the suite is also the
 * one compare judges with (it runs in dir). */
function side(name, slow, fast, extra) {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'app.py'), APP(slow, fast, extra));
  for (const where of [d, dir]) {
    fs.writeFileSync(path.join(where, 'bench.py'), 'import app\napp.main()\n');
    fs.writeFileSync(path.join(where, 'perfguard.yml'), SUITE);
  }
  const r = h.perfguard(['run', '-q', '-o', path.join(dir, name + '.json')], d);
  assert.strictEqual(r.status, 0, r.stderr);
}

before(async () => {
  dir = h.tmpdir();
  side('base', 1, 3, false);
  side('head', 8, 1, true);
  const r = h.perfguard(['compare', '--html', 'check.html', '--json', 'check.json', 'base.json', 'head.json'], dir);
  assert.strictEqual(r.status, 1, 'compare: ' + r.stdout + r.stderr);
  report = JSON.parse(fs.readFileSync(path.join(dir, 'check.json'), 'utf8'));
  browser = await h.launch();
});

after(async () => { if (browser) await browser.close(); });

test('the verdict table lists the regression first', async () => {
  const { page, problems } = await h.open(browser, path.join(dir, 'check.html'));
  assert.deepStrictEqual(problems, []);
  assert.match(await page.textContent('#pg-status'), /regression/);
  const first = await page.$eval('#pg-verdicts tbody tr', (tr) => [tr.getAttribute('data-kind'), tr.cells[1].textContent]);
  assert.strictEqual(first[0], 'regressed');
  const regressed = report.verdicts.filter((v) => v.kind === 'regressed').map((v) => v.function || '(total)');
  assert.ok(regressed.includes('app.py:slow_part'), 'the JSON report agrees: ' + regressed);
  await page.close();
});

test('differential colours match the verdicts', async () => {
  const { page, problems } = await h.open(browser, path.join(dir, 'check.html'));
  const kindOf = {};
  for (const v of report.verdicts) {
    if (!v.function) continue;
    if (v.kind === 'regressed' || v.kind === 'improved' || !kindOf[v.function]) kindOf[v.function] = v.kind;
  }
  const frames = await h.frames(page, 0);
  const sideOf = await page.evaluate(() => PG.data().benches[0].tree.side);
  let strongRed = 0, strongBlue = 0, checked = 0;
  for (const f of frames) {
    if (!f.id || f.aggregate || f.ancestor || f.w < 4) continue;
    const [r, g, b] = await h.pixel(page, 0, f.x + 1, f.y + 2);
    const kind = kindOf[f.id], side = sideOf[f.node];
    const what = f.id + ' (' + kind + ', side ' + side + '): ' + [r, g, b];
    checked++;
    if (side === 1) { assert.ok(g > r && g > b, 'head-only is green: ' + what); continue; }
    if (side === 2) continue;
    if (kind === 'regressed') { assert.ok(r > 180 && g < 120 && b < 120, 'strong red: ' + what); strongRed++; }
    else if (kind === 'improved') { assert.ok(b > 130 && r < 100, 'strong blue: ' + what); strongBlue++; }
    else assert.ok(Math.min(r, g, b) > 190, 'pale: ' + what);
  }
  assert.ok(checked > 3 && strongRed >= 1, 'checked ' + checked + ' frames, ' + strongRed + ' red');
  assert.ok(frames.some((f) => f.label === 'only_here'), 'the new function is drawn');
  assert.deepStrictEqual(problems, []);
  await page.close();
});

test('hover shows base -> head and the verdict line', async () => {
  const { page } = await h.open(browser, path.join(dir, 'check.html'));
  const slow = (await h.frames(page, 0)).find((f) => f.id === 'app.py:slow_part');
  await page.mouse.move(slow.px, slow.py);
  const tip = await page.textContent('.pg-tip');
  assert.match(tip, /self here.*→/);
  assert.match(tip, /regressed: slow_part (self|inclusive) time \+/);
  await page.close();
});

test('every judged function has its per-trial values on both sides', async () => {
  const { page } = await h.open(browser, path.join(dir, 'check.html'));
  const judged = report.verdicts.filter((v) => ['regressed', 'improved', 'unclear', 'unchanged'].includes(v.kind));
  const strips = await page.$$eval('.pg-strips tbody tr', (rows) => rows.map((r) => ({
    func: r.getAttribute('data-func'), base: r.querySelectorAll('circle[fill="#8c959f"]').length,
    dots: r.querySelectorAll('circle').length })));
  assert.strictEqual(strips.length, judged.length);
  for (const s of strips) {
    assert.strictEqual(s.base, 10, 'ten base trials for ' + s.func);
    assert.strictEqual(s.dots, 20, 'ten head trials for ' + s.func);
  }
  await page.close();
});

test('a verdict row leads to its function in the flame graph', async () => {
  const { page } = await h.open(browser, path.join(dir, 'check.html'));
  await page.click('#pg-verdicts tbody tr[data-kind="regressed"] >> text=slow_part');
  assert.match(await page.textContent('.pg-search-result'), /1 function match/);
  await page.close();
});
