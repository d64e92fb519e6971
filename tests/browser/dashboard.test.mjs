// End-to-end tests of the kuiperd dashboard in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core; no browser is downloaded). tests/integration/test_browser_dashboard.py
// starts a real kuiperd and runs this script with:
//   DASHBOARD_URL, REST_URL  the dashboard and the REST API of that kuiperd
//   MQTT_PORT                its bundled broker (messages are published with mosquitto_pub)
//   SCENARIO                 "main" (no authentication) or "auth" (basic.authentication on)
//   TOKEN                    with "auth": a valid JWT
//   SCREENSHOT_DIR           where page screenshots go (docs/screenshots when refreshing them)
// Steps that need REST endpoints the server does not have yet (a 404 "<path> is not found")
// check the page's "Not available" state instead. Prints one "ok"/"not ok" line per step.
import { chromium } from 'playwright-core';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const DASH = env.DASHBOARD_URL;
const REST = env.REST_URL;
const MQTT_PORT = env.MQTT_PORT;
const SHOTS = env.SCREENSHOT_DIR;
const SCENARIO = env.SCENARIO || 'main';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

let passed = 0, failed = 0;
const pageErrors = [];

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n  ')}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** False when the REST API has no route for path (404 "<path> is not found"). */
async function hasEndpoint(path, headers = {}) {
  const r = await fetch(REST + path, { headers });
  if (r.status !== 404) return true;
  const body = await r.json().catch(() => ({}));
  return body.message !== `${path} is not found`;
}

function publish(topic, message) {
  return new Promise((resolve, reject) => {
    execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', MQTT_PORT, '-t', topic, '-m', message], (err) => (err ? reject(err) : resolve()));
  });
}

function publishRetained(topic, message) {
  return new Promise((resolve, reject) => {
    execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', MQTT_PORT, '-r', '-t', topic, '-m', message], (err) => (err ? reject(err) : resolve()));
  });
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => document.getElementById('toast').replaceChildren()); // no notice over the page
  await page.waitForTimeout(150); // let the last chart redraw land
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function go(page, hash) {
  await page.goto(`${DASH}/${hash}`);
  await page.waitForSelector('main h1');
}

