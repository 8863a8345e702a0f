/*
 * profile.test.js - `perfguard profile --format html|svg` in a real
 * browser: a real script (nested calls, recursion, a generator, two
 * threads, a function whose name is made to break markup) is profiled by
 * the real binary; the page must load without errors or requests, show
 * the expected frames and thread count, zoom on click, find with search,
 * sort its table, show callers and callees, and keep the hostile name
 * inert. The SVG must be well-formed XML (xmllint) and zoom and search in
 * Chromium. Huge (200,000-node) and hostile synthetic trees must open.
 */
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./harness');

const HOSTILE = '</script><img src=x onerror="document.title=1">&amp;"\'';
const SCRIPT = `
import threading

def leaf(n):
    return sum(range(n))

def mid(n):
    return leaf(n) + leaf(n // 2)

def rec(n):
    return 0 if n == 0 else rec(n - 1) + leaf(50)

def gen(n):
    for i in range(n):
        yield leaf(i)

def evil():
    return leaf(300)
evil.__code__ = evil.__code__.replace(co_qualname=${JSON.stringify(HOSTILE)}, co_name="evil")

def worker():
    for _ in range(200):
        mid(300)

t = threading.Thread(target=worker)
t.start()
for _ in range(300):
    mid(1000)
    rec(6)
    sum(gen(20))
    evil()
t.join()
`;

let browser, dir, html, svg;

before(async () => {
  dir = h.tmpdir();
  fs.writeFileSync(path.join(dir, 'work.py'), SCRIPT);
  html = path.join(dir, 'work.html');
  svg = path.join(dir, 'work.svg');
  let r = h.perfguard(['profile', '-q', '--format', 'html', '-o', html, 'work.py'], dir);
  assert.strictEqual(r.status, 0, r.stderr);
  r = h.perfguard(['profile', '-q', '--format', 'svg', '-o', svg, 'work.py'], dir);
  assert.strictEqual(r.status, 0, r.stderr);
  browser = await h.launch();
});

after(async () => { if (browser) await browser.close(); });

test('the page is one file that loads nothing and has no errors', async () => {
  const text = fs.readFileSync(html, 'utf8');
  assert.doesNotMatch(text, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
  const { page, problems } = await h.open(browser, html);
  assert.deepStrictEqual(problems, []);
  assert.strictEqual(await page.title(), 'work.py');
  const facts = await page.textContent('#pg-facts');
  assert.match(facts, /threads\s*2/);
  await page.close();
});

test('the flame graph shows the calling contexts', async () => {
  const { page } = await h.open(browser, html);
  const labels = new Set((await h.frames(page)).map((f) => f.label));
  for (const name of ['all', 'work.py:<module>', 'mid', 'leaf', 'rec', 'worker', 'sum'])
    assert.ok(labels.has(name), name + ' missing from ' + [...labels].join(','));
  await page.close();
});

test('a click zooms into the frame, Reset zooms out', async () => {
  const { page, problems } = await h.open(browser, html);
  const mid = (await h.frames(page)).filter((f) => f.label === 'mid').sort((a, b) => b.w - a.w)[0];
  assert.ok(mid.w < 1100, 'mid is not yet full width');
  await page.mouse.click(mid.px, mid.py);
  const after = await h.frames(page);
  const zoomed = after.find((f) => f.node === mid.node);
  assert.ok(zoomed.w > 1100, 'mid fills the width after the click: ' + zoomed.w);
  assert.ok(after.every((f) => f.ancestor || f.node === mid.node || f.aggregate || f.label !== 'rec'), 'frames beside mid are gone');
  assert.match(await page.textContent('#pg-selected'), /Callers[\s\S]*work\.py:<module>|Callers[\s\S]*worker/);
  await page.click('text=Reset zoom');
  const back = (await h.frames(page)).find((f) => f.node === mid.node);
  assert.ok(back.w < 1100);
  assert.deepStrictEqual(problems, []);
  await page.close();
});

test('search highlights matches and reports their share', async () => {
  const { page } = await h.open(browser, html);
  await page.fill('.pg-search', 'leaf');
  const result = await page.textContent('.pg-search-result');
  const m = /(\d+) functions? match, ([\d.]+)% of the total/.exec(result);
  assert.ok(m, result);
  assert.strictEqual(m[1], '1');
  assert.ok(+m[2] > 0 && +m[2] < 100, result);
  const leaf = (await h.frames(page)).find((f) => f.label === 'leaf' && f.w > 20);
  const [r, g, b] = await h.pixel(page, 0, leaf.x + 1, leaf.y + 2);
  assert.ok(r > 180 && g < 110 && b > 180, 'leaf drawn in the search colour: ' + [r, g, b]);
  await page.fill('.pg-search', '/./');
  assert.match(await page.textContent('.pg-search-result'), /100(\.0)?% of the total/);
  await page.close();
});

test('hover shows the frame details', async () => {
  const { page } = await h.open(browser, html);
  const rec = (await h.frames(page)).find((f) => f.label === 'rec');
  await page.mouse.move(rec.px, rec.py);
  const tip = await page.textContent('.pg-tip');
  assert.match(tip, /work\.py:rec/);
  assert.match(tip, /calls here/);
  await page.close();
});

test('icicle puts the root on top', async () => {
  const { page } = await h.open(browser, html);
  const rootBefore = (await h.frames(page)).find((f) => f.node === 0);
  assert.ok(rootBefore.y > 0);
  await page.click('text=Icicle');
  const rootAfter = (await h.frames(page)).find((f) => f.node === 0);
  assert.strictEqual(rootAfter.y, 0);
  await page.close();
});

test('the function table sorts and marks generators', async () => {
  const { page } = await h.open(browser, html);
  await page.click('#pg-functions th[data-key="calls"]');
  const first = await page.$$eval('#pg-functions tbody tr', (rows) => rows.map((r) => r.cells[1].textContent));
  const calls = first.map((t) => +t.split('/')[0].replace(/,/g, ''));
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i - 1] >= calls[i], 'sorted by calls: ' + calls);
  const genRow = await page.textContent('#pg-functions tr:has-text("work.py:gen")');
  assert.match(genRow, /gen/);
  assert.ok(await page.$('#pg-functions tr:has-text("work.py:gen") .pg-badge'), 'generator marked');
  await page.close();
});

