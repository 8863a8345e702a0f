/*
 * check.js - the page of `perfguard check --html` / `compare --html`: the
 * verdict table, then per benchmark a differential flame graph and the
 * per-trial values of every judged verdict.
 *
 * Data (written by src/report/html_check.c into #pg-data):
 *   {kind: "check", base_label, head_label, mode, base_commit, head_commit,
 *    mismatch (what differs, or null), regressions, failed, inconclusive
 *    (benchmarks too few trials left undecided: exit 2),
 *    benches: [{name, status (ok, one-sided, not-compared, or the failed
 *      side's status), failed_side?, error?, output?, base_trials,
 *      head_trials,
 *      funcs: {id[], file[], line[], flags[]},
 *      tree: {parent[], func[], side[] (1 head, 2 base, 3 both),
 *             hself[], bself[], hcalls[], bcalls[]}   per-trial means
 *      verdicts: [{the fields of a verdict in the check report's JSON
 *                  (docs/check-format.md: function, metric, kind, statement,
 *                  ci_lo_pct, q, q_faster, base_value, cause (why it
 *                  regressed: {kind, text, lead, at_file, at_line, ...}
 *                  or null), ...), change (what the page ranks and
 *                  colours by; calls: growth in calls),
 *                  base_trials[], head_trials[] (judged ones)}]}]}
 *
 * Colours of the differential flame graph (PG.diffColour): a function the
 * verdicts judged slower (regressed, time or calls) is strong red, judged
 * faster (improved) strong blue, with intensity growing with the
 * estimate; every other frame is at most a pale tint of its own change,
 * so only what the statistics call real stands out. Frames only on head
 * are green and hatched, frames only on base grey and hatched (drawn at
 * base's time).
 */
'use strict';

