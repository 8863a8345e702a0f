/*
 * bench.js - how fast perfguard's profile page is in headless Chromium:
 * for synthetic profiles of chosen sizes (synth_page), the file size, the
 * time from navigation start until the page is interactive (flame graph
 * drawn, table filled, handlers attached: the page's own 'pg-ready'
 * mark), and the time one zoom click and one search take. Medians of
 * --rounds fresh page loads in one browser. A measurement, not a test:
 * nothing here fails on a slow machine.
 *
 *   node benches/pages/bench.js --synth build/benches/pages/synth_page \
 *        [--rounds 5] [--sizes 2000x50000,5000x200000]
 *
 * Needs tests/browser's node_modules (npm ci there) and /usr/bin/chromium.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
}
process.env.PG_SYNTH_PAGE = opt('--synth', 'build/benches/pages/synth_page');
const h = require('../../tests/browser/harness');
const rounds = +opt('--rounds', '5');
const sizes = opt('--sizes', '2000x50000,5000x200000').split(',').map((s) => s.split('x').map(Number));

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-page-bench-'));
  const browser = await h.launch();
  console.log('| functions | nodes | file | interactive (median, min–max) | zoom click | search |');
  console.log('|---|---|---|---|---|---|');
  try {
    for (const [funcs, nodes] of sizes) {
      const file = path.join(dir, `p${funcs}x${nodes}.html`);
      h.synth(['--funcs', String(funcs), '--nodes', String(nodes), '-o', file]);
      const size = fs.statSync(file).size;
      const ready = [], zoom = [], search = [];
      for (let r = 0; r < rounds; r++) {
        const { page, problems } = await h.open(browser, file);
        if (problems.length) throw new Error(problems.join('\n'));
        ready.push(await page.evaluate(() => performance.getEntriesByName('pg-ready')[0].startTime));
        const frames = await h.frames(page, 0);
        const target = frames.filter((f) => !f.aggregate && f.node !== 0 && !f.ancestor).sort((a, b) => b.w - a.w)[3];
        zoom.push(await page.evaluate(([x, y]) => {
          const c = PG.flames[0].canvas, t0 = performance.now();
          c.dispatchEvent(new MouseEvent('click', { clientX: x, clientY: y - window.scrollY, bubbles: true }));
          return performance.now() - t0;
        }, [target.px, target.py]));
        search.push(await page.evaluate(() => {
          const t0 = performance.now();
          PG.flames[0].search('method_1');
          return performance.now() - t0;
        }));
        await page.close();
      }
      console.log(`| ${funcs} | ${nodes} | ${(size / 1048576).toFixed(2)} MiB | ${median(ready).toFixed(0)} ms (${Math.min(...ready).toFixed(0)}–${Math.max(...ready).toFixed(0)}) | ${median(zoom).toFixed(1)} ms | ${median(search).toFixed(1)} ms |`);
    }
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${rounds} loads each; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
}

main().catch((e) => { console.error(e); process.exit(1); });
