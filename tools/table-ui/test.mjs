// Developer tests of templates/static/table.js and app.css: the hand-kept copy of the
// table page (facetable.html) served by python3's http.server from the repository root,
// driven in headless Chromium. Screenshots go to /tmp/table-ui-shots/.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = '/tmp/table-ui-shots';
mkdirSync(shots, { recursive: true });

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.on('error', reject);
    proc.stdout.on('data', (d) => {
      const m = /port (\d+)/.exec(d.toString());
      if (m) resolve({ proc, origin: `http://127.0.0.1:${m[1]}` });
    });
    proc.stderr.resume();
  });
}

// The server's filter_form_redirect (crates/host/src/views/table/request.rs), for the
// fields these tests submit: the filters a submitted form stands for, as `col__op=value`.
function filtersOf(url) {
  const params = new URL(url).searchParams;
  const out = [];
  const add = (column, op, value) => {
    if (!column) return;
    let [o, v] = op.includes('__') ? op.split('__') : [op || 'exact', value];
    out.push(`${column}__${o}=${v}`);
  };
  for (const [k, column] of params) {
    const n = k.startsWith('_filter_column_') ? k.slice('_filter_column_'.length) : null;
    if (n !== null) add(column, params.get(`_filter_op_${n}`) || '', params.get(`_filter_value_${n}`) || '');
  }
  if (params.has('_filter_column')) {
    add(params.get('_filter_column'), params.get('_filter_op') || '', params.get('_filter_value') || '');
  }
  return out;
}

const { proc, origin } = await startServer();
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const PAGE = `${origin}/tools/table-ui/facetable.html`;
const BASE = `${PAGE}?state=CA&_facet=city_id`;
const errors = [];
let passed = 0;

async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...options });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return page;
}

async function test(name, fn) {
  const page = await newPage();
  try {
    await fn(page);
    passed++;
    console.log(`ok - ${name}`);
  } finally {
    await page.context().close();
  }
}

const button = (page, col) => page.locator(`th[data-column="${col}"] button.col-menu-button`);
const menuOf = async (page, col) => page.locator(`#${await button(page, col).getAttribute('aria-controls')}`);
const itemTexts = async (menu) => menu.locator('[role="menuitem"]').allInnerTexts();
const focused = (page) => page.evaluate(() => {
  const e = document.activeElement;
  return e ? (e.getAttribute('aria-label') || e.textContent || e.name || e.tagName).trim() : null;
});