(function () {
  var data = PG.data();
  var main = document.getElementById('pg-main');
  var ORDER = { regressed: 0, improved: 1, unclear: 2, unchanged: 3 };

  /* ---- status ---- */
  var status;
  if (data.failed) status = PG.el('div', { cls: 'pg-status pg-status-fault', id: 'pg-status', text: 'A benchmark failed to run: the check cannot vouch for it (exit 3).' });
  else if (data.regressions) status = PG.el('div', { cls: 'pg-status pg-status-fail', id: 'pg-status', text: data.regressions + (data.regressions === 1 ? ' regression' : ' regressions') + ' beyond the thresholds (exit 1).' });
  else if (data.inconclusive) status = PG.el('div', { cls: 'pg-status pg-status-fault', id: 'pg-status', text: 'Inconclusive: too few trials to judge ' + data.inconclusive + (data.inconclusive === 1 ? ' benchmark' : ' benchmarks') + ' (exit 2); measure more trials.' });
  else status = PG.el('div', { cls: 'pg-status pg-status-ok', id: 'pg-status', text: 'No regression beyond the thresholds.' });
  main.appendChild(status);
  var facts = [['base', (data.base_label || 'base') + (data.base_commit ? ' (' + data.base_commit.slice(0, 10) + ')' : '')],
    ['head', (data.head_label || 'head') + (data.head_commit ? ' (' + data.head_commit.slice(0, 10) + ')' : '')],
    ['mode', data.mode || '-'], ['benchmarks', String(data.benches.length)]];
  main.appendChild(PG.el('dl', { cls: 'pg-facts' }, facts.map(function (f) {
    return PG.el('div', null, [PG.el('dt', { text: f[0] }), PG.el('dd', { text: f[1] })]);
  })));
  if (data.mismatch) main.appendChild(PG.el('p', { cls: 'pg-warn', text: 'Base and head were measured in different environments (' + data.mismatch + ' differs): differences may come from the machine.' }));
  var notCompared = data.benches.filter(function (b) { return b.status === 'not-compared'; }).map(function (b) { return b.name; });
  if (notCompared.length) main.appendChild(PG.el('p', { cls: 'pg-warn', text: 'Not compared (failed on base before any trial, ran cleanly on head): ' + notCompared.join(', ') + '.' }));

  /* ---- verdict table ---- */
  var judged = [];
  data.benches.forEach(function (b, bi) {
    b.verdicts.forEach(function (v) {
      if (v.kind in ORDER) judged.push({ b: b, bi: bi, v: v });
    });
  });
  function lead(v) { return v.cause && v.cause.lead ? 1 : 0; }
  judged.sort(function (x, y) {
    var k = ORDER[x.v.kind] - ORDER[y.v.kind];
    if (k) return k;
    k = lead(y.v) - lead(x.v); /* the only changed function first */
    if (k) return k;
    var cx = isFinite(x.v.change) ? x.v.change : 0, cy = isFinite(y.v.change) ? y.v.change : 0;
    return x.v.kind === 'improved' ? cx - cy : cy - cx;
  });
  var sec = PG.el('section', { cls: 'pg-section' }, [PG.el('h2', { text: 'Verdicts' })]);
  main.appendChild(sec);
  var table = PG.el('table', { cls: 'pg-table', id: 'pg-verdicts' }, [PG.el('thead', null, [PG.el('tr', null,
    ['benchmark', 'function', 'metric', 'verdict', 'change', '95% interval', 'q', 'base → head', 'calls', 'why'].map(function (h) { return PG.el('th', { text: h }); }))])]);
  var tbody = PG.el('tbody');
  table.appendChild(tbody);
  sec.appendChild(table);
  var quiet = 0;
  judged.forEach(function (j) {
    var v = j.v, tr = verdictRow(j.b, v);
    if (v.kind === 'unchanged') { tr.classList.add('pg-quiet'); tr.hidden = true; quiet++; }
    tr.addEventListener('click', function () { focusVerdict(j.bi, v); });
    tbody.appendChild(tr);
  });
  if (!judged.length) sec.appendChild(PG.el('p', { cls: 'pg-note', text: 'Nothing was judged (no benchmark ran on both sides).' }));
  if (quiet) {
    var toggle = PG.el('button', { type: 'button', cls: 'pg-btn', text: 'Show ' + quiet + ' unchanged' });
    toggle.addEventListener('click', function () {
      var show = toggle.textContent.indexOf('Show') === 0;
      Array.prototype.forEach.call(tbody.querySelectorAll('tr.pg-quiet'), function (r) { r.hidden = !show; });
      toggle.textContent = (show ? 'Hide ' : 'Show ') + quiet + ' unchanged';
    });
    sec.appendChild(toggle);
  }

  function fmtValue(v, x) {
    return v.metric === 'calls' ? PG.fmtCount(x) : PG.fmtNs(x);
  }
  function kindChip(kind) {
    return PG.el('span', { cls: 'pg-kind pg-kind-' + kind, text: kind.replace('_', ' ') });
  }
  function changeCell(v) {
    var c = v.change;
    return PG.el('td', { cls: 'pg-num ' + (c > 0 ? 'pg-slower' : c < 0 ? 'pg-faster' : ''), text: PG.fmtPct(c) });
  }
  function verdictRow(b, v) {
    var who = v.function ? PG.shortName(v.function) : '(' + v.metric + ')';
    var base = v.metric === 'calls' ? PG.fmtCount(v.base_calls) : PG.fmtNs(v.base_value);
    var head = v.metric === 'calls' ? PG.fmtCount(v.head_calls) : PG.fmtNs(v.head_value);
    var q = v.kind === 'improved' ? v.q_faster : v.q; /* the test that decided it */
    return PG.el('tr', { 'data-kind': v.kind }, [
      PG.el('td', { text: b.name }),
      PG.el('td', { title: v.function || '' }, [who, v.function ? PG.el('div', { cls: 'pg-sub', text: v.function }) : null]),
      PG.el('td', { text: v.metric }),
      PG.el('td', null, [kindChip(v.kind)]),
      changeCell(v),
      PG.el('td', { cls: 'pg-num', text: v.metric === 'calls' ? 'exact' : isFinite(v.ci_lo_pct) && v.ci_lo_pct !== null ? '[' + PG.fmtPct(v.ci_lo_pct) + ', ' + PG.fmtPct(v.ci_hi_pct) + ']' : '' }),
      PG.el('td', { cls: 'pg-num', text: q === null || !isFinite(q) ? '-' : q < 0.001 ? q.toExponential(0) : q.toPrecision(2) }),
      PG.el('td', { cls: 'pg-num', text: base + ' → ' + head }),
      PG.el('td', { cls: 'pg-num', text: v.function ? PG.fmtCount(v.base_calls) + ' → ' + PG.fmtCount(v.head_calls) : '' }),
      whyCell(v)]);
  }
  function whyCell(v) {
    var c = v.cause;
    if (!c) return PG.el('td');
    var where = c.at_file ? c.at_file + (c.at_line ? ':' + c.at_line : '') : '';
    return PG.el('td', { cls: 'pg-why', 'data-cause': c.kind, title: where }, [
      PG.el('span', { cls: 'pg-kind pg-cause-' + c.kind, text: c.kind }), ' ',
      (c.lead ? 'the only changed function, and it is slower: ' : '') + c.text,
      where ? PG.el('div', { cls: 'pg-sub', text: 'changed: ' + where }) : null]);
  }

  /* ---- differential colours ---- */
  function mix(t, r, g, b) {
    /* From white (t = 0) to the colour (t = 1). */
    return 'rgb(' + Math.round(255 + (r - 255) * t) + ',' + Math.round(255 + (g - 255) * t) + ',' + Math.round(255 + (b - 255) * t) + ')';
  }
  var RED = [207, 34, 46], BLUE = [5, 80, 174];
  /* verdict: the function's deciding verdict or null; the frame's own values. */
  PG.diffColour = function (verdict, side, hself, bself) {
    if (side === 1) return 'rgb(166,222,176)';
    if (side === 2) return 'rgb(215,215,215)';
    if (verdict && verdict.kind === 'regressed') {
      var c = verdict.metric === 'calls' ? 100 : Math.abs(verdict.change || 0);
      return mix(Math.min(1, 0.6 + c / 100), RED[0], RED[1], RED[2]);
    }
    if (verdict && verdict.kind === 'improved') {
      return mix(Math.min(1, 0.6 + Math.abs(verdict.change || 0) / 100), BLUE[0], BLUE[1], BLUE[2]);
    }
    /* Not judged changed: a pale tint of the frame's own change, never strong. */
    var rel = bself > 0 ? (hself - bself) / bself : 0, t = Math.min(0.22, Math.abs(rel) * 0.5);
    if (t < 0.02) return 'rgb(236,236,236)';
    return rel > 0 ? mix(t, RED[0], RED[1], RED[2]) : mix(t, BLUE[0], BLUE[1], BLUE[2]);
  };

  /* ---- per benchmark ---- */
  var sections = [];
  data.benches.forEach(function (b, bi) { sections.push(benchSection(b, bi)); });

  function benchSection(b, bi) {
    var s = PG.el('section', { cls: 'pg-section pg-bench', id: 'bench-' + bi }, [PG.el('h2', { text: 'Benchmark ' + b.name })]);
    main.appendChild(s);
    var out = { section: s, flame: null, toolbar: null, rows: {} };
    if (b.status !== 'ok') {
      var err = PG.el('div', { cls: 'pg-bench-error' }, [PG.el('p', { cls: 'pg-warn', text: b.status === 'one-sided' ? 'Measured on one side only: not compared.' :
        b.status === 'not-compared' ? 'Failed on base before any trial, ran cleanly on head: not compared. Base: ' + (b.error || '') :
        b.status + ' on ' + (b.failed_side || '?') + ': ' + (b.error || '') })]);
      if (b.output) err.appendChild(PG.el('pre', { text: b.output }));
      s.appendChild(err);
    }
    var byFunc = {}, whole = [];
    b.verdicts.forEach(function (v) {
      if (!v.function) { whole.push(v); return; }
      /* The verdict that decides a function's colour: a regression or
       * improvement beats any other verdict of the same function. */
      var old = byFunc[v.function];
      if (!old || (ORDER[v.kind] !== undefined && (ORDER[old.kind] === undefined || ORDER[v.kind] < ORDER[old.kind]))) byFunc[v.function] = v;
    });
    whole.forEach(function (v) { s.appendChild(PG.el('p', { cls: 'pg-verdict-line' }, [kindChip(v.kind), ' ' + v.statement])); });
    s.appendChild(PG.el('p', { cls: 'pg-note', text: 'Base ' + b.base_trials + ' trials, head ' + b.head_trials + ' trials. Head\'s calling-context tree, coloured by change against base; widths are head\'s mean time per trial.' }));
    var T = b.tree, F = b.funcs;
    if (T.parent.length > 1) {
      var names = F.id.map(PG.shortName);
      var verdictOfFunc = F.id.map(function (id) { return byFunc[id] || null; });
      var value = T.hself.map(function (h, i) { return T.side[i] === 2 ? T.bself[i] : h; });
      var box = PG.el('div');
      var legend = PG.el('div', { cls: 'pg-legend' }, [
        swatch(PG.diffColour({ kind: 'regressed', change: 20 }), 'judged slower (regressed)'),
        swatch(PG.diffColour({ kind: 'improved', change: -20 }), 'judged faster (improved)'),
        swatch(PG.diffColour(null, 3, 120, 100), 'slower, not judged real'),
        swatch(PG.diffColour(null, 3, 80, 100), 'faster, not judged real'),
        swatch(PG.diffColour(null, 1), 'only in head', true),
        swatch(PG.diffColour(null, 2), 'only in base', true)]);
      s.appendChild(legend);
      s.appendChild(box);
      var flame = new PG.Flame(box, { parent: T.parent, func: T.func, value: value, names: names, ids: F.id }, {
        title: 'differential flame graph of ' + b.name,
        colour: function (node) {
          return PG.diffColour(verdictOfFunc[T.func[node]], T.side[node], T.hself[node], T.bself[node]);
        },
        marks: function (node) {
          var sd = T.side[node];
          return { hatch: sd !== 3, prefix: sd === 1 ? '+ ' : sd === 2 ? '− ' : '' };
        },
        details: function (node) {
          if (node === 0) return [['head total', PG.fmtNs(flame.total[0])]];
          var f = T.func[node], v = verdictOfFunc[f], rows = [];
          var sd = T.side[node];
          rows.push(['where', (F.file[f] || '?') + (F.line[f] ? ':' + F.line[f] : '')]);
          rows.push(['in', sd === 3 ? 'base and head' : sd === 1 ? 'head only (new here)' : 'base only (gone here)']);
          rows.push(['self here', PG.fmtNs(T.bself[node]) + ' → ' + PG.fmtNs(T.hself[node]) + (T.bself[node] > 0 && sd === 3 ? ' (' + PG.fmtPct((T.hself[node] / T.bself[node] - 1) * 100) + ')' : '')]);
          rows.push(['calls here', PG.fmtCount(T.bcalls[node]) + ' → ' + PG.fmtCount(T.hcalls[node])]);
          rows.push(['inclusive (head)', PG.fmtNs(flame.total[node]) + ' (' + PG.fmtShare(flame.total[node] / flame.total[0]) + ')']);
          rows.push(['verdict', v ? v.kind + ': ' + v.statement : 'not judged (below min_share, untracked or new)']);
          return rows;
        },
        onSelect: function (f) { highlight(out, F.id[f]); }
      });
      out.flame = flame;
      out.verdictOfFunc = verdictOfFunc;
      out.toolbar = PG.flameToolbar(flame);
      s.insertBefore(out.toolbar, legend);
    }
    /* ---- per-trial values of every judged verdict ---- */
    var rows = b.verdicts.filter(function (v) { return v.base_trials && (v.kind in ORDER || v.metric === 'calls'); });
    rows.sort(function (x, y) { return (ORDER[x.kind] - ORDER[y.kind]) || (Math.abs(y.change || 0) - Math.abs(x.change || 0)); });
    if (rows.length) {
      s.appendChild(PG.el('h3', { text: 'Per-trial values of the judged functions' }));
      s.appendChild(PG.el('p', { cls: 'pg-note', text: 'Each dot is one trial (raw values; the verdict compares them after the per-trial speed normalisation of docs/statistics.md). Top row base, bottom row head; ticks are medians.' }));
      var t = PG.el('table', { cls: 'pg-table pg-strips' }, [PG.el('thead', null, [PG.el('tr', null,
        ['function', 'metric', 'verdict', 'change', 'base ● / head ●'].map(function (h) { return PG.el('th', { text: h }); }))])]);
      var tb = PG.el('tbody');
      rows.forEach(function (v) {
        var tr = PG.el('tr', { 'data-func': v.function || '', 'data-kind': v.kind }, [
          PG.el('td', { title: v.function || '' }, [v.function ? PG.shortName(v.function) : '(' + v.metric + ')']),
          PG.el('td', { text: v.metric }),
          PG.el('td', null, [kindChip(v.kind)]),
          changeCell(v),
          PG.el('td', null, [strip(v)])]);
        tr.title = v.statement;
        tr.addEventListener('click', function () { if (v.function) focusVerdict(bi, v); });
        if (v.function) out.rows[v.function] = tr;
        tb.appendChild(tr);
      });
      t.appendChild(tb);
      s.appendChild(t);
    }
    return out;
  }

  function swatch(colour, text, hatch) {
    var sw = PG.el('span', { cls: 'pg-swatch' });
    sw.style.background = hatch ? 'repeating-linear-gradient(135deg,' + colour + ' 0 3px, #888 3px 4px)' : colour;
    return PG.el('span', { cls: 'pg-legend-item' }, [sw, text]);
  }

  /* A strip plot: base trials on the top row, head trials below. */
  function strip(v) {
    var W = 300, H = 34, pad = 6;
    var bv = v.base_trials || [], hv = v.head_trials || [], all = bv.concat(hv);
    var svg = PG.svgEl('svg', { width: W, height: H, class: 'pg-strip', role: 'img', 'aria-label': 'per-trial values' });
    if (!all.length) return svg;
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    if (hi === lo) { hi = lo + 1; lo = lo - 1; }
    function x(val) { return pad + (val - lo) / (hi - lo) * (W - 2 * pad); }
    var headColour = v.kind === 'regressed' ? '#cf222e' : v.kind === 'improved' ? '#0550ae' : '#444';
    [[bv, 9, '#8c959f'], [hv, 25, headColour]].forEach(function (row) {
      svg.appendChild(PG.svgEl('line', { x1: pad, x2: W - pad, y1: row[1], y2: row[1], stroke: '#eef1f4' }));
      row[0].forEach(function (val, k) {
        var c = PG.svgEl('circle', { cx: x(val).toFixed(1), cy: row[1], r: 3.2, fill: row[2], 'fill-opacity': 0.75 });
        c.appendChild(PG.svgEl('title', { text: 'trial ' + (k + 1) + ': ' + fmtValue(v, val) }));
        svg.appendChild(c);
      });
      if (row[0].length) {
        var sorted = row[0].slice().sort(function (a, b) { return a - b; }), n = sorted.length;
        var med = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        svg.appendChild(PG.svgEl('line', { x1: x(med), x2: x(med), y1: row[1] - 7, y2: row[1] + 7, stroke: row[2], 'stroke-width': 2 }));
      }
    });
    svg.appendChild(PG.svgEl('title', { text: fmtValue(v, lo) + ' … ' + fmtValue(v, hi) }));
    return svg;
  }

  function highlight(out, id) {
    var old = out.section.querySelector('tr.pg-sel');
    if (old) old.classList.remove('pg-sel');
    if (out.rows[id]) out.rows[id].classList.add('pg-sel');
  }

  /* From a verdict row: scroll to its benchmark and search its function. */
  function focusVerdict(bi, v) {
    var out = sections[bi];
    out.section.scrollIntoView({ block: 'start' });
    if (out.toolbar && v.function) out.toolbar.search('=' + v.function);
    if (v.function) highlight(out, v.function);
  }

  document.body.setAttribute('data-ready', '1');
})();
