/*
 * speedscope.test.js - perfguard's files in a real consumer: speedscope's
 * own page (npm `speedscope`, pinned in package-lock.json, opened from
 * node_modules as a file:// page that must load nothing from the network)
 * imports them the way a user does, through its file input. The real
 * binary records a Python program with two known hot functions called
 * from a method of a class with a non-ASCII name (the program runs until
 * the sampler itself says it has taken enough samples, so no clock is
 * involved) in cpu and in wall mode; each pprof window
 * (gzip'd profile.proto) must import without an error or alert, show its
 * file name as the profile's name, and list in speedscope's Sandwich table
 * every function with exactly the total and self time that an independent
 * reader of the file (tests/e2e/pprof_reader.py) sums for the profile's
 * default sample type: a wrong sample type, unit, string index or stack
 * order would show other numbers. The same for `perfguard profile
 * --format speedscope`, whose evented files the test replays itself (one
 * from a hook file with negative compensated nodes, which once made
 * speedscope refuse the export: its event clock ran backwards).
 * `go tool pprof -top` reads windows of the same writer in
 * tests/e2e/test_record.py.
 */
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./harness');

const SPEEDSCOPE = path.join(__dirname, 'node_modules', 'speedscope', 'dist', 'release', 'index.html');
if (!fs.existsSync(SPEEDSCOPE)) {
  if (process.env.CI) throw new Error('no ' + SPEEDSCOPE + ' (npm ci in tests/browser)');
  console.log('SKIP: speedscope is not installed (npm ci in tests/browser)');
  process.exit(77);
}

// Under Café.handle, parse_rows does several times render_page's work.
const FUNCS = `
def parse_rows(n):
    s = 0
    for i in range(n):
        if i % 3:
            s += i * i
    return s

def render_page(n):
    out, i = [], 0
    while i < n:
        out.append(i)
        i += 1
    return len(out)

class Café:  # a non-ASCII name: UTF-8 through the string table
    def handle(self, n):
        return parse_rows(3 * n) + render_page(n)
`;
const RECORDED = `import perfguard.sampler as sampler
${FUNCS}
while sampler.info()["samples"] < 400:
    Café().handle(1000)
`;
const PROFILED = `${FUNCS}
for _ in range(20):
    Café().handle(10000)
`;

// Per function of a pprof file: the summed total and self values of its
// default sample type, read by the e2e tests' own protobuf reader.
const PPROF_SUMS = `
import json, sys
import pprof_reader
p = pprof_reader.read(sys.argv[1])
k = [t for t, _ in p["sample_type"]].index(p["default_sample_type"])
sums = {}
for s in p["samples"]:
    v = s["values"][k]
    for name in set(s["stack"]):
        sums.setdefault(name, [0, 0])[0] += v
    if s["stack"]:
        sums[s["stack"][0]][1] += v
print(json.dumps({"type": p["sample_type"][k], "sums": sums}))
`;

let browser, dir;

before(async () => {
  dir = h.tmpdir();
  fs.writeFileSync(path.join(dir, 'app.py'), RECORDED);
  fs.writeFileSync(path.join(dir, 'work.py'), PROFILED);
  browser = await h.launch();
});

after(async () => { if (browser) await browser.close(); });

/* speedscope 1.25.0's TimeFormatter for a value in nanoseconds. */
function speedscopeTime(ns) {
  const s = ns * 1e-9;
  if (s / 60 >= 1) {
    const minutes = Math.floor(s / 60);
    return minutes + ':' + String(Math.floor(s - minutes * 60)).padStart(2, '0');
  }
  if (s / 1 >= 1) return s.toFixed(2) + 's';
  if (s / 1e-3 >= 1) return (s / 1e-3).toFixed(2) + 'ms';
  if (s / 1e-6 >= 1) return (s / 1e-6).toFixed(2) + 'µs';
  return (s / 1e-9).toFixed(2) + 'ns';
}

