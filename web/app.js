/* AetherPacket dashboard: plain JavaScript, no framework, no external assets.
 *
 * Data: GET /api/v1/history once (the last hour, one sample a second), then
 * Server-Sent Events from /api/v1/events, one "sample" a second. Tables poll
 * the JSON API every 2 s while their page is shown (REFRESH below), the logs
 * page too (GET /api/v1/logs, filtered by the daemon); the
 * routing pages (interfaces, routes, neighbours, trace) say so when the data
 * plane routes nothing rather than show an empty table. The token stays in sessionStorage (gone when the tab closes);
 * EventSource cannot send headers, so the events URL carries it as ?token=.
 */
'use strict';

const TOKEN_KEY = 'aether.token';
const HISTORY_MAX = 3600;
const state = {
	token: sessionStorage.getItem(TOKEN_KEY) || '',
	ports: new Map(),      // name -> {ts: [], rx_pps: [], tx_pps: [], rx_bps: [], tx_bps: []}
	range: 300,
	last: null,
	es: null,
	timers: [],
	page: 'overview',
	samples: 0,
	routed: undefined,     // whether any interface routes (undefined: not asked yet)
	routes: [],            // the last routing table, sorted by prefix
	traceSig: '',          // what the trace list shows, to redraw only on change
	logModules: new Set(), // modules seen in log records, for the module filter
	recordsSig: '',        // what the log table shows, to redraw only on change
};
window.aether = state; // Tests and curious operators read it.

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (k === 'class') e.className = v;
		else e.setAttribute(k, v);
	}
	for (const k of kids) e.append(k);
	return e;
}

/* --- formatting ------------------------------------------------------- */

function si(v, unit, digits = 1) {
	if (v === null || v === undefined || !isFinite(v)) return '–';
	const steps = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
	const trim = (x) => String(Number(x.toFixed(digits)));
	for (const [f, p] of steps)
		if (Math.abs(v) >= f) return (trim(v / f) + ' ' + p + unit).trim();
	return (trim(v) + ' ' + unit).trim();
}
const pps = (v) => si(v, 'pps');
const bps = (v) => si(v, 'bit/s');
const int = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : '–');

function duration(s) {
	if (!isFinite(s)) return '–';
	s = Math.floor(s);
	const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
	if (d) return `${d}d ${h}h`;
	if (h) return `${h}h ${m}m`;
	if (m) return `${m}m ${s % 60}s`;
	return `${s}s`;
}

function clock(ms) {
	const d = new Date(ms);
	return d.toTimeString().slice(0, 8);
}

/* --- API -------------------------------------------------------------- */

async function api(path, opts = {}) {
	const headers = Object.assign({Authorization: 'Bearer ' + state.token}, opts.headers || {});
	const r = await fetch(path, Object.assign({}, opts, {headers}));
	let body = null;
	try { body = await r.json(); } catch (e) { body = null; }
	if (r.status === 401) {
		logout('The token was refused.');
		throw new Error('unauthorized');
	}
	if (!r.ok) throw new Error((body && body.error && body.error.message) || r.statusText);
	return body;
}

/* --- charts ----------------------------------------------------------- */

// A top of scale whose quarter is a round step (1, 2, 2.5 or 5 times a power of ten).
function niceMax(v) {
	if (!(v > 0)) return 4;
	const q = v / 4, e = Math.pow(10, Math.floor(Math.log10(q)));
	for (const m of [1, 2, 2.5, 5, 10]) if (q <= m * e) return 4 * m * e;
	return 40 * e;
}