async function main(page) {
  const streamsApi = await hasEndpoint('/streams');
  const rulesApi = await hasEndpoint('/rules');
  console.log(`# REST endpoints: /streams ${streamsApi ? 'present' : 'absent'}, /rules ${rulesApi ? 'present' : 'absent'}`);
  let streamMade = false;

  await step('the streams page renders with the navigation', async () => {
    await go(page, '#/streams');
    assert((await page.textContent('main h1')).includes('Streams'), 'heading');
    assert(await page.isVisible('nav a[data-page=rules].active') === false, 'rules link is not active');
    assert(await page.isVisible('nav a[data-page=streams].active'), 'streams link is active');
    await page.waitForSelector(streamsApi ? '[data-testid=streams-list]' : 'main .na');
  });

  if (streamsApi) {
    await step('a malformed CREATE STREAM shows the server\'s parse error inline', async () => {
      await page.fill('[data-testid=create-form] textarea', 'CREATE STREAM bad (a BIGINT)\nWITH (DATASOURCE="bad" FORMAT="JSON")');
      await page.click('[data-testid=create-form] button[type=submit]');
      const err = await page.waitForSelector('[data-testid=sql-error]');
      const text = await err.textContent();
      assert(text.length > 0, 'an error message');
      if (/line\s+\d+\s*,?\s*column\s+\d+/i.test(text)) {
        await page.waitForSelector('.sqled .gutter div.err');
        await page.waitForSelector('.sqlerr pre .caret');
      }
      console.log(`# server said: ${text}`);
      await shot(page, 'stream-error');
    });
    await step('a stream is created, listed and described through the UI', async () => {
      await page.fill('[data-testid=create-form] textarea',
        'CREATE STREAM demo (\n  temperature FLOAT,\n  humidity BIGINT\n) WITH (DATASOURCE="demo", FORMAT="JSON")');
      await page.click('[data-testid=create-form] button[type=submit]');
      await page.waitForSelector('[data-testid=create-ok]');
      await page.waitForSelector('tr[data-name=demo]');
      await page.click('tr[data-name=demo] button:has-text("Describe")');
      await page.waitForSelector('[data-testid=describe] >> text=temperature');
      streamMade = true;
    });
    await step('a stream\'s SQL is edited and replaced through the UI', async () => {
      await page.click('[data-testid=describe] button[data-action=edit]');
      await page.waitForFunction(() => document.querySelector('[data-testid=create-form] textarea').value.includes('CREATE STREAM demo'));
      await page.fill('[data-testid=create-form] textarea',
        'CREATE STREAM demo (\n  temperature FLOAT,\n  humidity BIGINT,\n  pressure FLOAT\n) WITH (DATASOURCE="demo", FORMAT="JSON")');
      await page.click('[data-testid=create-form] button[type=submit]:has-text("Replace stream")');
      await page.waitForSelector('[data-testid=create-ok]');
      await page.waitForSelector('[data-testid=describe] >> text=pressure');
      await shot(page, 'streams');
    });
  } else {
    await step('streams without the endpoint say "not available"', async () => {
      assert((await page.textContent('main .na')).includes('Not available'), 'not available text');
      await shot(page, 'streams');
    });
  }

  await step('the tables page renders and creates the example table', async () => {
    await go(page, '#/tables');
    assert((await page.textContent('main h1')).includes('Tables'), 'heading');
    await page.waitForSelector(streamsApi ? '[data-testid=tables-list]' : 'main .na');
    if (streamsApi) { // the form's example is a memory lookup table
      await page.click('[data-testid=create-form] button[type=submit]');
      await page.waitForSelector('[data-testid=create-ok]');
      await page.waitForSelector('tr[data-name=lookup]');
    }
    await shot(page, 'tables');
  });

  if (rulesApi && streamMade) {
    const id = 'dash1';
    await step('a rule is created in the form and its status turns running', async () => {
      await go(page, '#/rules/new');
      await page.fill('input[name=id]', id);
      await page.fill('input[name=name]', 'Hot readings');
      await page.fill('[data-testid=rule-form] .sqled textarea', 'SELECT temperature, humidity FROM demo WHERE temperature > 20');
      await page.fill('textarea[name=actions]', JSON.stringify([
        { mqtt: { server: `tcp://127.0.0.1:${MQTT_PORT}`, topic: `result/${id}` } }, { log: {} }], null, 2));
      await shot(page, 'rule-form');
      await page.click('[data-testid=rule-form] button[type=submit]');
      await page.waitForFunction((rid) => location.hash === `#/rules/${rid}`, id);
      await page.waitForSelector('.badge[data-status=running]', { timeout: 15000 });
    });
    await step('the rule page shows the plan GET /rules/{id}/explain answers as text', async () => {
      await page.waitForSelector('[data-testid=rule-plan] [data-op^=ProjectPlan]', { state: 'attached', timeout: 10000 });
      await page.waitForSelector('[data-testid=rule-plan] [data-op^=DataSourcePlan]', { state: 'attached' });
    });
    await step('published MQTT messages move the rule\'s metrics and appear in the preview', async () => {
      await page.waitForSelector('[data-testid=preview]');
      for (let i = 0; i < 12; i++) {
        await publish('demo', JSON.stringify({ temperature: 20 + i, humidity: 50 + i }));
        await page.waitForTimeout(150);
      }
      await page.waitForFunction(() => {
        const el = document.querySelector('[data-testid=records-in]');
        return el && Number(el.textContent.replace(/,/g, '')) >= 12;
      }, null, { timeout: 10000 });
      await page.waitForSelector('[data-testid=nodes] .node svg polyline', { state: 'attached', timeout: 10000 });
      const out = Number((await page.textContent('[data-testid=records-out]')).replace(/,/g, ''));
      if (out > 0) await page.waitForSelector('[data-testid=preview-messages] li', { timeout: 5000 });
      await shot(page, 'rule');
    });
    await step('the rules list shows the rule running and stops it', async () => {
      await go(page, '#/rules');
      await page.waitForSelector(`tr[data-rule=${id}] .badge[data-status=running]`);
      await shot(page, 'rules');
      await page.click(`tr[data-rule=${id}] button[data-action=stop]`);
      await page.waitForSelector(`tr[data-rule=${id}] .badge:not([data-status=running])`, { timeout: 10000 });
    });
    await step('editing the rule: Check and Save show the SQL error inline, the fix validates, saves and restarts', async () => {
      await go(page, `#/rules/${id}/edit`);
      await page.waitForFunction(() => document.querySelector('[data-testid=rule-form] .sqled textarea').value.includes('FROM demo'));
      await page.fill('[data-testid=rule-form] .sqled textarea', 'SELECT temperature,\nFROM demo WHERE');
      await page.click('button[data-action=check]'); // POST /rules/validate
      await page.waitForSelector('[data-testid=sql-error]');
      await page.waitForSelector('.sqled .gutter div.err');
      await page.click('[data-testid=rule-form] button[type=submit]');
      await page.waitForSelector('[data-testid=sql-error]');
      await page.fill('[data-testid=rule-form] .sqled textarea', 'SELECT temperature FROM demo WHERE temperature > 25');
      await page.click('button[data-action=check]');
      await page.waitForSelector('[data-testid=rule-valid]');
      await page.click('[data-testid=rule-form] button[type=submit]');
      await page.waitForFunction((rid) => location.hash === `#/rules/${rid}`, id);
      await page.click('button[data-action=restart]');
      await page.waitForSelector('.badge[data-status=running]', { timeout: 10000 });
      await page.waitForSelector('details >> text=temperature > 25', { state: 'attached' });
    });
    await step('deleting the rule and dropping the stream through the UI', async () => {
      page.once('dialog', (d) => d.accept());
      await page.click('button[data-action=delete]');
      await page.waitForFunction(() => location.hash === '#/rules');
      await page.waitForSelector(`tr[data-rule=${id}]`, { state: 'detached' });
      await go(page, '#/streams');
      page.once('dialog', (d) => d.accept());
      await page.click('tr[data-name=demo] button:has-text("Drop")');
      await page.waitForSelector('tr[data-name=demo]', { state: 'detached' });
    });
  } else {
    await step('the rules page renders (no rule engine endpoints yet: "not available")', async () => {
      await go(page, '#/rules');
      await page.waitForSelector(rulesApi ? '[data-testid=rules-list]' : 'main .na');
      await shot(page, 'rules');
      await go(page, '#/rules/new');
      await page.waitForSelector('[data-testid=rule-form] .sqled textarea');
      await shot(page, 'rule-form');
    });
  }

  await step('the broker page charts $SYS figures and shows live messages', async () => {
    // A client connected with a subscription, shown by the management endpoints (when present).
    const mgmtApi = await hasEndpoint('/broker/clients');
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', MQTT_PORT, '-i', 'dash-client', '-q', '1', '-t', 'dash/sub/#'],
      { stdio: 'ignore' });
    try {
      if (mgmtApi) {
        await publishRetained('dash/kept', 'kept for the table');
        for (let i = 0; i < 100; i++) {
          const r = await (await fetch(`${REST}/broker/subscriptions?clientid=dash-client`)).json();
          if (r.data && r.data.length) break;
          await new Promise((res) => setTimeout(res, 50));
        }
      }
      await brokerPage(page, mgmtApi);
    } finally {
      sub.kill();
    }
  });

  await step('the configuration page shows the server', async () => {
    await go(page, '#/config');
    await page.waitForSelector('[data-testid=server-info] >> text=version');
    await page.waitForSelector('pre.json:has-text("timezone")');
    await shot(page, 'config');
  });
}