/* One window of `perfguard record` in `mode`: its path and the sums. */
function recordWindow(mode) {
  const out = path.join(dir, 'prof-' + mode);
  const r = h.perfguard(['record', '-q', '--rate', '500', '--mode', mode, '--window', '1h',
    '--out', out, '--', 'app.py'], dir);
  assert.strictEqual(r.status, 0, r.stderr);
  const windows = fs.readdirSync(out).filter((f) => f.endsWith('.pb.gz'));
  assert.strictEqual(windows.length, 1, windows.join(','));
  const file = path.join(out, windows[0]);
  const sums = JSON.parse(execFileSync('python3', ['-c', PPROF_SUMS, file], {
    encoding: 'utf8',
    env: Object.assign({}, process.env, { PYTHONPATH: path.join(__dirname, '..', 'e2e') }),
  }));
  return { file, sums };
}

/*
 * Open speedscope, wait until its WebGL canvas is set up (a file chosen
 * before that is silently dropped), choose `file` in its file input and
 * wait for the import's outcome: a titled profile, the error view, or an
 * alert. Returns the page and its problems (see harness.open).
 */
async function importFile(file) {
  const { page, problems } = await h.open(browser, SPEEDSCOPE, { noReady: true });
  page.setDefaultTimeout(0);
  // the Sandwich table draws only the rows in view: room for ~95 of them
  await page.setViewportSize({ width: 1200, height: 2000 });
  // speedscope logs why an import failed (then shows its error view)
  page.on('console', (m) => { if (/^Failed to load format/.test(m.text())) problems.push('speedscope: ' + m.text()); });
  await page.waitForFunction(() => typeof window.testContextLoss === 'function' ||
    /Something went wrong/.test(document.body.innerText));
  const alerted = page.waitForEvent('dialog').catch(() => null);
  await page.setInputFiles('input[type=file]', file);
  await Promise.race([alerted, page.waitForFunction(() => document.title !== 'speedscope' ||
    /Something went wrong/.test(document.body.innerText))]);
  return { page, problems };
}

/* The Sandwich view's table: {function name: [total, self]} as shown. */
async function sandwich(page) {
  await page.click('text=Sandwich');
  await page.waitForSelector('tr td');
  const rows = await page.$$eval('tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  const out = {};
  for (const cells of rows.filter((c) => c.length === 3))
    out[cells[2]] = cells.slice(0, 2).map((c) => c.replace(/ \(.*\)$/, ''));
  return out;
}

/* The page imported `file` as a profile named `name`, without errors. */
async function assertImported(page, problems, name) {
  assert.deepStrictEqual(problems, []);
  const text = await page.innerText('body');
  assert.doesNotMatch(text, /Something went wrong/);
  assert.strictEqual(await page.title(), name + ' - speedscope');
  assert.ok(text.includes(name), 'the toolbar names the profile ' + name + ': ' + text.slice(0, 200));
}

/* Every function with time shows exactly `sums`' [total, self] times. */
function assertTimes(table, sums) {
  for (const [fn, [total, self]] of Object.entries(sums)) {
    if (total <= 0) continue;
    assert.deepStrictEqual(table[fn], [speedscopeTime(total), speedscopeTime(self)],
      fn + ' in the Sandwich table: ' + JSON.stringify(table));
  }
  for (const fn of Object.keys(table))
    assert.ok(fn in sums, fn + ' is not a function of the file');
}

for (const mode of ['cpu', 'wall']) {
  test('speedscope imports a ' + mode + '-mode pprof window of perfguard record', async () => {
    const { file, sums } = recordWindow(mode);
    assert.deepStrictEqual(sums.type, [mode, 'nanoseconds']);
    const { page, problems } = await importFile(file);
    await assertImported(page, problems, path.basename(file));
    const table = await sandwich(page);
    assert.ok('app.py:parse_rows' in table && 'app.py:render_page' in table && 'app.py:Café.handle' in table,
      JSON.stringify(table));
    assertTimes(table, sums.sums);
    const self = (fn) => sums.sums[fn][1];
    assert.ok(self('app.py:parse_rows') > self('app.py:render_page'), JSON.stringify(sums));
    assert.ok(self('app.py:Café.handle') < self('app.py:render_page'), JSON.stringify(sums));
    assert.deepStrictEqual(problems, []);
    await page.close();
  });
}

/* Replay an evented speedscope profile: {frame name: [total, self]}. */
function replayEvented(doc) {
  const prof = doc.profiles[0], frames = doc.shared.frames, sums = {}, stack = [];
  let at = prof.startValue;
  for (const ev of prof.events) {
    const delta = ev.at - at;
    for (const f of new Set(stack)) (sums[frames[f].name] ||= [0, 0])[0] += delta;
    if (stack.length) sums[frames[stack[stack.length - 1]].name][1] += delta;
    at = ev.at;
    if (ev.type === 'O') stack.push(ev.frame);
    else assert.strictEqual(stack.pop(), ev.frame, 'events close the frame they opened');
  }
  assert.strictEqual(stack.length, 0);
  return sums;
}

/* Import a speedscope JSON file of perfguard's: named `name`, showing
 * `funcs`, every function's times as the test's replay of its events. */
async function checkEvented(file, name, funcs) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.strictEqual(doc.profiles[0].name, name);
  const { page, problems } = await importFile(file);
  await assertImported(page, problems, name);
  const table = await sandwich(page);
  for (const fn of funcs)
    assert.ok(fn in table, fn + ' missing from ' + JSON.stringify(table));
  const sums = replayEvented(doc);
  assertTimes(table, sums);
  assert.deepStrictEqual(problems, []);
  await page.close();
  return sums;
}

