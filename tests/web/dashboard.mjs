// Drive the aetherd dashboard in headless Chromium and report in TAP.
//
//   node dashboard.mjs URL TOKEN SCREENSHOT.png
//
// Signs in with the token, checks that every page loads without a console
// error, that the overview charts move while traffic flows, and keeps a
// screenshot of the overview.
import { chromium } from 'playwright-core';

const [url, token, shot] = process.argv.slice(2);
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
const PLAN = 10;
console.log(`1..${PLAN}`);

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
});
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
	await page.click('#nav a[data-page=overview]');
	await page.waitForTimeout(500);

	ok(errors.length === 0, 'no console errors', errors.join('\n'));
} catch (e) {
	console.log('# ' + String(e.stack || e).split('\n').join('\n# '));
	while (results.length < PLAN) ok(false, 'not reached');
} finally {
	await browser.close();
}
process.exit(results.length === PLAN && results.every(Boolean) ? 0 : 1);
