/*
 * profile.js - the page of `perfguard profile --format html`: a flame
 * graph of the exact calling-context tree, a sortable function table and
 * the callers and callees of the selected function.
 *
 * Data (written by src/report/html_profile.c into #pg-data):
 *   {kind: "profile", title, profile: {
 *     meta:  {python, mechanism, timer, event_cost_ns, trials, threads,
 *             wall_ns, total_ns},                      medians over trials
 *     funcs: {id[], file[], line[], flags[], calls[], pcalls[], resumes[],
 *             self[], incl[], self_mad[]}               medians (ns, counts)
 *     nodes: {parent[], func[], calls[], self[]}        per-trial means
 *     edges: {caller[], callee[], calls[], incl[]}      per-trial means
 *   }}
 * Function index i is the same in every column.
 */
'use strict';

(function () {
  performance.mark('pg-start');
  var data = PG.data(), P = data.profile, F = P.funcs, meta = P.meta;
  var nf = F.id.length;
  performance.mark('pg-parsed');
  var names = F.id.map(PG.shortName);
  var main = document.getElementById('pg-main');
  var totalSelf = 0;
  for (var i = 0; i < nf; i++) totalSelf += F.self[i];
  var multi = meta.trials > 1;

  /* ---- summary line ---- */
  var facts = [
    ['Python', meta.python || '?'],
    ['hook', (meta.mechanism || '?') + '/' + (meta.timer || '?')],
    ['trials', String(meta.trials)],
    ['threads', String(meta.threads)],
    ['functions', PG.fmtInt(nf)],
    ['tree nodes', PG.fmtInt(P.nodes.parent.length)],
    ['profiled total', PG.fmtNs(meta.total_ns) + (multi ? ' (median)' : '')]
  ];
  main.appendChild(PG.el('dl', { cls: 'pg-facts', id: 'pg-facts' }, facts.map(function (f) {
    return PG.el('div', null, [PG.el('dt', { text: f[0] }), PG.el('dd', { text: f[1] })]);
  })));

  /* ---- flame graph ---- */
  var section = PG.el('section', { cls: 'pg-section' }, [PG.el('h2', { text: 'Flame graph' })]);
  main.appendChild(section);
  var note = multi ? 'Widths are mean times per trial over ' + meta.trials + ' trials; the table shows medians ± MAD.' :
    'Widths are self plus callee time in each calling context.';
  section.appendChild(PG.el('p', { cls: 'pg-note', text: note + ' Click a frame to zoom, double-click or Reset to zoom out.' }));
  var flameBox = PG.el('div');
  section.appendChild(flameBox);
  var nodeSelf = P.nodes.self;
  var flame;
  var legend = PG.el('div', { cls: 'pg-legend' }, [
    legendItem(PG.familyColour('a.py:f'), 'your code'),
    legendItem(PG.familyColour('<stdlib>/x.py:f'), 'standard library'),
    legendItem(PG.familyColour('<site>/x.py:f'), 'installed packages'),
    legendItem(PG.familyColour('<builtin>:f'), 'C functions'),
    legendItem('#d946ef', 'search match'),
    PG.el('span', { cls: 'pg-legend-item', text: '↻ generator or coroutine (resumed)' }),
    legendItem('dotted', 'tiny: faster per call than the timer resolves'),
    legendItem('hatch', 'frames narrower than a pixel, together'),
  ]);
  function legendItem(colour, text) {
    var sw = PG.el('span', { cls: 'pg-swatch' + (colour === 'hatch' ? ' pg-hatch' : colour === 'dotted' ? ' pg-dotted' : '') });
    if (colour !== 'hatch' && colour !== 'dotted') sw.style.background = colour;
    return PG.el('span', { cls: 'pg-legend-item' }, [sw, text]);
  }
  var colours = [];
  flame = new PG.Flame(flameBox, { parent: P.nodes.parent, func: P.nodes.func, value: nodeSelf, names: names, ids: F.id }, {
    title: 'flame graph of ' + data.title,
    colour: function (node) {
      var f = P.nodes.func[node];
      return colours[f] || (colours[f] = PG.familyColour(F.id[f]));
    },
    marks: function (node) {
      var fl = F.flags[P.nodes.func[node]];
      return { prefix: fl & PG.GENERATOR ? '↻ ' : '', dotted: !!(fl & PG.TINY) };
    },
    details: function (node) {
      var all = flame.total[0];
      if (node === 0) return [['total', PG.fmtNs(all)], ['threads', meta.threads]];
      var f = P.nodes.func[node], fl = F.flags[f], rows = [];
      rows.push(['where', (F.file[f] || '?') + (F.line[f] ? ':' + F.line[f] : '')]);
      rows.push(['calls here', PG.fmtCount(P.nodes.calls[node])]);
      rows.push(['self here', PG.fmtNs(nodeSelf[node])]);
      rows.push(['inclusive here', PG.fmtNs(flame.total[node]) + ' (' + PG.fmtShare(flame.total[node] / all) + ')']);
      rows.push(['function self', PG.fmtNs(F.self[f]) + ' in ' + PG.fmtCount(F.calls[f]) + ' calls']);
      if (fl & PG.GENERATOR) rows.push(['resumes', PG.fmtCount(F.resumes[f])]);
      if (fl & PG.TINY) rows.push(['tiny', 'below the timer\'s resolution per call']);
      return rows;
    },
    onSelect: function (f) { showFunction(f); }
  });
  performance.mark('pg-flame');
  section.insertBefore(PG.flameToolbar(flame), flameBox);
  section.insertBefore(legend, flameBox);

  /* ---- selected function: callers and callees ---- */
  var detail = PG.el('section', { cls: 'pg-section', id: 'pg-selected' }, [
    PG.el('h2', { text: 'Selected function' }),
    PG.el('p', { cls: 'pg-note', text: 'Click a frame or a table row to see who calls it and what it calls.' })]);
  main.appendChild(detail);
  /* Callers and callees by function, built on the first selection. */
  var callersOf = null, calleesOf = null;
  function indexEdges() {
    callersOf = []; calleesOf = [];
    for (var k = 0; k < nf; k++) { callersOf.push([]); calleesOf.push([]); }
    for (var e = 0; e < P.edges.caller.length; e++) {
      callersOf[P.edges.callee[e]].push(e);
      calleesOf[P.edges.caller[e]].push(e);
    }
  }
  function edgeTable(title, edges, other) {
    edges = edges.slice().sort(function (a, b) { return P.edges.incl[b] - P.edges.incl[a]; });
    var t = PG.el('table', { cls: 'pg-table pg-compact' }, [PG.el('caption', { text: title + ' (' + edges.length + ')' }),
      PG.el('thead', null, [PG.el('tr', null, [PG.el('th', { text: 'function' }), PG.el('th', { text: 'calls' }), PG.el('th', { text: 'time in callee' })])])]);
    var body = PG.el('tbody');
    edges.slice(0, 100).forEach(function (ed) {
      var f = other(ed);
      var a = PG.el('a', { href: '#', text: names[f], title: F.id[f] });
      a.addEventListener('click', function (ev) { ev.preventDefault(); flame.select(f); });
      body.appendChild(PG.el('tr', null, [PG.el('td', null, [a]), PG.el('td', { cls: 'pg-num', text: PG.fmtCount(P.edges.calls[ed]) }),
        PG.el('td', { cls: 'pg-num', text: PG.fmtNs(P.edges.incl[ed]) })]));
    });
    if (edges.length > 100) body.appendChild(PG.el('tr', null, [PG.el('td', { colspan: '3', text: '… ' + (edges.length - 100) + ' more' })]));
    t.appendChild(body);
    return t;
  }
  function showFunction(f) {
    if (!callersOf) indexEdges();
    detail.textContent = '';
    detail.appendChild(PG.el('h2', { text: 'Selected: ' + names[f] }));
    var fl = F.flags[f], marks = [];
    if (fl & PG.BUILTIN) marks.push('C function');
    if (fl & PG.GENERATOR) marks.push('generator/coroutine, resumed ' + PG.fmtCount(F.resumes[f]) + ' times');
    if (fl & PG.TINY) marks.push('tiny: below the timer resolution per call');
    detail.appendChild(PG.el('p', { cls: 'pg-id' }, [PG.el('code', { text: F.id[f] }),
      ' ' + (F.file[f] || '') + (F.line[f] ? ':' + F.line[f] : ''), marks.length ? ' — ' + marks.join('; ') : '']));
    detail.appendChild(PG.el('p', { text: 'calls ' + PG.fmtCount(F.calls[f]) + ', self ' + PG.fmtNs(F.self[f]) + ' (' + PG.fmtShare(F.self[f] / totalSelf) +
      '), inclusive ' + PG.fmtNs(F.incl[f]) }));
    var grid = PG.el('div', { cls: 'pg-grid2' }, [
      edgeTable('Callers', callersOf[f], function (ed) { return P.edges.caller[ed]; }),
      edgeTable('Callees', calleesOf[f], function (ed) { return P.edges.callee[ed]; })]);
    detail.appendChild(grid);
    highlightRow(f);
  }

  /* ---- function table ---- */
  var tsec = PG.el('section', { cls: 'pg-section' }, [PG.el('h2', { text: 'Functions' })]);
  main.appendChild(tsec);
  var cols = [
    { key: 'name', label: 'function', dir: 'asc' },
    { key: 'calls', label: 'calls' },
    { key: 'self', label: multi ? 'self (± MAD)' : 'self' },
    { key: 'share', label: 'self %' },
    { key: 'selfpc', label: 'self/call' },
    { key: 'incl', label: 'inclusive' },
    { key: 'inclpc', label: 'incl/call' }
  ];
  var table = PG.el('table', { cls: 'pg-table', id: 'pg-functions' }, [PG.el('thead', null, [PG.el('tr', null, cols.map(function (c) {
    return PG.el('th', { 'data-key': c.key, 'data-dir': c.dir || 'desc', text: c.label });
  }))])]);
  var tbody = PG.el('tbody');
  table.appendChild(tbody);
  var more = PG.el('button', { type: 'button', cls: 'pg-btn', text: '' });
  tsec.appendChild(table);
  tsec.appendChild(more);
  var keyOf = {
    name: function (f) { return F.id[f]; },
    calls: function (f) { return F.calls[f]; },
    self: function (f) { return F.self[f]; },
    share: function (f) { return F.self[f]; },
    selfpc: function (f) { return F.calls[f] ? F.self[f] / F.calls[f] : 0; },
    incl: function (f) { return F.incl[f]; },
    inclpc: function (f) { return F.calls[f] ? F.incl[f] / F.calls[f] : 0; }
  };
  var order = [], shown = 200, rowOf = {};
  for (i = 0; i < nf; i++) order.push(i);
  function sortBy(key, desc) {
    var k = keyOf[key];
    order.sort(function (a, b) {
      var x = k(a), y = k(b), c = x < y ? -1 : x > y ? 1 : a - b;
      return desc ? -c : c;
    });
    fillTable();
  }
  function fillTable() {
    tbody.textContent = '';
    rowOf = {};
    var lim = Math.min(shown, order.length);
    for (var r = 0; r < lim; r++) {
      var f = order[r], fl = F.flags[f];
      var nameCell = PG.el('td', { title: F.id[f] }, [names[f]]);
      if (fl & PG.GENERATOR) nameCell.appendChild(PG.el('span', { cls: 'pg-badge', text: 'gen', title: 'generator or coroutine; resumed ' + F.resumes[f] + ' times' }));
      if (fl & PG.TINY) nameCell.appendChild(PG.el('span', { cls: 'pg-badge pg-badge-tiny', text: 'tiny', title: 'below the timer resolution per call' }));
      nameCell.appendChild(PG.el('div', { cls: 'pg-sub', text: F.id[f] }));
      var calls = PG.fmtCount(F.calls[f]);
      if (F.pcalls[f] !== F.calls[f]) calls += '/' + PG.fmtCount(F.pcalls[f]);
      var selfText = PG.fmtNs(F.self[f]) + (multi ? ' ± ' + PG.fmtNs(F.self_mad[f]) : '');
      var tr = PG.el('tr', { 'data-func': String(f) }, [nameCell,
        PG.el('td', { cls: 'pg-num', text: calls }),
        PG.el('td', { cls: 'pg-num', text: selfText }),
        PG.el('td', { cls: 'pg-num', text: PG.fmtShare(totalSelf ? F.self[f] / totalSelf : 0) }),
        PG.el('td', { cls: 'pg-num', text: PG.fmtNs(keyOf.selfpc(f)) }),
        PG.el('td', { cls: 'pg-num', text: PG.fmtNs(F.incl[f]) }),
        PG.el('td', { cls: 'pg-num', text: PG.fmtNs(keyOf.inclpc(f)) })]);
      tr.addEventListener('click', (function (fn) { return function () { flame.select(fn); }; })(f));
      rowOf[f] = tr;
      tbody.appendChild(tr);
    }
    more.hidden = order.length <= shown;
    more.textContent = 'Show all ' + PG.fmtInt(order.length) + ' functions';
    highlightRow(flame.selected);
  }
  more.addEventListener('click', function () { shown = order.length; fillTable(); });
  function highlightRow(f) {
    var old = tbody.querySelector('tr.pg-sel');
    if (old) old.classList.remove('pg-sel');
    if (rowOf[f]) rowOf[f].classList.add('pg-sel');
  }
  PG.sortable(table, sortBy);
  sortBy('self', true);
  table.querySelector('th[data-key="self"]').classList.add('pg-desc');
  performance.mark('pg-ready');
  document.body.setAttribute('data-ready', '1');
})();
