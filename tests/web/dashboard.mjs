// Drive the aetherd dashboard in headless Chromium and report in TAP.
//
//   node dashboard.mjs URL TOKEN SCREENSHOT.png
//
// Signs in with the token, checks that every page loads without a console
// error, that the overview charts move while traffic flows, and keeps a
// screenshot of the overview. The logs page must show the daemon's recent
// records and filter them by level. The routing pages (interfaces, routes,
// neighbours, trace) are checked against the routed lab described by the
// environment; these and the logs page are kept as screenshots next to the
// overview one (dashboard-<page>.png):
//
//   LAB_LAN4, LAB_LAN6, LAB_WAN4, LAB_WAN6   the router's addresses
//   LAB_NET_PREFIX   the first two octets of the lab's IPv4 subnets (10.N)
//   LAB_CLIENT4      the client's address, expected reachable
//   LAB_SERVER4      the server's address (an ECMP route goes via both hosts)
//   LAB_PING         a command (split on spaces) that pings through the router
//
// With DASH_MODE=unrouted (aetherd cross-connecting, routing nothing) it only
// checks that the routing pages say so, without a row, and keeps no screenshot.
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const [url, token, shot] = process.argv.slice(2);
const env = process.env;
if (!url || !token || !shot) {
	console.error('usage: node dashboard.mjs URL TOKEN SCREENSHOT.png');
	process.exit(2);
}

