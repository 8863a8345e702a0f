/*
 * screenshots.js - the README's pictures of the three page kinds, taken
 * in Debian's headless Chromium the same way the tests open pages.
 *
 *   node tests/browser/screenshots.js OUTDIR PROFILE.html CHECK.html HISTORY.html
 *
 * The profile is shown with one frame hovered; the check page from its
 * top (verdicts, the differential flame graph, the strip plots); the
 * history page whole. Writes OUTDIR/{profile,check,history}.png.
 */
'use strict';
const path = require('node:path');
const h = require('./harness');

async function main() {
  const [out, profile, check, history] = process.argv.slice(2);
  if (!history) {
    console.error('usage: node screenshots.js OUTDIR PROFILE.html CHECK.html HISTORY.html');
    process.exit(2);
  }
  const browser = await h.launch();
  try {
    let { page, problems } = await h.open(browser, profile);
    const frames = await h.frames(page, 0);
    const deep = frames.filter((f) => !f.aggregate && f.id && f.w > 80).sort((a, b) => a.y - b.y)[0];
    if (deep) await page.mouse.move(deep.px, deep.py);
    await page.screenshot({ path: path.join(out, 'profile.png'), clip: { x: 0, y: 0, width: 1200, height: 760 } });
    report(problems, profile);
    await page.close();

    ({ page, problems } = await h.open(browser, check));
    await page.screenshot({ path: path.join(out, 'check.png'), fullPage: true });
    report(problems, check);
    await page.close();

    ({ page, problems } = await h.open(browser, history));
    await page.screenshot({ path: path.join(out, 'history.png'), fullPage: true });
    report(problems, history);
    await page.close();
  } finally {
    await browser.close();
  }
}

function report(problems, file) {
  if (problems.length) {
    console.error(file + ': ' + problems.join('\n'));
    process.exitCode = 1;
  }
}

main();