function drawChart(canvas, ts, series, fmt) {
	const dpr = window.devicePixelRatio || 1;
	const w = canvas.clientWidth, h = canvas.clientHeight;
	if (!w || !h) return;
	if (canvas.width !== w * dpr || canvas.height !== h * dpr) {
		canvas.width = w * dpr;
		canvas.height = h * dpr;
	}
	const g = canvas.getContext('2d');
	g.setTransform(dpr, 0, 0, dpr, 0, 0);
	g.clearRect(0, 0, w, h);
	const padL = 70, padR = 10, padT = 8, padB = 22;
	const now = ts.length ? ts[ts.length - 1] : Date.now();
	// A young daemon has little history: show what exists (at least 30 s).
	const span = ts.length ? now - ts[0] : 0;
	const t0 = now - Math.min(state.range * 1000, Math.max(30000, span));
	let first = ts.findIndex((t) => t >= t0);
	if (first < 0) first = ts.length;
	let max = 0;
	for (const s of series)
		for (let i = first; i < s.data.length; i++) max = Math.max(max, s.data[i]);
	max = niceMax(max * 1.1);
	const X = (t) => padL + ((t - t0) / (now - t0 || 1)) * (w - padL - padR);
	const Y = (v) => padT + (1 - v / max) * (h - padT - padB);

	const style = getComputedStyle(document.documentElement);
	g.font = '11px system-ui, sans-serif';
	g.strokeStyle = style.getPropertyValue('--line');
	g.fillStyle = style.getPropertyValue('--muted');
	g.lineWidth = 1;
	g.textAlign = 'right';
	g.textBaseline = 'middle';
	for (let i = 0; i <= 4; i++) {
		const v = (max * i) / 4, y = Math.round(Y(v)) + 0.5;
		g.beginPath();
		g.moveTo(padL, y);
		g.lineTo(w - padR, y);
		g.stroke();
		g.fillText(fmt(v), padL - 8, y);
	}
	g.textAlign = 'center';
	g.textBaseline = 'top';
	let lastX = -Infinity;
	for (let i = 0; i <= 4; i++) {
		const t = t0 + ((now - t0) * i) / 4;
		const x = Math.min(Math.max(X(t), padL + 24), w - padR - 24);
		if (x - lastX < 64) continue; // no overlapping labels on narrow charts
		g.fillText(clock(t), x, h - padB + 6);
		lastX = x;
	}
	for (const s of series) {
		const color = style.getPropertyValue(s.color);
		g.beginPath();
		let started = false;
		for (let i = first; i < s.data.length; i++) {
			const x = X(ts[i]), y = Y(s.data[i]);
			if (!started) { g.moveTo(x, y); started = true; } else g.lineTo(x, y);
		}
		if (!started) continue;
		g.strokeStyle = color;
		g.lineWidth = 1.75;
		g.lineJoin = 'round';
		g.stroke();
		g.lineTo(X(ts[ts.length - 1]), Y(0));
		g.lineTo(X(ts[first]), Y(0));
		g.closePath();
		g.globalAlpha = 0.12;
		g.fillStyle = color;
		g.fill();
		g.globalAlpha = 1;
		g.fillStyle = style.getPropertyValue('--muted');
	}
	const last = series.map((s) => s.data[s.data.length - 1] || 0);
	canvas.dataset.points = String(ts.length);
	canvas.dataset.last = last.join(',');
	canvas.dataset.lastTs = String(now);
}

function portCard(name) {
	const legend = (a, b) => el('div', {class: 'legend'},
		el('span', {}, el('i', {style: 'background:var(--rx)'}), a),
		el('span', {}, el('i', {style: 'background:var(--tx)'}), b));
	const card = el('div', {class: 'card chart-card', 'data-port': name},
		el('div', {class: 'chart-head'}, el('span', {class: 'chart-title'}, 'Port ' + name + ' · packets/s'), legend('rx', 'tx')),
		el('canvas', {class: 'chart', 'data-kind': 'pps'}),
		el('div', {class: 'chart-head', style: 'margin-top:12px'}, el('span', {class: 'chart-title'}, 'Port ' + name + ' · bits/s'), legend('rx', 'tx')),
		el('canvas', {class: 'chart', 'data-kind': 'bps'}));
	return card;
}