const results = [];
const ok = (cond, desc, diag) => {
	results.push(cond);
	console.log(`${cond ? 'ok' : 'not ok'} ${results.length} - ${desc}`);
	if (!cond && diag) for (const l of String(diag).split('\n')) console.log('# ' + l);
};
const PLAN = env.DASH_MODE === 'unrouted' ? 4 : 19;
console.log(`1..${PLAN}`);

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
});
const shotOf = (name) => path.join(path.dirname(shot), `dashboard-${name}.png`);
const waitFor = async (page, fn, arg, timeout = 5000) => {
	try {
		await page.waitForFunction(fn, arg, { timeout });
		return true;
	} catch (e) {
		return false;
	}
};
const DONE = Symbol('done');
const errors = [];
try {
	const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
	page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('requestfailed', (r) => {
		// An open event stream is aborted on purpose when the page goes away.
		if (!r.url().includes('/api/v1/events')) errors.push('request failed: ' + r.url());
	});

	await page.goto(url, { waitUntil: 'load' });
	await page.waitForSelector('#login-form', { state: 'visible', timeout: 10000 });
	ok(await page.isVisible('#token'), 'login page shown without a token');

	await page.fill('#token', token);
	await page.click('#login-btn');
	let signedIn = true;
	try {
		await page.waitForSelector('#app', { state: 'visible', timeout: 10000 });
	} catch (e) {
		signedIn = false;
	}
	ok(signedIn, 'signed in with the API token', await page.textContent('#login-error').catch(() => ''));

	if (env.DASH_MODE === 'unrouted') {
		const why = [];
		for (const p of ['interfaces', 'routes', 'neighbors']) {
			await page.click(`#nav a[data-page=${p}]`);
			const shown = await waitFor(page, (n) => {
				const e = document.querySelector(`#${n}-empty`);
				return !e.hidden && /routes nothing/.test(e.textContent) &&
					document.querySelector(`#${n}-table`).hidden;
			}, p);
			const rows = await page.$$eval(`#${p}-table tbody tr`, (r) => r.length);
			if (!shown || rows) why.push(`${p}: ${rows} rows, ` + await page.textContent(`#${p}-empty`));
		}
		ok(why.length === 0, 'interfaces, routes and neighbors pages say the data plane routes nothing',
			why.join('\n'));
		await page.click('#nav a[data-page=overview]');
		await page.waitForTimeout(500);
		ok(errors.length === 0, 'no console errors', errors.join('\n'));
		throw DONE; // the routed checks do not apply
	}

	// Live updates: the pill turns "live" and a chart has points.
	let live = true;
	try {
		await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'live' &&
			Number(document.querySelector('canvas[data-kind=pps]')?.dataset.points || 0) >= 2,
		null, { timeout: 15000 });
	} catch (e) {
		live = false;
	}
	ok(live, 'event stream live and the packets chart has points');

	const read = () => page.evaluate(() => {
		const c = [...document.querySelectorAll('canvas[data-kind=pps]')];
		return c.map((x) => ({ points: Number(x.dataset.points), ts: Number(x.dataset.lastTs),
			last: x.dataset.last }));
	});
	const before = await read();
	await page.waitForTimeout(5000);
	const after = await read();
	const moved = before.length > 0 && before.every((b, i) => after[i] &&
		after[i].ts - b.ts >= 3000 && after[i].points > b.points);
	ok(moved, `charts moved over 5 s (${JSON.stringify(before)} -> ${JSON.stringify(after)})`);
	const flowing = after.some((a) => a.last.split(',').some((v) => Number(v) > 0));
	ok(flowing, 'a port shows non-zero packets/s while traffic flows', JSON.stringify(after));

	let drops = true;
	try {
		await page.waitForFunction(() => [...document.querySelectorAll('#drops-table tbody td')]
			.some((td) => td.textContent === 'ip4-bad-checksum'), null, { timeout: 5000 });
	} catch (e) {
		drops = false;
	}
	ok(drops, 'drops by reason lists ip4-bad-checksum (bad packets sent by the client)');

	const kpi = await page.textContent('#kpi-rx-pps');
	ok(/pps$/.test(kpi.trim()), `received KPI rendered (${kpi.trim()})`);

	await page.screenshot({ path: shot, fullPage: true });

	// The other pages load their data.
	const pages = [['ports', '#ports-table tbody tr'], ['nodes', '#nodes-table tbody tr']];
	let allPages = true;
	const why = [];
	for (const [p, rowSel] of pages) {
		await page.click(`#nav a[data-page=${p}]`);
		try {
			await page.waitForSelector(rowSel, { timeout: 5000 });
		} catch (e) {
			allPages = false;
			why.push(p + ': no rows');
		}
	}
	ok(allPages, 'ports and nodes pages show rows', why.join('\n'));

	await page.click('#nav a[data-page=logs]');
	let logOk = true;
	try {
		await page.waitForFunction(() => document.querySelector('#log-level').value !== '', null,
			{ timeout: 5000 });
	} catch (e) {
		logOk = false;
	}
	ok(logOk, 'log settings page loads the current level');

	// Recent records: the daemon logged at start (module aetherd), newest first.
	const rowsOf = () => page.$$eval('#records-table tbody tr',
		(rows) => rows.map((r) => ({ level: r.dataset.level, module: r.dataset.module,
			ts: r.querySelector('td').title })));
	const recOk = await waitFor(page, () => [...document.querySelectorAll('#records-table tbody tr')]
		.some((r) => r.dataset.module === 'aetherd' || r.dataset.module === 'ip'));
	const rows = await rowsOf();
	const newestFirst = rows.every((r, i) => i === 0 || rows[i - 1].ts >= r.ts);
	ok(recOk && newestFirst, `logs page lists records of aetherd or ip, newest first (${rows.length} rows)`,
		await page.textContent('#page-logs'));

	// The level filter: "errors only" leaves no info row (maybe no row at all, then
	// says so); "all levels" brings them back.
	const infoBefore = rows.filter((r) => r.level === 'info').length;
	await page.selectOption('#records-level', 'error');
	const errOnly = await waitFor(page, () => {
		const r = [...document.querySelectorAll('#records-table tbody tr')];
		return r.every((x) => x.dataset.level === 'error') &&
			(r.length > 0 || /matches/.test(document.querySelector('#records-empty').textContent));
	});
	const errRows = await rowsOf();
	await page.selectOption('#records-level', 'debug');
	const back = await waitFor(page, (n) => [...document.querySelectorAll('#records-table tbody tr')]
		.filter((x) => x.dataset.level === 'info').length >= n, infoBefore);
	ok(infoBefore > 0 && errOnly && back,
		`the level filter keeps only errors, then every level again (${infoBefore} info rows, ` +
		`${errRows.length} with errors only)`, JSON.stringify(errRows.slice(0, 5)));
	await page.screenshot({ path: shotOf('logs'), fullPage: true });

	// Interfaces: lan and wan with the addresses of the lab.
	await page.click('#nav a[data-page=interfaces]');
	const want = { lan: [env.LAB_LAN4, env.LAB_LAN6], wan: [env.LAB_WAN4, env.LAB_WAN6] };
	const ifOk = await waitFor(page, (w) => Object.entries(w).every(([name, addrs]) => {
		const row = document.querySelector(`#interfaces-table tr[data-name="${name}"]`);
		return row && addrs.every((a) => row.textContent.includes(a));
	}), want);
	await page.screenshot({ path: shotOf('interfaces'), fullPage: true });
	ok(ifOk, `interfaces page lists lan and wan with their addresses (${JSON.stringify(want)})`,
		await page.textContent('#page-interfaces'));

	// Routes: both connected /24s, and the filter box narrows the table.
	await page.click('#nav a[data-page=routes]');
	const nets = [`${env.LAB_NET_PREFIX}.1.0/24`, `${env.LAB_NET_PREFIX}.2.0/24`];
	const routesOk = await waitFor(page, (n) => n.every((p) => {
		const row = document.querySelector(`#routes-table tr[data-prefix="${p}"]`);
		return row && row.children[1].textContent === 'connected';
	}), nets);
	ok(routesOk, `routes page lists the connected routes ${nets.join(', ')}`,
		await page.textContent('#page-routes'));
	await page.fill('#routes-filter', `${env.LAB_NET_PREFIX}.2.`);
	const filtered = await page.$$eval('#routes-table tbody tr', (rows) => rows.map((r) => r.dataset.prefix));
	await page.fill('#routes-filter', '');
	ok(filtered.length >= 1 && filtered.every((p) => p.startsWith(`${env.LAB_NET_PREFIX}.2.`)) &&
		filtered.includes(nets[1]), `the prefix filter keeps only matching routes (${filtered.join(', ')})`);

	// An ECMP route added through the API shows both of its members.
	const ecmp = '198.51.100.0/24', via = [env.LAB_SERVER4, env.LAB_CLIENT4];
	const added = await page.evaluate(([prefix, v]) => api('/api/v1/routes', { method: 'POST',
		headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prefix, via: v }) })
		.then(() => '', (e) => e.message), [ecmp, via.join(',')]);
	const ecmpOk = await waitFor(page, ([p, v]) => {
		const row = document.querySelector(`#routes-table tr[data-prefix="${p}"]`);
		if (!row || row.children[1].textContent !== 'ecmp') return false;
		const m = [...row.querySelectorAll('.members li')].map((li) => li.textContent);
		return m.length === v.length && v.every((a) => m.some((t) => t.includes(a)));
	}, [ecmp, via]);
	ok(added === '' && ecmpOk, `an ECMP route ${ecmp} via ${via.join(' and ')} is listed with both members`,
		added || await page.textContent('#page-routes'));
	await page.waitForSelector(`#routes-table tr[data-prefix="${nets[0]}"]`, { timeout: 3000 });
	await page.screenshot({ path: shotOf('routes'), fullPage: true });

	// Neighbours: the client answered ARP while it pinged through the router.
	await page.click('#nav a[data-page=neighbors]');
	const neighOk = await waitFor(page, (a) => {
		const row = document.querySelector(`#neighbors-table tr[data-address="${a}"]`);
		return row && row.children[3].textContent === 'reachable';
	}, env.LAB_CLIENT4);
	await page.screenshot({ path: shotOf('neighbors'), fullPage: true });
	ok(neighOk, `neighbors page shows the client ${env.LAB_CLIENT4} reachable`,
		await page.textContent('#page-neighbors'));

	// Trace: start 20 from the form, ping, see a path through ip4-input.
	await page.click('#nav a[data-page=trace]');
	await page.fill('#trace-count', '20');
	await page.click('#trace-start');
	if (env.LAB_PING) {
		const [cmd, ...args] = env.LAB_PING.split(' ');
		const p = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
		if (p.status !== 0) console.log('# ping: ' + (p.stdout + p.stderr).trim().split('\n').join('\n# '));
	}
	const traceOk = await waitFor(page, () => [...document.querySelectorAll('#trace-list .trace-pkt')]
		.some((b) => [...b.querySelectorAll('.step')].some((s) => s.textContent === 'ip4-input')), null, 8000);
	await page.screenshot({ path: shotOf('trace'), fullPage: true });
	ok(traceOk, 'trace page shows a traced packet whose path contains ip4-input',
		await page.textContent('#page-trace'));

	await page.click('#trace-clear');
	const cleared = await waitFor(page, () => document.querySelectorAll('#trace-list .trace-pkt').length === 0 &&
		!document.querySelector('#trace-empty').hidden &&
		document.querySelector('#trace-state').textContent === 'idle');
	ok(cleared, 'Clear stops the trace and empties the page', await page.textContent('#page-trace'));
	await page.click('#nav a[data-page=overview]');
	await page.waitForTimeout(500);

	ok(errors.length === 0, 'no console errors', errors.join('\n'));
} catch (e) {
	if (e !== DONE) console.log('# ' + String(e.stack || e).split('\n').join('\n# '));
	while (results.length < PLAN) ok(false, 'not reached');
} finally {
	await browser.close();
}
process.exit(results.length === PLAN && results.every(Boolean) ? 0 : 1);
