/*
 * flame.js - perfguard's flame graph, shared by the profile, check and
 * history pages, plus the small helpers those pages use (formatting, DOM).
 *
 * A PG.Flame draws a calling-context tree on one <canvas>: each node is a
 * frame whose width is its inclusive value (its own value plus its
 * children's, computed here so widths always add up), children sorted by
 * name as in flamegraph.pl. Only frames at least one pixel wide are laid
 * out; runs of narrower siblings are drawn as one grey aggregate frame, so
 * a 200,000-node tree costs what its visible part costs. Click zooms
 * (ancestors stay as full-width bars), search highlights matching frames
 * and reports their share without counting recursion twice, hover shows
 * details. Everything taken from a profile reaches the DOM as text
 * (textContent), never as markup.
 *
 * The tree comes in as columns: parent[i] < i for every node but the root
 * (node 0), func[i] (-1 for the root), value[i] (the node's own width).
 */
'use strict';

var PG = window.PG || (window.PG = {});

/* ---- helpers shared by the pages ---------------------------------- */

/* Element with attributes and children (strings become text nodes). */
PG.el = function (tag, attrs, children) {
  var e = document.createElement(tag);
  if (attrs) {
    for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
  }
  (children || []).forEach(function (c) {
    if (c === null || c === undefined) return;
    e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  });
  return e;
};

PG.svgEl = function (tag, attrs) {
  var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (var k in attrs || {}) {
    if (k === 'text') e.textContent = attrs[k];
    else e.setAttribute(k, attrs[k]);
  }
  return e;
};

/* The JSON the C writer put into <script id="pg-data">. */
PG.data = function () {
  return JSON.parse(document.getElementById('pg-data').textContent);
};

