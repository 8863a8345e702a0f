/*
 * history.js - the page of `perfguard report --history N`: per benchmark
 * a line chart of its profiled total and one of its top functions' self
 * times over the commits of first-parent history (oldest left), each
 * point a median with its 95% interval drawn as a bar, commits labelled
 * by short hash (hover: subject and date), change points as dashed
 * vertical lines with their step.
 *
 * Data (written by src/report/html_history.c into #pg-data):
 *   {kind: "history", commits: [{commit, subject, time}],   oldest first
 *    series: [{bench, function (null: the total), median[], low[], high[]
 *              (ns per commit, null where not measured),
 *              change_points: [{index, change_pct}]}]}
 */
'use strict';

(function () {
  var data = PG.data(), C = data.commits;
  var main = document.getElementById('pg-main');
  var COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#0a7f8c', '#9a6700', '#bf3989'];

  if (!C.length) {
    main.appendChild(PG.el('p', { cls: 'pg-warn', text: 'No stored baselines among these commits: record some with `perfguard baseline update`.' }));
    document.body.setAttribute('data-ready', '1');
    return;
  }
  main.appendChild(PG.el('p', { cls: 'pg-note', text: 'Oldest commit on the left. Points are medians over each baseline\'s trials; bars their 95% intervals. Dashed lines are change points.' }));

  var benches = [];
  data.series.forEach(function (s) {
    var b = benches.find(function (x) { return x.name === s.bench; });
    if (!b) { b = { name: s.bench, total: null, funcs: [] }; benches.push(b); }
    if (s.function === null) b.total = s; else b.funcs.push(s);
  });

  benches.forEach(function (b, bi) {
    var sec = PG.el('section', { cls: 'pg-section pg-bench', id: 'bench-' + bi }, [PG.el('h2', { text: 'Benchmark ' + b.name })]);
    main.appendChild(sec);
    if (b.total) {
      sec.appendChild(PG.el('h3', { text: 'Profiled total' }));
      sec.appendChild(chart([b.total], function () { return COLOURS[0]; }));
    }
    if (b.funcs.length) {
      sec.appendChild(PG.el('h3', { text: 'Top functions (self time)' }));
      sec.appendChild(chart(b.funcs, function (i) { return COLOURS[(i + 1) % COLOURS.length]; }));
      sec.appendChild(PG.el('div', { cls: 'pg-series-key' }, b.funcs.map(function (s, i) {
        var sw = PG.el('span', { cls: 'pg-swatch' });
        sw.style.background = COLOURS[(i + 1) % COLOURS.length];
        return PG.el('span', { cls: 'pg-legend-item', title: s.function }, [sw, PG.shortName(s.function)]);
      })));
    }
  });

  /* One SVG chart of several series sharing the commit axis. */
  function chart(series, colourOf) {
    var W = Math.max(480, Math.min(1200, main.clientWidth || 900)), H = 220;
    var left = 64, right = 48, top = 10, bottom = 50;
    var lo = Infinity, hi = -Infinity;
    series.forEach(function (s) {
      for (var i = 0; i < C.length; i++) {
        if (s.low[i] !== null) lo = Math.min(lo, s.low[i]);
        if (s.high[i] !== null) hi = Math.max(hi, s.high[i]);
      }
    });
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    lo = Math.min(0, lo);
    if (hi <= lo) hi = lo + 1;
    hi *= 1.05;
    var n = C.length, step = n > 1 ? (W - left - right) / (n - 1) : 0;
    function x(i) { return n > 1 ? left + i * step : (left + W - right) / 2; }
    function y(v) { return top + (1 - (v - lo) / (hi - lo)) * (H - top - bottom); }
    var svg = PG.svgEl('svg', { width: W, height: H, class: 'pg-chart', role: 'img', 'aria-label': 'history chart' });
    /* grid and y labels */
    for (var g = 0; g <= 4; g++) {
      var v = lo + (hi - lo) * g / 4;
      svg.appendChild(PG.svgEl('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'pg-grid' }));
      svg.appendChild(PG.svgEl('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', text: PG.fmtNs(v) }));
    }
    /* commit labels: short hashes, thinned to fit */
    var every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((W - left - right) / 64))));
    C.forEach(function (c, i) {
      if (i % every && i !== n - 1) return;
      var room = Math.max(4, Math.floor(step * every / 6.2) - 1), subject = c.subject || '';
      if (subject.length > room) subject = subject.slice(0, room - 1) + '…';
      var t = PG.svgEl('text', { x: x(i), y: H - bottom + 16, 'text-anchor': 'middle', class: 'pg-commit', text: c.commit.slice(0, 7) });
      var s2 = PG.svgEl('text', { x: x(i), y: H - bottom + 30, 'text-anchor': 'middle', class: 'pg-subject', text: subject });
      var full = c.commit.slice(0, 10) + ' ' + (c.subject || '') + ' (' + new Date(c.time * 1000).toISOString().slice(0, 16).replace('T', ' ') + ')';
      t.appendChild(PG.svgEl('title', { text: full }));
      s2.appendChild(PG.svgEl('title', { text: full }));
      svg.appendChild(t);
      svg.appendChild(s2);
    });
    svg.appendChild(PG.svgEl('line', { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: 'pg-axis' }));
    series.forEach(function (s, si) {
      var colour = colourOf(si), d = '', pen = false;
      /* change points */
      (s.change_points || []).forEach(function (cp) {
        var cx = (x(cp.index - 1) + x(cp.index)) / 2;
        svg.appendChild(PG.svgEl('line', { x1: cx, x2: cx, y1: top, y2: H - bottom, class: 'pg-cp', stroke: colour }));
        var label = PG.svgEl('text', { x: cx + 3, y: top + 10 + 12 * si, class: 'pg-cp-label', text: PG.fmtPct(cp.change_pct) });
        label.style.fill = colour;
        svg.appendChild(label);
      });
      for (var i = 0; i < n; i++) {
        if (s.median[i] === null) { pen = false; continue; }
        d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(s.median[i]).toFixed(1);
        pen = true;
      }
      svg.appendChild(PG.svgEl('path', { d: d, fill: 'none', stroke: colour, 'stroke-width': 1.6 }));
      for (i = 0; i < n; i++) {
        if (s.median[i] === null) continue;
        var bar = PG.svgEl('line', { x1: x(i), x2: x(i), y1: y(s.low[i]), y2: y(s.high[i]), stroke: colour, 'stroke-width': 1, 'stroke-opacity': 0.6 });
        svg.appendChild(bar);
        var dot = PG.svgEl('circle', { cx: x(i), cy: y(s.median[i]), r: 3.2, fill: colour, class: 'pg-point', 'data-index': i });
        dot.appendChild(PG.svgEl('title', { text: (s.function || 'total') + '\n' + C[i].commit.slice(0, 10) + ' ' + (C[i].subject || '') + '\n' +
          PG.fmtNs(s.median[i]) + ' [' + PG.fmtNs(s.low[i]) + ', ' + PG.fmtNs(s.high[i]) + ']' }));
        svg.appendChild(dot);
      }
    });
    return svg;
  }

  document.body.setAttribute('data-ready', '1');
})();