try {
  await test('every column gets a labelled menu button', async (page) => {
    await page.goto(BASE);
    const labels = await page.locator('button.col-menu-button').evaluateAll((bs) => bs.map((b) => [
      b.getAttribute('aria-label'), b.getAttribute('aria-haspopup'), b.getAttribute('aria-expanded'), b.type]));
    assert.deepEqual(labels, ['pk', 'created', 'planet_int', 'state', 'city_id'].map((c) => [
      `Column actions for ${c}`, 'menu', 'false', 'button']));
    assert.equal(await page.locator('.col-menu:visible').count(), 0);
  });

  await test('the menu opens on click under its button, with the sortable column\'s items', async (page) => {
    await page.goto(BASE);
    const th = page.locator('th[data-column="state"]');
    const before = await th.boundingBox();
    await button(page, 'state').click();
    const menu = await menuOf(page, 'state');
    assert.ok(await menu.isVisible());
    assert.equal(await button(page, 'state').getAttribute('aria-expanded'), 'true');
    assert.equal(await menu.locator('[role="menu"]').count(), 1);
    assert.deepEqual(await itemTexts(menu), ['Sort ascending', 'Sort descending', 'Facet by this', 'Hide this column']);
    assert.equal(await menu.locator('.col-menu-type').innerText(), 'Type: TEXT');
    assert.equal(await menu.locator('.col-menu-not-null').innerText(), 'Not null');
    assert.equal(await focused(page), 'Sort ascending');
    const b = await button(page, 'state').boundingBox();
    const m = await menu.boundingBox();
    assert.ok(m.y >= b.y + b.height - 1 && m.y <= b.y + b.height + 8, `menu at ${m.y}, button ends at ${b.y + b.height}`);
    assert.deepEqual(await th.boundingBox(), before, 'opening the menu does not move the header');
    await page.screenshot({ path: `${shots}/light-menu.png` });
    // Arrow keys move between items and wrap around.
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), 'Sort descending');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(page), 'Hide this column');
    // Escape closes it and gives the focus back to the button.
    await page.keyboard.press('Escape');
    assert.ok(!(await menu.isVisible()));
    assert.equal(await button(page, 'state').getAttribute('aria-expanded'), 'false');
    assert.equal(await focused(page), 'Column actions for state');
  });

  await test('the menu opens from the keyboard and closes on an outside click', async (page) => {
    await page.goto(BASE);
    await button(page, 'planet_int').focus();
    await page.keyboard.press('Enter');
    const menu = await menuOf(page, 'planet_int');
    assert.ok(await menu.isVisible());
    assert.equal(await focused(page), 'Sort ascending');
    // Opening another menu closes the first.
    await button(page, 'created').click();
    assert.ok(!(await menu.isVisible()));
    assert.equal(await page.locator('.col-menu:visible').count(), 1);
    await page.locator('h1').click();
    assert.equal(await page.locator('.col-menu:visible').count(), 0);
    assert.equal(await button(page, 'created').getAttribute('aria-expanded'), 'false');
  });

  await test('keys are not hidden, unsortable columns are not sorted, a facet is offered once', async (page) => {
    await page.goto(BASE);
    await button(page, 'pk').click();
    const pk = await menuOf(page, 'pk');
    assert.deepEqual(await itemTexts(pk), ['Sort ascending', 'Sort descending', 'Facet by this']);
    assert.equal(await pk.locator('.col-menu-type').innerText(), 'Type: INTEGER');
    await page.keyboard.press('Escape');
    await button(page, 'city_id').click();
    const city = await menuOf(page, 'city_id');
    assert.deepEqual(await itemTexts(city), ['Hide this column']);
    assert.equal(await city.locator('.col-menu-not-null').count(), 0);
  });

  await test('"Sort descending" sorts by the column and keeps the other arguments', async (page) => {
    await page.goto(`${BASE}&_sort=pk&_next=20`);
    await button(page, 'state').click();
    await Promise.all([page.waitForURL(/_sort_desc=state/), (await menuOf(page, 'state')).getByRole('menuitem', { name: 'Sort descending' }).click()]);
    const p = new URL(page.url()).searchParams;
    assert.equal(p.get('_sort_desc'), 'state');
    assert.ok(!p.has('_sort') && !p.has('_next'));
    assert.equal(p.get('state'), 'CA');
    assert.deepEqual(p.getAll('_facet'), ['city_id']);
  });

  await test('"Facet by this" adds a facet, from the keyboard too', async (page) => {
    await page.goto(`${BASE}&_next=20`);
    await button(page, 'planet_int').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), 'Facet by this');
    await Promise.all([page.waitForURL(/_facet=planet_int/), page.keyboard.press('Enter')]);
    const p = new URL(page.url()).searchParams;
    assert.deepEqual(p.getAll('_facet'), ['city_id', 'planet_int']);
    assert.ok(!p.has('_next'));
  });

  await test('"Hide this column" then "Show all columns"', async (page) => {
    await page.goto(BASE);
    await button(page, 'created').click();
    await Promise.all([page.waitForURL(/_nocol=created/), (await menuOf(page, 'created')).getByRole('menuitem', { name: 'Hide this column' }).click()]);
    await button(page, 'state').click();
    const menu = await menuOf(page, 'state');
    assert.deepEqual((await itemTexts(menu)).slice(-1), ['Show all columns']);
    await Promise.all([page.waitForURL((u) => !u.search.includes('_nocol')), menu.getByRole('menuitem', { name: 'Show all columns' }).click()]);
    assert.equal(new URL(page.url()).searchParams.get('state'), 'CA');
  });

  await test('"+ Add filter" adds a row that is submitted', async (page) => {
    await page.goto(BASE);
    const rows = page.locator('form.filters .filter-row:has(select[name^="_filter_column"])');
    assert.equal(await rows.count(), 2);
    assert.equal(await page.locator('form.filters button.remove-filter[aria-label="Remove filter"]').count(), 2);
    const add = page.locator('form.filters button.add-filter');
    assert.equal(await add.getAttribute('type'), 'button');
    assert.equal(await add.innerText(), '+ Add filter');
    await page.selectOption('select[name="_filter_column"]', 'city_id');
    await page.fill('input[name="_filter_value"]', '1');
    await add.click();
    assert.equal(await rows.count(), 3);
    const added = rows.nth(2);
    assert.equal(await added.locator('select').first().getAttribute('name'), '_filter_column_2');
    assert.equal(await added.locator('select').first().inputValue(), '');
    assert.equal(await added.locator('input.filter-value').inputValue(), '');
    assert.equal(await focused(page), 'Column');
    await added.locator('select').first().selectOption('planet_int');
    await added.locator('select').nth(1).selectOption('gt');
    await added.locator('input.filter-value').fill('1');
    // A second added row, then removed again, leaves nothing behind.
    await add.click();
    assert.equal(await rows.count(), 4);
    await rows.nth(3).locator('button.remove-filter').click();
    assert.equal(await rows.count(), 3);
    await page.screenshot({ path: `${shots}/light-filters.png` });
    await Promise.all([page.waitForURL(/_filter_column_2=/), page.click('form.filters input[type="submit"]')]);
    assert.deepEqual(filtersOf(page.url()), ['state__exact=CA', 'planet_int__gt=1', 'city_id__exact=1']);
  });

  await test('removing a filter in force drops it', async (page) => {
    await page.goto(BASE);
    const row = page.locator('form.filters .filter-row:has(select[name="_filter_column_1"])');
    await row.locator('button.remove-filter').click();
    assert.ok(!(await row.isVisible()));
    assert.equal(await focused(page), '+ Add filter');
    await Promise.all([page.waitForURL(/_filter_column_1=/), page.click('form.filters input[type="submit"]')]);
    assert.equal(new URL(page.url()).searchParams.get('_filter_column_1'), '');
    assert.deepEqual(filtersOf(page.url()), []);
    assert.equal(new URL(page.url()).searchParams.get('_facet'), 'city_id');
  });

  await test('headers stick to the top of the scrolling table', async (page) => {
    await page.goto(BASE);
    const wrapper = page.locator('.table-wrapper');
    await wrapper.evaluate((w) => { w.scrollTop = 600; });
    const w = await wrapper.boundingBox();
    const th = await page.locator('th[data-column="state"]').boundingBox();
    assert.ok(Math.abs(th.y - w.y) <= 2, `header at ${th.y}, wrapper at ${w.y}`);
    assert.ok(await button(page, 'state').isVisible());
  });

  await test('dark scheme', async (page) => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(BASE);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, 'rgb(255, 255, 255)');
    await page.screenshot({ path: `${shots}/dark.png`, fullPage: false });
    await button(page, 'state').click();
    await page.screenshot({ path: `${shots}/dark-menu.png` });
  });

  for (const scheme of ['light', 'dark']) {
    const page = await newPage({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(BASE);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `the page is ${width}px wide at 375px`);
    await page.screenshot({ path: `${shots}/narrow-${scheme}.png`, fullPage: true });
    await page.screenshot({ path: `${shots}/narrow-${scheme}-top.png` });
    await button(page, 'city_id').click();
    const m = await (await menuOf(page, 'city_id')).boundingBox();
    assert.ok(m.x >= 0 && m.x + m.width <= 375, `the menu spans ${m.x}..${m.x + m.width}`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 375);
    await page.screenshot({ path: `${shots}/narrow-${scheme}-menu.png` });
    await page.context().close();
    passed++;
    console.log(`ok - at 375px wide (${scheme}) the page does not scroll sideways`);
  }

  assert.deepEqual(errors, [], 'no console errors');
  console.log(`ok - no console errors\n${passed + 1} passed; screenshots in ${shots}`);
} finally {
  await browser.close();
  proc.kill();
}