/* A duration in ns with 3 significant digits: "3.12 ms". */
PG.fmtNs = function (ns) {
  if (ns === null || ns === undefined || !isFinite(ns)) return '-';
  var a = Math.abs(ns), units = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
  for (var i = 0; i < units.length; i++) {
    if (a >= units[i][0] || i === units.length - 1) {
      var v = ns / units[i][0];
      return (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ' + units[i][1];
    }
  }
};

/* An integer with thousands separators: "12,345" (Intl is too slow for
 * thousands of table cells). */
PG.fmtInt = function (n) {
  var s = String(Math.abs(Math.round(n))), out = '';
  while (s.length > 3) { out = ',' + s.slice(-3) + out; s = s.slice(0, -3); }
  return (n < 0 ? '-' : '') + s + out;
};

PG.fmtCount = function (n) {
  if (n === null || n === undefined || !isFinite(n)) return '-';
  var r = Math.round(n);
  if (Math.abs(n - r) < 1e-9) return PG.fmtInt(r);
  var fixed = Math.abs(n).toFixed(1).split('.');
  return (n < 0 ? '-' : '') + PG.fmtInt(+fixed[0]) + '.' + fixed[1];
};

/* A share 0..1 as "12.3%". */
PG.fmtShare = function (x) {
  if (!isFinite(x)) return '-';
  return (x * 100).toFixed(x >= 0.1 ? 1 : 2) + '%';
};

/* A change in percent with its sign: "+12.4%". */
PG.fmtPct = function (p) {
  if (p === null || p === undefined || !isFinite(p)) return 'n/a';
  return (p >= 0 ? '+' : '') + p.toFixed(Math.abs(p) >= 10 ? 1 : 2) + '%';
};

/* Function flags (enum pg_func_flags). */
PG.BUILTIN = 1; PG.GENERATOR = 2; PG.TINY = 4;

/*
 * The label of a function id: its qualified name ("Class.meth"), with
 * the file's base name for code objects without one ("<module>").
 */
PG.shortName = function (id) {
  if (id === null || id === undefined) return 'all';
  var colon = id.lastIndexOf(':');
  if (colon < 0) return id;
  var q = id.slice(colon + 1), path = id.slice(0, colon);
  if (q.charAt(0) === '<' && path.charAt(0) !== '<') {
    var slash = path.lastIndexOf('/');
    return path.slice(slash + 1) + ':' + q;
  }
  return q;
};

/* Where a function comes from, for colours and the legend. */
PG.family = function (id) {
  if (!id) return 'root';
  if (id.indexOf('<builtin>') === 0) return 'builtin';
  /* Frozen modules (importlib's bootstrap, 3.11+'s os, codecs...) are
   * the standard library too. */
  if (id.indexOf('<stdlib>') === 0 || id.indexOf('<frozen ') === 0) return 'stdlib';
  if (id.indexOf('<site>') === 0) return 'site';
  return 'project';
};

function hashString(s) {
  var h = 2166136261;
  for (var i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) / 4294967296;
}

/* flamegraph.pl's idea: a warm hue per name, a family per origin. */
PG.familyColour = function (id) {
  var f = PG.family(id), v = hashString(id || '');
  switch (f) {
    case 'builtin': return 'hsl(' + (190 + 20 * v).toFixed(0) + ',55%,' + (72 + 8 * v).toFixed(0) + '%)';
    case 'stdlib': return 'hsl(' + (45 + 12 * v).toFixed(0) + ',75%,' + (58 + 10 * v).toFixed(0) + '%)';
    case 'site': return 'hsl(' + (95 + 35 * v).toFixed(0) + ',45%,' + (58 + 10 * v).toFixed(0) + '%)';
    case 'root': return 'hsl(0,0%,80%)';
    default: return 'hsl(' + (5 + 30 * v).toFixed(0) + ',85%,' + (58 + 10 * v).toFixed(0) + '%)';
  }
};

/* Make a <table> sortable by clicking its headers (th[data-key]); render(key, desc) redraws. */
PG.sortable = function (table, render) {
  var state = { col: null, desc: true };
  var ths = table.querySelectorAll('th');
  Array.prototype.forEach.call(ths, function (th, i) {
    if (th.getAttribute('data-key') === null) return;
    th.classList.add('pg-sortable');
    th.addEventListener('click', function () {
      var key = th.getAttribute('data-key');
      state.desc = state.col === key ? !state.desc : th.getAttribute('data-dir') !== 'asc';
      state.col = key;
      Array.prototype.forEach.call(ths, function (o) { o.classList.remove('pg-asc', 'pg-desc'); });
      th.classList.add(state.desc ? 'pg-desc' : 'pg-asc');
      render(key, state.desc);
    });
  });
  return state;
};

/* ---- the flame graph -------------------------------------------- */

var ROW = 18;           /* px per frame row */
var MIN_PX = 1;         /* frames narrower than this are aggregated */
var FONT = '11px ui-monospace, Menlo, Consolas, monospace';
var SEARCH_COLOUR = '#d946ef';

/*
 * tree: {parent, func, value} columns (arrays), names[func] labels,
 * ids[func] full ids. opts: colour(node) -> CSS colour, marks(node) ->
 * {hatch, dotted, prefix}, details(node) -> [[label, value], ...],
 * onSelect(func, node), title (aria label).
 */
PG.Flame = function (container, tree, opts) {
  this.opts = opts || {};
  this.names = tree.names;
  this.ids = tree.ids;
  var n = tree.parent.length;
  this.n = n;
  this.parent = Int32Array.from(tree.parent);
  this.func = Int32Array.from(tree.func);
  var total = new Float64Array(n), depth = new Int32Array(n), nkids = new Int32Array(n + 1);
  for (var i = 0; i < n; i++) total[i] = Math.max(0, +tree.value[i] || 0);
  for (i = n - 1; i > 0; i--) total[this.parent[i]] += total[i];
  for (i = 1; i < n; i++) {
    depth[i] = depth[this.parent[i]] + 1;
    nkids[this.parent[i] + 1]++;
  }
  for (i = 1; i <= n; i++) nkids[i] += nkids[i - 1];
  var start = nkids, kids = new Int32Array(Math.max(0, n - 1)), fill = start.slice(0, n);
  for (i = 1; i < n; i++) kids[fill[this.parent[i]]++] = i;
  /* Children by name, as flamegraph.pl draws them: rank names once,
   * then one native numeric sort of (parent, rank, node) keys instead of
   * a comparator per sibling list (the bulk of building a large tree). */
  var order = this.names.map(function (_, f) { return f; });
  var names = this.names;
  order.sort(function (a, b) { return names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : a - b; });
  var rank = new Int32Array(names.length);
  order.forEach(function (f, r) { rank[f] = r; });
  var func = this.func, nr = names.length + 1;
  if (n * nr * n < 9e15) {
    var keys = new Float64Array(Math.max(0, n - 1));
    for (i = 1; i < n; i++) keys[i - 1] = (this.parent[i] * nr + rank[func[i]]) * n + i;
    keys.sort();
    for (i = 0; i < n - 1; i++) kids[i] = keys[i] % n;
  } else {
    for (i = 0; i < n; i++) {
      if (start[i + 1] - start[i] > 1)
        kids.subarray(start[i], start[i + 1]).sort(function (a, b) {
          return (rank[func[a]] - rank[func[b]]) || (a - b);
        });
    }
  }
  this.total = total; this.depth = depth; this.start = start; this.kids = kids;
  this.zoomNode = 0;
  this.mode = this.opts.mode || 'flame';
  this.match = null;          /* Uint8Array by func, or null */
  this.selected = -1;         /* selected function */
  this.hover = -1;

  this.root = PG.el('div', { cls: 'pg-flame' });
  this.canvas = PG.el('canvas', { 'aria-label': this.opts.title || 'flame graph', role: 'img' });
  this.tip = PG.el('div', { cls: 'pg-tip', hidden: '' });
  this.root.appendChild(this.canvas);
  this.root.appendChild(this.tip);
  container.appendChild(this.root);
  this.ctx = this.canvas.getContext('2d');
  var self = this;
  this.canvas.addEventListener('mousemove', function (e) { self.onMove(e); });
  this.canvas.addEventListener('mouseleave', function () { self.hideTip(); });
  this.canvas.addEventListener('click', function (e) { self.onClick(e); });
  this.canvas.addEventListener('dblclick', function () { self.zoom(0); });
  var pending = false;
  window.addEventListener('resize', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; self.render(); });
  });
  (PG.flames || (PG.flames = [])).push(this);
  this.render();
};