test('speedscope imports perfguard profile --format speedscope', async () => {
  const file = path.join(dir, 'work.speedscope.json');
  const r = h.perfguard(['profile', '-q', '--format', 'speedscope', '-o', file, 'work.py'], dir);
  assert.strictEqual(r.status, 0, r.stderr);
  const sums = await checkEvented(file, 'work.py', ['work.py:parse_rows', 'work.py:render_page', 'work.py:Café.handle']);
  assert.ok(sums['work.py:parse_rows'][1] > sums['work.py:render_page'][1], JSON.stringify(sums));
});

// A hook file (docs/hook-protocol.md) whose compensation left two nodes
// slightly negative, as it may on tiny bodies: speedscope refuses events
// whose clock runs backwards, so the export spends 0 ns there.
const NEGATIVE_WIRE = ['perfguard-wire\t1', 'mechanism\tsetprofile', 'timer\tclock_gettime',
  'python\t3.11.2', 'event_cost_ns\t40', 'wall_ns\t1000000', 'threads\t1', 'events\t6', 'unmatched\t0',
  'F\t0\t0\t1\tw.py:main\tw.py', 'F\t1\t0\t5\tw.py:empty\tw.py', 'F\t2\t0\t9\tw.py:work\tw.py',
  'S\t0\t1\t1\t0\t-100\t899950', 'S\t1\t1\t1\t0\t-50\t0', 'S\t2\t1\t1\t0\t900000\t900000',
  'N\t1\t0\t0\t1\t-100\t899850', 'N\t2\t1\t1\t1\t-50\t0', 'N\t3\t1\t2\t1\t900000\t900000',
  'end\t3', ''].join('\n');

test('speedscope imports a hook profile with negative compensated nodes', async () => {
  fs.writeFileSync(path.join(dir, 'hook.wire'), NEGATIVE_WIRE);
  const file = path.join(dir, 'hook.speedscope.json');
  const r = h.perfguard(['profile', '-q', '--from-wire', 'hook.wire', '--format', 'speedscope', '-o', file], dir);
  assert.strictEqual(r.status, 0, r.stderr);
  const sums = await checkEvented(file, 'hook.wire', ['w.py:main', 'w.py:work']);
  assert.deepStrictEqual(sums['w.py:main'], [900000, 0]);
});