test('a hostile function name stays text', async () => {
  const { page, problems } = await h.open(browser, html);
  assert.deepStrictEqual(problems, []);
  assert.strictEqual(await page.title(), 'work.py');
  assert.strictEqual(await page.$('img'), null);
  const ids = await page.evaluate(() => PG.data().profile.funcs.id);
  assert.ok(ids.includes('work.py:' + HOSTILE), 'the id arrived intact: ' + ids.join(' | '));
  if (await page.isVisible('text=Show all')) await page.click('text=Show all');
  const text = await page.textContent('#pg-functions');
  assert.ok(text.includes(HOSTILE), 'shown literally');
  await page.close();
});

test('the SVG is well-formed, zooms and searches', async () => {
  execFileSync('xmllint', ['--noout', svg]);
  const text = fs.readFileSync(svg, 'utf8');
  assert.ok(text.includes('&lt;/script&gt;&lt;img'), 'hostile name escaped in the SVG');
  const { page, problems } = await h.open(browser, svg, { noReady: true });
  const index = await page.evaluate(() => {
    const gs = [...document.querySelectorAll('#frames g')];
    let best = -1, width = 0;
    gs.forEach((g, i) => {
      const w = +g.querySelector('rect').getAttribute('width');
      if (g.querySelector('title').textContent.split('\n')[0] === 'mid' && w > width) { best = i; width = w; }
    });
    return best;
  });
  assert.ok(index >= 0, 'a mid frame');
  const mid = page.locator('#frames g').nth(index);
  const before = +(await mid.locator('rect').getAttribute('width'));
  await mid.locator('rect').click();
  const after = +(await mid.locator('rect').getAttribute('width'));
  assert.ok(after > before && after > 1100, 'zoomed: ' + before + ' -> ' + after);
  assert.strictEqual(await page.$eval('#unzoom', (e) => e.getAttribute('class')), 'btn');
  await page.evaluate(() => search('leaf'));
  assert.match(await page.textContent('#matched'), /Matched: [\d.]+%/);
  assert.deepStrictEqual(problems, []);
  await page.close();
});

test('a 200,000-node tree opens, aggregating frames below a pixel', async () => {
  const file = path.join(dir, 'huge.html');
  h.synth(['--nodes', '200000', '--funcs', '5000', '-o', file]);
  const { page, problems } = await h.open(browser, file);
  const fr = await h.frames(page);
  assert.ok(fr.some((f) => f.aggregate), 'aggregated frames drawn');
  assert.ok(fr.length < 20000, 'only what is visible is laid out: ' + fr.length);
  assert.deepStrictEqual(problems, []);
  await page.close();
});

test('hostile synthetic names break neither the HTML nor the SVG', async () => {
  const file = path.join(dir, 'hostile.html'), sfile = path.join(dir, 'hostile.svg');
  h.synth(['--hostile', '--nodes', '3000', '--funcs', '300', '-o', file]);
  h.synth(['--hostile', '--nodes', '3000', '--funcs', '300', '--format', 'svg', '-o', sfile]);
  execFileSync('xmllint', ['--noout', sfile]);
  for (const f of [file, sfile]) {
    const { page, problems } = await h.open(browser, f, { noReady: f === sfile });
    assert.deepStrictEqual(problems, []);
    assert.notStrictEqual(await page.title(), 'pwned');
    assert.strictEqual(await page.$('evil, img'), null);
    await page.close();
  }
});