function redrawCharts() {
	if (state.page !== 'overview') return;
	for (const [name, p] of state.ports) {
		let card = document.querySelector(`.chart-card[data-port="${CSS.escape(name)}"]`);
		if (!card) {
			card = portCard(name);
			$('#charts').append(card);
		}
		drawChart(card.querySelector('[data-kind=pps]'), p.ts,
			[{data: p.rx_pps, color: '--rx'}, {data: p.tx_pps, color: '--tx'}], (v) => si(v, '', 1));
		drawChart(card.querySelector('[data-kind=bps]'), p.ts,
			[{data: p.rx_bps, color: '--rx'}, {data: p.tx_bps, color: '--tx'}], (v) => si(v, '', 1));
	}
}

/* --- live data -------------------------------------------------------- */

function series(name) {
	if (!state.ports.has(name))
		state.ports.set(name, {ts: [], rx_pps: [], tx_pps: [], rx_bps: [], tx_bps: []});
	return state.ports.get(name);
}

function push(p, ts, v) {
	p.ts.push(ts);
	for (const k of ['rx_pps', 'tx_pps', 'rx_bps', 'tx_bps']) p[k].push(v[k] || 0);
	if (p.ts.length > HISTORY_MAX)
		for (const k of ['ts', 'rx_pps', 'tx_pps', 'rx_bps', 'tx_bps']) p[k].shift();
}

async function loadHistory() {
	const h = await api('/api/v1/history');
	for (const port of h.ports) {
		const p = series(port.name);
		for (let i = 0; i < h.ts.length; i++)
			push(p, h.ts[i], {rx_pps: port.rx_pps[i], tx_pps: port.tx_pps[i],
				rx_bps: port.rx_bps[i], tx_bps: port.tx_bps[i]});
	}
	redrawCharts();
}

function onSample(s) {
	state.last = s;
	state.samples++;
	let rx = 0, tx = 0, rxb = 0, txb = 0;
	for (const port of s.ports) {
		const p = series(port.name);
		if (!p.ts.length || p.ts[p.ts.length - 1] < s.ts) push(p, s.ts, port);
		rx += port.rx_pps; tx += port.tx_pps; rxb += port.rx_bps; txb += port.tx_bps;
	}
	const dropRate = Object.values(s.drop_rates || {}).reduce((a, b) => a + b, 0);
	$('#kpi-rx-pps').textContent = pps(rx);
	$('#kpi-rx-bps').textContent = bps(rxb);
	$('#kpi-tx-pps').textContent = pps(tx);
	$('#kpi-tx-bps').textContent = bps(txb);
	$('#kpi-drop-pps').textContent = pps(dropRate);
	$('#kpi-drop-total').textContent = int(s.drops.total) + ' in total';
	$('#kpi-ports').textContent = String(s.ports.length);
	$('#uptime').textContent = duration(s.uptime_s);
	renderDrops(s);
	redrawCharts();
}

function renderDrops(s) {
	const reasons = Object.entries(s.drops.reasons || {}).sort((a, b) => b[1] - a[1]);
	const body = $('#drops-table tbody');
	body.replaceChildren(...reasons.map(([r, n]) => el('tr', {},
		el('td', {}, r),
		el('td', {class: 'num'}, pps((s.drop_rates || {})[r] || 0)),
		el('td', {class: 'num'}, int(n)))));
	$('#drops-empty').hidden = reasons.length > 0;
	$('#drops-table').hidden = reasons.length === 0;
}

function live(cls, text) {
	const p = $('#live');
	p.className = 'pill ' + cls;
	p.textContent = text;
}

function connect() {
	if (state.es) state.es.close();
	const es = new EventSource('/api/v1/events?token=' + encodeURIComponent(state.token));
	state.es = es;
	es.addEventListener('open', () => live('pill-live', 'live'));
	es.addEventListener('sample', (e) => {
		live('pill-live', 'live');
		onSample(JSON.parse(e.data));
	});
	es.addEventListener('error', () => live('pill-down', 'reconnecting'));
}

/* --- tables ----------------------------------------------------------- */

