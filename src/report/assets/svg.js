/*
 * svg.js - interaction for perfguard's standalone SVG flame graph
 * (src/report/svg_flame.c inlines it as CDATA): click a frame to zoom
 * (its ancestors stretch to full width and dim, frames beside it hide),
 * "Reset Zoom" or a click on the background to undo, "Search" (or
 * Ctrl-F) to highlight functions whose id matches a regular expression
 * and show their share of the total, hover to see a frame's figures in
 * the details line. Each frame's <title> holds "label\nid\nfigures".
 * Must not contain the CDATA terminator.
 */
var frames = [], svg, details, unzoomBtn, matchedText, searching = null;
var PAD = 10, WIDTH = 1200, CHAR = 12 * 0.59;

function init(evt) {
	svg = document.documentElement;
	details = document.getElementById('details').firstChild;
	unzoomBtn = document.getElementById('unzoom');
	matchedText = document.getElementById('matched');
	var gs = document.getElementById('frames').getElementsByTagName('g');
	for (var i = 0; i < gs.length; i++) {
		var g = gs[i], r = g.getElementsByTagName('rect')[0];
		var lines = g.getElementsByTagName('title')[0].textContent.split('\n');
		var f = { g: g, rect: r, text: g.getElementsByTagName('text')[0], label: lines[0], id: lines[1] || '',
			figures: lines[2] || '', x: +r.getAttribute('x'), w: +r.getAttribute('width'), y: +r.getAttribute('y'),
			fill: r.getAttribute('fill') };
		frames.push(f);
		g.onclick = (function (fr) { return function (e) { zoom(fr); e.stopPropagation(); }; })(f);
		g.onmouseover = (function (fr) { return function () { details.nodeValue = fr.id + ' — ' + fr.figures; }; })(f);
		g.onmouseout = function () { details.nodeValue = ' '; };
	}
	unzoomBtn.onclick = function (e) { unzoom(); e.stopPropagation(); };
	document.getElementById('search').onclick = function (e) { searchPrompt(); e.stopPropagation(); };
	window.addEventListener('keydown', function (e) {
		if ((e.ctrlKey || e.metaKey) && e.keyCode === 70) { e.preventDefault(); searchPrompt(); }
		if (e.keyCode === 27) unzoom();
	});
}

function place(f, x, w) {
	f.rect.setAttribute('x', x.toFixed(2));
	f.rect.setAttribute('width', w.toFixed(2));
	f.text.setAttribute('x', (x + 3).toFixed(2));
	var room = Math.floor((w - 6) / CHAR), s = f.label;
	if (room < 3) s = '';
	else if (s.length > room) s = s.slice(0, room - 1) + '\u2026';
	f.text.textContent = s;
}

function zoom(z) {
	var ratio = (WIDTH - 2 * PAD) / z.w, zx = z.x, zy = z.y, end = z.x + z.w;
	unzoomBtn.setAttribute('class', 'btn');
	for (var i = 0; i < frames.length; i++) {
		var f = frames[i];
		f.g.setAttribute('class', '');
		if (f.y > zy && f.x <= zx + 0.0001 && f.x + f.w >= end - 0.0001) {
			f.g.setAttribute('class', 'dim');
			place(f, PAD, WIDTH - 2 * PAD);
		} else if (f.y <= zy && f.x >= zx - 0.0001 && f.x + f.w <= end + 0.0001) {
			place(f, PAD + (f.x - zx) * ratio, f.w * ratio);
		} else {
			f.g.setAttribute('class', 'hide');
		}
	}
	if (searching) search(searching);
}

function unzoom() {
	unzoomBtn.setAttribute('class', 'btn hide');
	for (var i = 0; i < frames.length; i++) {
		frames[i].g.setAttribute('class', '');
		place(frames[i], frames[i].x, frames[i].w);
	}
	if (searching) search(searching);
}

function searchPrompt() {
	if (searching) { reset(); return; }
	var term = prompt('Search for functions (regular expression):', '');
	if (term) search(term);
}

function reset() {
	searching = null;
	for (var i = 0; i < frames.length; i++) frames[i].rect.setAttribute('fill', frames[i].fill);
	document.getElementById('search').textContent = 'Search';
	matchedText.textContent = ' ';
}

/* Highlight matches; their share is the union of their x ranges, so a
 * match inside another (recursion) is counted once. */
function search(term) {
	var re;
	try { re = new RegExp(term, 'i'); } catch (e) { return; }
	searching = term;
	var spans = [];
	for (var i = 0; i < frames.length; i++) {
		var f = frames[i], hit = re.test(f.id) || re.test(f.label);
		f.rect.setAttribute('fill', hit ? 'rgb(217,70,239)' : f.fill);
		if (hit) spans.push([f.x, f.x + f.w]);
	}
	spans.sort(function (a, b) { return a[0] - b[0]; });
	var covered = 0, reach = -1;
	for (i = 0; i < spans.length; i++) {
		var s = Math.max(spans[i][0], reach);
		if (spans[i][1] > s) covered += spans[i][1] - s;
		reach = Math.max(reach, spans[i][1]);
	}
	document.getElementById('search').textContent = 'Reset Search';
	matchedText.textContent = 'Matched: ' + (100 * covered / (WIDTH - 2 * PAD)).toFixed(1) + '%';
}