/** The broker page: with the management endpoints, its tables show the connected client, its
 * subscription and a retained message; the $SYS charts and the live message viewer work. */
async function brokerPage(page, mgmtApi) {
  await go(page, '#/broker');
  if (mgmtApi) {
    const card = (title) => `main .card:has(h2:has-text("${title}"))`;
    await page.waitForSelector(`${card('Connected clients')} td:has-text("dash-client")`, { timeout: 5000 });
    await page.waitForSelector(`${card('Subscriptions')} td:has-text("dash/sub/#")`, { timeout: 5000 });
    await page.waitForSelector(`${card('Retained messages')} td:has-text("dash/kept")`, { timeout: 5000 });
  }
  await page.waitForSelector('[data-testid=sys-charts] svg polyline', { state: 'attached', timeout: 10000 });
  await page.fill('input[name=filter]', 'dash/#');
  await page.click('form.card button[type=submit]');
  await page.waitForSelector('text=watching dash/#');
  await publish('dash/hello', '{"hello":"dashboard"}');
  await page.waitForSelector('[data-testid=messages] li >> text=dash/hello', { timeout: 5000 });
  const sections = await page.$$eval('main .card', (cards) => cards.length);
  assert(sections >= 5, 'five sections');
  if (SHOTS) await page.waitForTimeout(2500); // a few $SYS rounds (sysInterval 1 s) for the picture
  await shot(page, 'broker');
}

async function auth(page) {
  await step('without a token the dashboard asks for one', async () => {
    await page.goto(`${DASH}/`);
    await page.waitForSelector('textarea[name=token]');
    assert((await page.evaluate(() => location.hash)) === '#/login', 'on #/login');
    await shot(page, 'login');
  });
  await step('a bad token is refused with the server\'s reason', async () => {
    await page.fill('textarea[name=token]', 'not-a-jwt');
    await page.click('form button[type=submit]');
    const err = await page.waitForSelector('[data-testid=login-error]');
    assert((await err.textContent()).includes('unauthorized'), 'the 401 message');
  });
  await step('a valid token signs in, is sent on every call, and signing out forgets it', async () => {
    await page.fill('textarea[name=token]', env.TOKEN);
    await page.click('form button[type=submit]');
    await page.waitForSelector('main[data-page=streams] h1');
    await page.waitForSelector('#session button');
    await go(page, '#/config');
    await page.waitForSelector('[data-testid=server-info] >> text=version');
    await page.click('#session button');
    await page.waitForSelector('textarea[name=token]');
    assert(await page.evaluate(() => sessionStorage.getItem('kuiper.jwt')) === null, 'token forgotten');
  });
}

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium', headless: true, args: FLAGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  page.setDefaultTimeout(8000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await (SCENARIO === 'auth' ? auth(page) : main(page));
  await step('no uncaught script error on any page', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
} finally {
  await browser.close();
}
console.log(`# ${SCENARIO}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