PG.Flame.prototype.label = function (node) {
  return node === 0 ? 'all' : this.names[this.func[node]];
};

/*
 * Lay out the visible frames: ancestors of the zoomed node as full-width
 * bars, then its subtree scaled to the width. Fills this.frames, a list
 * of {node, x, w, d, agg} (agg: {count, value, parent} for aggregates).
 */
PG.Flame.prototype.layout = function (width) {
  var frames = [], z = this.zoomNode, chain = [];
  for (var a = z; a !== 0; a = this.parent[a]) chain.push(a);
  chain.push(0);
  chain.reverse();
  for (var i = 0; i < chain.length; i++)
    frames.push({ node: chain[i], x: 0, w: width, d: i, anc: chain[i] !== z });
  var base = chain.length - 1;
  var tz = this.total[z];
  if (!(tz > 0)) return frames;
  var scale = width / tz, stack = [z, 0], start = this.start, kids = this.kids, total = this.total;
  var depth = this.depth, dz = depth[z];
  while (stack.length) {
    var x = stack.pop(), node = stack.pop(), cx = x;
    var run = null;
    for (var k = start[node]; k < start[node + 1]; k++) {
      var c = kids[k], w = total[c] * scale;
      if (w >= MIN_PX) {
        if (run) { if (run.w >= MIN_PX) frames.push(run); run = null; }
        frames.push({ node: c, x: cx, w: w, d: base + depth[c] - dz });
        stack.push(c, cx);
      } else if (w > 0) {
        if (!run) run = { node: -1, x: cx, w: 0, d: base + depth[c] - dz, agg: { count: 0, value: 0, parent: node } };
        run.w += w; run.agg.count++; run.agg.value += total[c];
      }
      cx += w;
    }
    if (run && run.w >= MIN_PX) frames.push(run);
  }
  return frames;
};

PG.Flame.prototype.render = function () {
  var width = Math.max(200, this.root.clientWidth || 800);
  var frames = this.layout(width), maxd = 0;
  for (var i = 0; i < frames.length; i++) if (frames[i].d > maxd) maxd = frames[i].d;
  var height = (maxd + 1) * ROW + 2;
  var dpr = window.devicePixelRatio || 1;
  this.canvas.width = Math.round(width * dpr);
  this.canvas.height = Math.round(height * dpr);
  this.canvas.style.width = width + 'px';
  this.canvas.style.height = height + 'px';
  var ctx = this.ctx;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  ctx.textBaseline = 'middle';
  if (!this.charW) this.charW = ctx.measureText('mmmmmmmmmm').width / 10 || 6.6;
  var icicle = this.mode === 'icicle';
  this.maxd = maxd;
  this.width = width;
  for (i = 0; i < frames.length; i++) {
    var f = frames[i];
    f.y = icicle ? f.d * ROW : (maxd - f.d) * ROW;
    this.drawFrame(f);
  }
  this.frames = frames;
  this.byDepth = [];
  for (i = 0; i < frames.length; i++) (this.byDepth[frames[i].d] || (this.byDepth[frames[i].d] = [])).push(frames[i]);
  if (this.opts.onRender) this.opts.onRender(this);
};

PG.Flame.prototype.hatch = function () {
  if (this._hatch) return this._hatch;
  var c = document.createElement('canvas');
  c.width = c.height = 6;
  var g = c.getContext('2d');
  g.strokeStyle = 'rgba(0,0,0,0.35)';
  g.lineWidth = 1;
  g.beginPath(); g.moveTo(0, 6); g.lineTo(6, 0); g.stroke();
  this._hatch = this.ctx.createPattern(c, 'repeat');
  return this._hatch;
};