async function refreshNodes() {
	const n = await api('/api/v1/nodes');
	const rows = n.nodes.map((x) => el('tr', {},
		el('td', {}, x.name),
		el('td', {class: 'num'}, int(x.calls)),
		el('td', {class: 'num'}, int(x.packets)),
		el('td', {class: 'num'}, x.calls ? (x.packets / x.calls).toFixed(1) : '–'),
		el('td', {class: 'num'}, int(x.cycles)),
		el('td', {class: 'num'}, x.cycles ? x.cycles_per_packet.toFixed(1) : '–')));
	$('#nodes-table tbody').replaceChildren(...rows);
	$('#nodes-mini tbody').replaceChildren(...n.nodes.map((x) => el('tr', {},
		el('td', {}, x.name), el('td', {class: 'num'}, int(x.packets)),
		el('td', {class: 'num'}, x.cycles ? x.cycles_per_packet.toFixed(1) : '–'))));
}

async function refreshPorts() {
	const p = await api('/api/v1/ports');
	$('#ports-table tbody').replaceChildren(...p.ports.map((x) => el('tr', {},
		el('td', {}, x.name), el('td', {}, x.driver), el('td', {}, el('code', {}, x.mac)),
		el('td', {class: x.link_up ? 'up' : 'down'}, x.link_up ? 'up' : 'down'),
		el('td', {class: 'num'}, int(x.rx_packets)), el('td', {class: 'num'}, int(x.rx_bytes)),
		el('td', {class: 'num'}, int(x.tx_packets)), el('td', {class: 'num'}, int(x.tx_bytes)),
		el('td', {class: 'num'}, int(x.rx_missed)),
		el('td', {class: 'num'}, int(x.rx_errors + x.tx_errors)),
		el('td', {class: 'num'}, int(x.drops)))));
}

async function refreshStats() {
	const s = await api('/api/v1/stats');
	$('#kpi-workers').textContent = s.workers + (s.workers === 1 ? ' worker' : ' workers');
}

async function refreshLog() {
	const l = await api('/api/v1/log');
	$('#log-level').value = l.level;
	$('#log-format').value = l.format;
	const mods = Object.entries(l.modules || {});
	$('#log-modules tbody').replaceChildren(...mods.map(([m, lv]) =>
		el('tr', {}, el('td', {}, m), el('td', {}, lv))));
	$('#log-modules').hidden = mods.length === 0;
	$('#log-modules-empty').hidden = mods.length > 0;
}

/* --- log records ------------------------------------------------------- */

const RECORDS_MAX = 500;
const LEVEL_BADGE = {error: 'bad', warning: 'warn', info: 'info', debug: 'muted'};

