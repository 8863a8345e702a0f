/*
 * harness.js - what the browser tests share: one headless Debian Chromium
 * per test file (never a downloaded browser), pages opened from files
 * with every console error, uncaught exception and dialog recorded, and
 * the real perfguard binary run in temporary directories.
 *
 * A test file exits 77 (ctest's skip code for these tests) when
 * playwright-core is not installed (run `npm ci` in tests/browser; ci/test.sh
 * does) or /usr/bin/chromium is missing (ci/install-deps.sh installs it).
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const CHROMIUM = process.env.PG_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PERFGUARD = process.env.PERFGUARD || 'perfguard';
const SYNTH_PAGE = process.env.PG_SYNTH_PAGE || 'synth_page';

let playwright = null;
try {
  playwright = require('playwright-core');
} catch (e) {
  console.log('SKIP: playwright-core is not installed (npm ci in tests/browser)');
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log('SKIP: no ' + CHROMIUM + ' (apt-get install chromium)');
  process.exit(77);
}

function launch() {
  return playwright.chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/*
 * Open a page file and wait until its script says it is ready; returns
 * the page and `problems`, a live list of console errors, page errors,
 * dialogs (an injected alert() would show up here) and failed requests
 * (a page must load nothing).
 */
async function open(browser, file, opts) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e));
  page.on('dialog', (d) => { problems.push('dialog: ' + d.message()); d.dismiss(); });
  page.on('request', (r) => { if (!r.url().startsWith('file://') && !r.url().startsWith('data:')) problems.push('request: ' + r.url()); });
  await page.goto('file://' + path.resolve(file));
  if (!(opts && opts.noReady)) await page.waitForSelector('body[data-ready]');
  return { page, problems };
}

function tmpdir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-browser-'));
  process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/* Run perfguard; returns {status, stdout, stderr}. */
function perfguard(args, cwd) {
  const env = Object.assign({}, process.env);
  delete env.GITHUB_ACTIONS;
  delete env.GITHUB_STEP_SUMMARY;
  const r = spawnSync(PERFGUARD, args, { cwd, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function synth(args) {
  return execFileSync(SYNTH_PAGE, args, { encoding: 'utf8' });
}

/*
 * The frames a flame graph shows, with the viewport coordinates of their
 * centres (what page.mouse takes): the canvas is scrolled to the top of
 * the viewport first, since a long verdict table can push it below the
 * fold, where a mouse move would miss it.
 */
async function frames(page, index) {
  return page.evaluate((i) => {
    const f = PG.flames[i];
    f.canvas.scrollIntoView({ block: 'start' });
    const r = f.canvas.getBoundingClientRect();
    return f.visibleFrames().map((fr) => Object.assign(fr, { px: r.left + fr.x + Math.min(fr.w / 2, 40), py: r.top + fr.y + fr.h / 2, top: r.top + window.scrollY }));
  }, index || 0);
}

/* The colour drawn at (x, y) of flame graph `index`'s canvas (CSS px). */
async function pixel(page, index, x, y) {
  return page.evaluate(([i, px, py]) => {
    const c = PG.flames[i].canvas, dpr = c.width / c.clientWidth;
    const d = c.getContext('2d').getImageData(Math.round(px * dpr), Math.round(py * dpr), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, [index, x, y]);
}

module.exports = { launch, open, tmpdir, perfguard, synth, frames, pixel, PERFGUARD };