PG.Flame.prototype.drawFrame = function (f) {
  var ctx = this.ctx, node = f.node, w = f.w, label, marks = {};
  if (f.agg) {
    ctx.fillStyle = '#c8c8c8';
    label = f.agg.count + ' frames below 1 px';
  } else {
    var fn = this.func[node];
    marks = (this.opts.marks && node !== 0) ? this.opts.marks(node) || {} : {};
    ctx.fillStyle = node === 0 ? '#d0d0d0' : this.opts.colour ? this.opts.colour(node) : PG.familyColour(this.ids[fn]);
    if (this.match && node !== 0 && this.match[fn]) ctx.fillStyle = SEARCH_COLOUR;
    label = (marks.prefix || '') + this.label(node);
  }
  var x = f.x, y = f.y, h = ROW - 1;
  ctx.globalAlpha = f.anc ? 0.55 : 1;
  ctx.fillRect(x, y, Math.max(w - 0.5, 0.5), h);
  if (marks.hatch || f.agg) {
    ctx.fillStyle = this.hatch();
    ctx.fillRect(x, y, Math.max(w - 0.5, 0.5), h);
  }
  if (marks.dotted && w > 4) {
    /* A dotted underline: quieter than hatching for a common mark. */
    ctx.fillStyle = 'rgba(0,0,0,0.45)';
    for (var dx = x + 1; dx < x + w - 2; dx += 4) ctx.fillRect(dx, y + h - 2, 2, 2);
  }
  if (!f.agg && node !== 0 && this.func[node] === this.selected) {
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 2;
    ctx.strokeRect(x + 1, y + 1, Math.max(w - 2.5, 0.5), h - 2);
  }
  ctx.globalAlpha = 1;
  var room = Math.floor((w - 6) / this.charW);
  if (room >= 3) {
    if (label.length > room) label = label.slice(0, room - 1) + '…';
    ctx.fillStyle = '#111';
    ctx.fillText(label, x + 3, y + h / 2 + 0.5);
  }
};

PG.Flame.prototype.frameAt = function (px, py) {
  if (!this.frames) return null;
  var d = this.mode === 'icicle' ? Math.floor(py / ROW) : this.maxd - Math.floor(py / ROW);
  var row = this.byDepth[d] || [];
  for (var i = 0; i < row.length; i++)
    if (px >= row[i].x && px < row[i].x + row[i].w) return row[i];
  return null;
};

function eventPos(canvas, e) {
  var r = canvas.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
}

PG.Flame.prototype.onClick = function (e) {
  var p = eventPos(this.canvas, e), f = this.frameAt(p[0], p[1]);
  if (!f) return;
  if (f.agg) { this.zoom(f.agg.parent); return; }
  this.zoom(f.node);
  if (f.node !== 0) this.select(this.func[f.node], f.node);
};

PG.Flame.prototype.zoom = function (node) {
  this.zoomNode = node;
  this.hideTip();
  this.render();
  if (this.opts.onZoom) this.opts.onZoom(node);
};

PG.Flame.prototype.select = function (func, node) {
  this.selected = func;
  this.render();
  if (this.opts.onSelect) this.opts.onSelect(func, node);
};

PG.Flame.prototype.setMode = function (mode) {
  this.mode = mode;
  this.render();
};

/*
 * Highlight functions whose id or label contains `query` (case-blind; a
 * query between slashes is a regular expression, "=ID" one exact id). Returns {funcs, share,
 * zoomShare}: matching functions, and the share of the whole tree and of
 * the zoomed frame that runs inside matching frames (nested matches,
 * recursion included, counted once).
 */
PG.Flame.prototype.search = function (query) {
  if (!query) { this.match = null; this.render(); return null; }
  var test;
  var m = /^\/(.+)\/$/.exec(query);
  if (query.charAt(0) === '=') {
    var exact = query.slice(1);
    test = function (s) { return s === exact; };
  } else if (m) {
    try { var re = new RegExp(m[1], 'i'); test = function (s) { return re.test(s); }; }
    catch (err) { test = function () { return false; }; }
  } else {
    var q = query.toLowerCase();
    test = function (s) { return s.toLowerCase().indexOf(q) >= 0; };
  }
  var match = new Uint8Array(this.names.length), nf = 0;
  for (var f = 0; f < this.names.length; f++)
    if (test(this.ids[f] || '') || test(this.names[f] || '')) { match[f] = 1; nf++; }
  /* Parents precede children: one pass, a node is covered when it or an
   * ancestor matched, and only uncovered matches add to the share. */
  var covered = new Uint8Array(this.n), inZoom = new Uint8Array(this.n);
  var z = this.zoomNode, sum = 0, zsum = 0;
  inZoom[z] = 1;
  for (var i = 1; i < this.n; i++) {
    var p = this.parent[i], hit = match[this.func[i]];
    if (i > z) inZoom[i] = inZoom[p];
    if (hit && !covered[p]) {
      sum += this.total[i];
      if (inZoom[i]) zsum += this.total[i];
    }
    covered[i] = covered[p] | hit;
  }
  if (z !== 0 && covered[z]) zsum = this.total[z];
  this.match = match;
  this.render();
  var all = this.total[0];
  return { funcs: nf, share: all > 0 ? sum / all : 0, zoomShare: this.total[z] > 0 ? zsum / this.total[z] : 0 };
};