// Local wall-clock time with milliseconds; the full UTC timestamp is the title.
function logTime(iso) {
	const d = new Date(iso);
	if (isNaN(d)) return iso;
	return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

async function refreshRecords() {
	const level = $('#records-level').value, module = $('#records-module').value;
	const q = new URLSearchParams({max: String(RECORDS_MAX), level});
	if (module) q.set('module', module);
	let r;
	try {
		r = await api('/api/v1/logs?' + q);
	} catch (e) {
		return failState('records', e);
	}
	// The filters may have changed while the request was out: the next refresh follows them.
	if (level !== $('#records-level').value || module !== $('#records-module').value) return;
	renderRecords(r.records, level, module);
}

function renderModuleFilter() {
	const sel = $('#records-module');
	const known = [...sel.options].slice(1).map((o) => o.value);
	const all = [...state.logModules].sort();
	if (known.join('\n') === all.join('\n')) return;
	const cur = sel.value;
	sel.replaceChildren(el('option', {value: ''}, 'All modules'),
		...all.map((m) => el('option', {value: m}, m)));
	sel.value = cur;
}

function renderRecords(records, level, module) {
	for (const x of records) state.logModules.add(x.module);
	renderModuleFilter();
	const last = records[records.length - 1];
	const sig = [level, module, records.length, last ? last.ts + last.msg : ''].join('\n');
	if (sig !== state.recordsSig) {
		state.recordsSig = sig;
		// The daemon answers oldest first; the newest is most useful at the top.
		$('#records-table tbody').replaceChildren(...records.slice().reverse().map((x) =>
			el('tr', {'data-level': x.level, 'data-module': x.module},
				el('td', {class: 'ts', title: x.ts}, logTime(x.ts)),
				el('td', {}, badge(LEVEL_BADGE[x.level] || 'muted', x.level)),
				el('td', {}, el('code', {}, x.module)),
				el('td', {class: 'msg'}, x.msg))));
	}
	const filtered = level !== 'debug' || module;
	$('#records-count').textContent = plural(records.length, 'record', 'records') + ', newest first';
	emptyState('records', records.length, filtered ? 'No record matches these filters.'
		: 'No log record yet.');
}

/* --- routing pages ------------------------------------------------------ */

// An empty list means either a routed data plane with nothing in it yet or one
// that routes nothing at all (cross-connected ports): the message says which.
function emptyState(name, rows, msg) {
	$(`#${name}-table`).hidden = rows === 0;
	const p = $(`#${name}-empty`);
	p.hidden = rows > 0;
	if (msg) p.textContent = msg;
}

function failState(name, err) {
	if (err.message === 'unauthorized') throw err;
	$(`#${name}-table tbody`).replaceChildren();
	emptyState(name, 0, 'Not available: ' + err.message + '.');
	$(`#${name}-count`).textContent = '';
}

const plural = (n, one, many) => `${int(n)} ${n === 1 ? one : many}`;
const badge = (cls, text) => el('span', {class: 'badge badge-' + cls}, text);
const dash = () => el('span', {class: 'muted'}, '–');
const NOT_ROUTED = 'The data plane routes nothing: no interface has an address (ports are cross-connected or unused).';

async function refreshInterfaces() {
	let r;
	try {
		r = await api('/api/v1/interfaces');
	} catch (e) {
		return failState('interfaces', e);
	}
	const list = r.interfaces;
	state.routed = list.length > 0;
	$('#interfaces-table tbody').replaceChildren(...list.map((x) => el('tr', {'data-name': x.name},
		el('td', {}, el('b', {}, x.name)),
		el('td', {}, x.port),
		el('td', {}, el('code', {}, x.mac)),
		el('td', {class: 'num'}, int(x.mtu)),
		el('td', {}, el('div', {class: 'chips'}, ...x.addresses.map((a) => el('code', {}, a)))),
		el('td', {}, x.link_local ? el('code', {}, x.link_local) : dash()),
		el('td', {}, x.kernel_mirror ? el('code', {}, x.kernel_mirror) : dash()))));
	$('#interfaces-count').textContent = plural(list.length, 'interface', 'interfaces');
	emptyState('interfaces', list.length, NOT_ROUTED);
}

const ROUTE_BADGE = {connected: 'info', local: 'muted', neighbor: 'ok', ecmp: 'accent',
	blackhole: 'bad', unreachable: 'bad'};

// One next hop (a route's own or an ECMP member): "via A" or "attached".
function nextHop(h) {
	if (h.type === 'neighbor') {
		return el('span', {class: 'nh'}, 'via ', el('code', {}, h.via || '?'),
			h.interface ? el('span', {class: 'muted'}, ' on ' + h.interface) : '',
			' ', h.resolved ? badge('ok', 'resolved') : badge('warn', 'unresolved'));
	}
	if (h.type === 'connected') return el('span', {class: 'nh muted'}, 'attached' + (h.interface ? ' on ' + h.interface : ''));
	if (h.type === 'local') return el('span', {class: 'nh muted'}, 'this appliance');
	if (h.type === 'blackhole') return el('span', {class: 'nh muted'}, 'discard');
	if (h.type === 'unreachable') return el('span', {class: 'nh muted'}, 'unreachable');
	return el('span', {class: 'nh'}, h.type);
}

function routeHop(r) {
	if (r.type !== 'ecmp') return nextHop(r);
	const m = r.members || [];
	return el('div', {class: 'ecmp'},
		el('span', {class: 'muted'}, plural(m.length, 'path', 'paths') + ' (ECMP)'),
		el('ul', {class: 'members'}, ...m.map((x) => el('li', {}, nextHop(x)))));
}

// Prefix sort: IPv4 before IPv6, then by address and length.
function prefixKey(p) {
	const [a, len] = p.split('/');
	if (a.includes('.'))
		return '4' + a.split('.').map((o) => o.padStart(3, '0')).join('.') + '/' + len.padStart(3, '0');
	const [head, tail = ''] = a.split('::');
	const h = head ? head.split(':') : [], t = tail ? tail.split(':') : [];
	const g = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
	return '6' + g.map((x) => x.padStart(4, '0')).join(':') + '/' + len.padStart(3, '0');
}

async function refreshRoutes() {
	let r;
	try {
		r = await api('/api/v1/routes');
	} catch (e) {
		return failState('routes', e);
	}
	state.routes = r.routes.slice().sort((a, b) => (prefixKey(a.prefix) < prefixKey(b.prefix) ? -1 : 1));
	renderRoutes();
}

function renderRoutes() {
	const all = state.routes || [];
	const q = $('#routes-filter').value.trim().toLowerCase();
	const shown = q ? all.filter((x) => x.prefix.toLowerCase().includes(q)) : all;
	$('#routes-table tbody').replaceChildren(...shown.map((x) => el('tr', {'data-prefix': x.prefix},
		el('td', {}, el('code', {}, x.prefix)),
		el('td', {}, badge(ROUTE_BADGE[x.type] || 'muted', x.type)),
		el('td', {}, routeHop(x)),
		el('td', {}, x.interface || (x.type === 'ecmp' ? [...new Set((x.members || [])
			.map((m) => m.interface).filter(Boolean))].join(', ') || '–' : '–')),
		el('td', {}, x.origin))));
	$('#routes-count').textContent = q ? `${int(shown.length)} of ${plural(all.length, 'route', 'routes')}`
		: plural(all.length, 'route', 'routes');
	emptyState('routes', shown.length, all.length
		? `No route matches “${$('#routes-filter').value.trim()}”.` : NOT_ROUTED);
}

const NEIGH_BADGE = {reachable: 'ok', permanent: 'info', probe: 'warn', incomplete: 'warn', failed: 'bad'};

async function refreshNeighbors() {
	let r;
	try {
		r = await api('/api/v1/neighbors');
		// Whether an empty table means "nothing resolved yet" or "nothing routed".
		if (!r.neighbors.length && state.routed === undefined)
			state.routed = (await api('/api/v1/interfaces')).interfaces.length > 0;
	} catch (e) {
		return failState('neighbors', e);
	}
	const list = r.neighbors.slice().sort((a, b) => (prefixKey(a.address + '/0') < prefixKey(b.address + '/0') ? -1 : 1));
	$('#neighbors-table tbody').replaceChildren(...list.map((x) => el('tr', {'data-address': x.address},
		el('td', {}, el('code', {}, x.address)),
		el('td', {}, x.interface),
		el('td', {}, x.mac ? el('code', {}, x.mac) : dash()),
		el('td', {}, badge(NEIGH_BADGE[x.state] || 'muted', x.state)),
		el('td', {class: 'num'}, duration(x.age_s)),
		el('td', {class: 'num'}, int(x.queued)))));
	$('#neighbors-count').textContent = plural(list.length, 'entry', 'entries');
	emptyState('neighbors', list.length, state.routed === false ? NOT_ROUTED
		: 'No neighbour yet: entries appear when traffic is routed to or from a host.');
}

// One traced packet: where it came in, every node and the next node chosen,
// then where it went out, was dropped (with the reason) or punted.
function tracePacket(p) {
	const path = p.path || [];
	const steps = [];
	let fate = 'unfinished', fateCls = 'muted', len = path.length ? path[0].len : 0, prev = null;
	for (const s of path) {
		if (steps.length) steps.push(el('span', {class: 'arrow', 'aria-hidden': 'true'}, '→'));
		if (s.event === 'rx') {
			steps.push(el('span', {class: 'step step-port', title: `received, ${s.len} bytes`},
				el('small', {}, 'rx'), s.port || '?'));
		} else if (s.event === 'tx') {
			steps.push(el('span', {class: 'step step-port', title: `sent by ${s.node}, ${s.len} bytes`},
				el('small', {}, 'tx'), s.port || '?'));
			fate = 'sent on ' + (s.port || '?');
			fateCls = 'ok';
		} else if (s.event === 'drop') {
			// The drop node records the reason; the node before it chose to drop.
			const by = s.node === 'drop' && prev ? prev.node : s.node;
			steps.push(el('span', {class: 'step step-drop', title: `dropped by ${by}`},
				el('small', {}, 'drop'), s.reason || '?'));
			fate = 'dropped: ' + (s.reason || '?');
			fateCls = 'bad';
		} else if (s.event === 'punt') {
			steps.push(el('span', {class: 'step step-punt', title: `punted to the control plane by ${s.node}`},
				el('small', {}, 'punt'), s.reason || '?'));
			fate = 'punted: ' + (s.reason || '?');
			fateCls = 'info';
		} else {
			steps.push(el('span', {class: 'step', title: s.next ? `next: ${s.next}, ${s.len} bytes` : `${s.len} bytes`}, s.node));
		}
		prev = s;
	}
	return el('div', {class: 'trace-pkt' + (fateCls === 'bad' ? ' trace-drop' : ''), 'data-id': String(p.id)},
		el('div', {class: 'trace-head'},
			el('b', {}, 'Packet #' + p.id),
			el('span', {class: 'muted'}, `worker ${p.worker} · ${int(len)} bytes · ${plural(path.length, 'step', 'steps')}`),
			badge(fateCls, fate)),
		el('div', {class: 'trace-path'}, ...steps));
}

async function refreshTrace() {
	let t;
	try {
		t = await api('/api/v1/trace');
	} catch (e) {
		if (e.message === 'unauthorized') throw e;
		$('#trace-list').replaceChildren();
		$('#trace-empty').hidden = false;
		$('#trace-empty').textContent = 'Not available: ' + e.message + '.';
		return;
	}
	renderTrace(t);
}

function renderTrace(t) {
	const pill = $('#trace-state');
	pill.className = 'pill ' + (t.active ? 'pill-live' : 'pill-idle');
	pill.textContent = t.active ? 'tracing' : 'idle';
	const pkts = t.packets || [];
	// Rebuild only when something changed: keeps the scroll position and selection.
	const sig = JSON.stringify(pkts.map((p) => [p.id, p.path.length]));
	if (sig !== state.traceSig) {
		state.traceSig = sig;
		$('#trace-list').replaceChildren(...pkts.map(tracePacket));
	}
	$('#trace-empty').hidden = pkts.length > 0;
	$('#trace-empty').textContent = t.active
		? 'Tracing: waiting for packets. Send traffic through the appliance.'
		: 'No packet traced. Start a trace, then send traffic through the appliance.';
	const drops = pkts.filter((p) => p.path.some((s) => s.event === 'drop')).length;
	$('#trace-msg').textContent = pkts.length
		? `${plural(pkts.length, 'packet', 'packets')} traced${drops ? `, ${int(drops)} dropped` : ''}.` : '';
}

async function traceAction(method, body) {
	$('#trace-msg').textContent = '';
	try {
		const t = await api('/api/v1/trace', body ? {method, headers: {'Content-Type': 'application/json'},
			body: JSON.stringify(body)} : {method});
		renderTrace(t);
	} catch (err) {
		if (err.message !== 'unauthorized') $('#trace-msg').textContent = err.message;
	}
}

// Pages whose tables follow the data plane: refreshed every 2 s while visible.
const REFRESH = {
	ports: () => refreshPorts(),
	interfaces: () => refreshInterfaces(),
	routes: () => refreshRoutes(),
	neighbors: () => refreshNeighbors(),
	trace: () => refreshTrace(),
	logs: () => refreshRecords(),
};

function quietly(fn) {
	return () => fn().catch((e) => { if (e.message !== 'unauthorized') console.warn(e.message); });
}

/* --- pages and session ------------------------------------------------ */

function show(page) {
	if (!document.getElementById('page-' + page)) page = 'overview';
	state.page = page;
	for (const s of document.querySelectorAll('.page')) s.hidden = s.id !== 'page-' + page;
	for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('on', a.dataset.page === page);
	if (REFRESH[page]) quietly(REFRESH[page])();
	if (page === 'nodes') quietly(refreshNodes)();
	if (page === 'logs') quietly(refreshLog)();
	redrawCharts();
}

async function start() {
	$('#login').hidden = true;
	$('#app').hidden = false;
	show(location.hash.slice(1) || 'overview');
	await loadHistory();
	connect();
	quietly(refreshNodes)();
	quietly(refreshStats)();
	state.timers.push(setInterval(quietly(refreshNodes), 2000));
	state.timers.push(setInterval(() => { if (REFRESH[state.page]) quietly(REFRESH[state.page])(); }, 2000));
	state.timers.push(setInterval(quietly(refreshStats), 10000));
}

function logout(msg) {
	sessionStorage.removeItem(TOKEN_KEY);
	state.token = '';
	if (state.es) state.es.close();
	state.es = null;
	for (const t of state.timers) clearInterval(t);
	state.timers = [];
	state.routed = undefined;
	state.traceSig = '';
	state.recordsSig = '';
	$('#app').hidden = true;
	$('#login').hidden = false;
	$('#login-error').textContent = msg || '';
	$('#token').focus();
}

async function login(token) {
	const r = await fetch('/api/v1/', {headers: {Authorization: 'Bearer ' + token}});
	if (r.status === 401) throw new Error('This token is not valid for this appliance.');
	if (!r.ok) throw new Error('The appliance answered ' + r.status + '.');
	state.token = token;
	sessionStorage.setItem(TOKEN_KEY, token);
}

document.addEventListener('DOMContentLoaded', () => {
	$('#login-form').addEventListener('submit', async (e) => {
		e.preventDefault();
		$('#login-error').textContent = '';
		try {
			await login($('#token').value.trim());
			$('#token').value = '';
			await start();
		} catch (err) {
			$('#login-error').textContent = err.message;
		}
	});
	$('#logout').addEventListener('click', () => logout(''));
	$('#range').addEventListener('click', (e) => {
		const b = e.target.closest('button');
		if (!b) return;
		state.range = Number(b.dataset.range);
		for (const x of document.querySelectorAll('#range button')) x.classList.toggle('on', x === b);
		redrawCharts();
	});
	$('#log-form').addEventListener('submit', async (e) => {
		e.preventDefault();
		try {
			await api('/api/v1/log', {method: 'PUT', headers: {'Content-Type': 'application/json'},
				body: JSON.stringify({level: $('#log-level').value, format: $('#log-format').value})});
			$('#log-msg').textContent = 'Applied.';
			await refreshLog();
		} catch (err) {
			$('#log-msg').textContent = err.message;
		}
	});
	$('#routes-filter').addEventListener('input', renderRoutes);
	for (const f of ['#records-level', '#records-module'])
		$(f).addEventListener('change', quietly(refreshRecords));
	$('#trace-form').addEventListener('submit', (e) => {
		e.preventDefault();
		traceAction('POST', {count: Number($('#trace-count').value)});
	});
	$('#trace-clear').addEventListener('click', () => traceAction('DELETE'));
	window.addEventListener('hashchange', () => show(location.hash.slice(1)));
	window.addEventListener('resize', redrawCharts);
	if (state.token) {
		login(state.token).then(start).catch(() => logout(''));
	} else {
		logout('');
	}
});