PG.Flame.prototype.onMove = function (e) {
  var p = eventPos(this.canvas, e), f = this.frameAt(p[0], p[1]);
  if (!f) { this.hideTip(); return; }
  var rows;
  if (f.agg) {
    rows = [['frames', f.agg.count + ' frames narrower than one pixel'],
            ['together', PG.fmtShare(f.agg.value / this.total[0]) + ' of all'],
            ['', 'click to zoom into their parent']];
    this.showTip(p, 'aggregated', rows);
    return;
  }
  var node = f.node, fn = this.func[node];
  rows = this.opts.details ? this.opts.details(node) : [];
  this.showTip(p, node === 0 ? 'all' : this.ids[fn], rows);
};

PG.Flame.prototype.showTip = function (p, title, rows) {
  var tip = this.tip;
  tip.textContent = '';
  tip.appendChild(PG.el('div', { cls: 'pg-tip-title', text: title }));
  var t = PG.el('table');
  rows.forEach(function (r) {
    t.appendChild(PG.el('tr', null, [PG.el('th', { text: r[0] }), PG.el('td', { text: String(r[1]) })]));
  });
  tip.appendChild(t);
  tip.hidden = false;
  var left = p[0] + 14, top = p[1] + 14;
  if (left + tip.offsetWidth > this.width) left = Math.max(0, p[0] - tip.offsetWidth - 10);
  tip.style.left = left + 'px';
  tip.style.top = top + 'px';
};

PG.Flame.prototype.hideTip = function () { this.tip.hidden = true; };

/* For tests and tools: the frames on screen, in canvas CSS pixels. */
PG.Flame.prototype.visibleFrames = function () {
  var self = this;
  return (this.frames || []).map(function (f) {
    return { label: f.agg ? null : self.label(f.node), id: f.agg || f.node === 0 ? null : self.ids[self.func[f.node]],
             node: f.node, x: f.x, y: f.y, w: f.w, h: ROW - 1, aggregate: !!f.agg, ancestor: !!f.anc };
  });
};

/* A toolbar for a flame graph: reset, flame/icicle, search with share. */
PG.flameToolbar = function (flame) {
  var result = PG.el('span', { cls: 'pg-search-result', 'aria-live': 'polite' });
  var input = PG.el('input', { type: 'search', placeholder: 'search functions (text or /regex/)', cls: 'pg-search', 'aria-label': 'search functions' });
  function run() {
    var r = flame.search(input.value.trim());
    if (!r) { result.textContent = ''; return; }
    var s = r.funcs + (r.funcs === 1 ? ' function' : ' functions') + ' match, ' + PG.fmtShare(r.share) + ' of the total';
    if (flame.zoomNode !== 0) s += ', ' + PG.fmtShare(r.zoomShare) + ' of the zoomed frame';
    result.textContent = s;
  }
  input.addEventListener('input', run);
  var prevZoom = flame.opts.onZoom;
  flame.opts.onZoom = function (node) { if (input.value) run(); if (prevZoom) prevZoom(node); };
  var mode = PG.el('button', { type: 'button', cls: 'pg-btn', text: flame.mode === 'flame' ? 'Icicle' : 'Flame' });
  mode.addEventListener('click', function () {
    flame.setMode(flame.mode === 'flame' ? 'icicle' : 'flame');
    mode.textContent = flame.mode === 'flame' ? 'Icicle' : 'Flame';
  });
  var reset = PG.el('button', { type: 'button', cls: 'pg-btn', text: 'Reset zoom' });
  reset.addEventListener('click', function () { flame.zoom(0); });
  var bar = PG.el('div', { cls: 'pg-toolbar' }, [reset, mode, input, result]);
  bar.search = function (q) { input.value = q; run(); };
  return bar;
};
