// Browser tests of the case desk: a real berani-server on loopback with a fresh data folder,
// a report sent by the real `berani` reporter CLI, and headless Debian chromium driven by
// playwright-core. The steps run in order and share one server: each builds on the last,
// from the first admin login to a case's termination and its trace in the audit log.
//
//   ./scripts/test-desk        (installs chromium and playwright-core, builds, runs this)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ROOT, addUser, changePassword, cleanup, launch, logIn, reporter, serverCommand,
  startServer, tempDir,
} from './harness.mjs';

const ADMIN_PW = 'kepala kantor uji peramban 1';
const PASSWORDS = {
  koordinator: 'rahasia uji peramban dua 2',
  pendamping: 'rahasia uji peramban tiga 3',
  pemantau: 'rahasia uji peramban empat 4',
};
const MARKER = `CONTOH SINTETIS: uji peramban ${Math.random().toString(36).slice(2, 10)}`;

let dir;
let server;
let browser;
let reportId;
const sessions = {}; // user name -> { context, page }

async function as(user) {
  if (!sessions[user]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    sessions[user] = { context, page: await context.newPage() };
  }
  return sessions[user].page;
}

/** First login of a user created with a one-time password: the forced change. */
async function firstLogin(user, oneTime) {
  const page = await as(user);
  await logIn(page, server.base, user, oneTime);
  assert.match(page.url(), /\/desk\/account\/password$/, 'a one-time password must be changed first');
  await changePassword(page, oneTime, PASSWORDS[user]);
  return page;
}

before(async () => {
  dir = tempDir('berani-desk-test-');
  server = await startServer(join(dir, 'data'));
  assert.ok(server.adminPassword, 'the first start prints `admin password: …`');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) cleanup(dir);
});

test('a wrong password is refused with a message and no session', async () => {
  const page = await as('stranger');
  const resp = await logIn(page, server.base, 'admin', 'bukan kata sandinya');
  assert.equal(resp.status(), 401);
  assert.match(await page.textContent('p.error[role=alert]'), /kata sandi atau kode salah/);
  const cookies = await sessions.stranger.context.cookies();
  assert.ok(!cookies.some((c) => c.name === 'berani_desk'), 'no session cookie after a failed login');
  // Without a session, desk pages lead to the login form.
  await page.goto(`${server.base}/desk/inbox`);
  assert.match(page.url(), /\/desk\/login$/);
});

test('the admin logs in with the printed password and must choose a new one', async () => {
  const page = await as('admin');
  const resp = await logIn(page, server.base, 'admin', server.adminPassword);
  assert.equal(resp.status(), 303);
  assert.match(page.url(), /\/desk\/account\/password$/);
  // The forced change holds: another page leads back to the password form.
  await page.goto(`${server.base}/desk/inbox`);
  assert.match(page.url(), /\/desk\/account\/password$/);
  await changePassword(page, server.adminPassword, ADMIN_PW);
  await page.goto(`${server.base}/desk`);
  assert.match(page.url(), /\/desk\/inbox$/);
  assert.equal(await page.textContent('h1'), 'Kotak masuk');
});

test('a coordinator, a caseworker and a viewer are created with `berani-server user add`', async () => {
  const made = {
    koordinator: addUser(server, ADMIN_PW, 'koordinator', 'coordinator'),
    pendamping: addUser(server, ADMIN_PW, 'pendamping', 'caseworker'),
    pemantau: addUser(server, ADMIN_PW, 'pemantau', 'viewer'),
  };
  for (const [user, oneTime] of Object.entries(made)) await firstLogin(user, oneTime);
});

test('the inbox shows a report sent with the berani CLI, with its SLA clock', async () => {
  const key = serverCommand(['profile', 'pubkey', '--data', server.data]).trim();
  const phone = reporter(join(dir, 'phone'));
  phone.run('profile', 'import', server.base, '--trust', key);
  const draft = phone.run(
    'draft', 'new', '--category', 'physical', '--victim', 'girl', '--age-band', '13-17',
    '--role', 'neighbour', '--in-danger', '--district', '33.16.09', '--text', MARKER,
    '--attach', join(ROOT, 'core', 'tests', 'fixtures', 'photo.jpg'),
  );
  phone.run('submit', draft);
  const synced = phone.run('sync', '--for', '60');
  assert.match(synced, /delivered 1, failed 0, pending 0/);
  reportId = draft;

  const page = await as('koordinator');
  await page.goto(`${server.base}/desk/inbox`);
  const row = page.locator(`tr[data-case="${reportId}"]`);
  await row.waitFor();
  assert.match(await row.getAttribute('class'), /pinned/, 'in danger now is pinned');
  assert.match(await row.textContent(), /BAHAYA SEKARANG/);
  const sla = row.locator('[data-sla]');
  assert.equal(await sla.getAttribute('data-sla'), 'open');
  assert.match(await sla.textContent(), /sisa 2[34] j \d+ m/, 'about 24 hours left');
  assert.match(await row.textContent(), /Diterima \d{4}-\d\d-\d\d \d\d:\d\d WIB/);
  assert.match(await row.textContent(), /Ditulis \d{4}-\d\d-\d\d \d\d:\d\d WIB/);
  assert.match(await row.textContent(), /Kekerasan fisik/);
  assert.match(await row.textContent(), /1\/1/, 'the photo has arrived');
  // The inbox is the first row: in danger now comes first.
  assert.equal(await page.locator('tbody tr').first().getAttribute('data-case'), reportId);
});

test('the coordinator assigns it to the caseworker', async () => {
  const page = await as('koordinator');
  await page.selectOption(`#as-${reportId}`, 'pendamping');
  await Promise.all([
    page.waitForURL(/\/desk\/inbox\?done=assign$/),
    page.click(`form[action="/desk/cases/${reportId}/assign"] button[type=submit]`),
  ]);
  assert.equal(await page.inputValue(`#as-${reportId}`), 'pendamping');
});

test('the caseworker opens it and sees the decrypted text and the photo', async () => {
  const page = await as('pendamping');
  await page.goto(`${server.base}/desk/inbox`);
  await page.locator(`tr[data-case="${reportId}"] a`).click();
  await page.waitForURL(new RegExp(`/desk/cases/${reportId}$`));
  assert.equal((await page.textContent('dd.report-text')).trim(), MARKER);
  assert.match(await page.textContent('main'), /DALAM BAHAYA SEKARANG/);
  const img = page.locator('section.media img');
  await img.scrollIntoViewIfNeeded();
  await page.waitForFunction(
    (el) => el.complete && el.naturalWidth > 0,
    await img.elementHandle(),
    { timeout: 15_000 },
  );
  const size = await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]);
  assert.ok(size[0] > 0 && size[1] > 0, `the photo decoded (${size})`);
});

test('a form without its CSRF token, or with a wrong one, is refused with 403', async () => {
  const page = await as('koordinator');
  await page.goto(`${server.base}/desk/cases/${reportId}`);
  const url = `${server.base}/desk/cases/${reportId}/note`;
  for (const form of [{ note: 'tanpa token' }, { note: 'token salah', csrf: 'x'.repeat(43) }]) {
    const r = await page.request.post(url, { form, maxRedirects: 0 });
    assert.equal(r.status(), 403, `POST ${JSON.stringify(form)}`);
    assert.match(await r.text(), /Formulir kedaluwarsa/);
  }
  const stage = await page.request.post(`${server.base}/desk/cases/${reportId}/stage`, {
    form: { to: 'terminated', reason: 'other' },
    maxRedirects: 0,
  });
  assert.equal(stage.status(), 403);
  // The same form sent from the page, with its token, works.
  await page.fill('#note', 'CONTOH SINTETIS: catatan koordinator');
  await Promise.all([
    page.waitForURL(/\?done=note$/),
    page.click(`form[action="/desk/cases/${reportId}/note"] button[type=submit]`),
  ]);
  const timeline = await page.textContent('ol.timeline');
  assert.match(timeline, /catatan koordinator/);
  assert.doesNotMatch(timeline, /tanpa token|token salah/);
  assert.match(await page.textContent('ol.stages li.current'), /Pengaduan diterima/);
});

async function moveTo(page, to, fill) {
  await page.selectOption('#to', to);
  if (fill) await fill();
  await page.fill('#stage-note', `CONTOH SINTETIS: tahap ${to}`);
  await Promise.all([
    page.waitForURL(/\?done=stage$/),
    page.click(`form[action="/desk/cases/${reportId}/stage"] button[type=submit]`),
  ]);
}

test('the caseworker moves it through assessment to termination', async () => {
  const page = await as('pendamping');
  await page.goto(`${server.base}/desk/cases/${reportId}`);
  // A required detail missing: a clear error naming the field, and nothing changes.
  await page.selectOption('#to', 'identified');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/stage')),
    page.click(`form[action="/desk/cases/${reportId}/stage"] button[type=submit]`),
  ]);
  assert.equal(refused.status(), 400);
  assert.match(await page.textContent('main'), /risk: pilih tingkat risiko/);
  await page.goto(`${server.base}/desk/cases/${reportId}`);
  assert.match(await page.textContent('ol.stages li.current'), /Pengaduan diterima/);

  await moveTo(page, 'identified', () => page.selectOption('#risk', 'high'));
  assert.match(await page.textContent('ol.stages li.current'), /Identifikasi/);
  await moveTo(page, 'assessed');
  assert.match(await page.textContent('ol.stages li.current'), /Asesmen bio-psiko-sosial/);
  assert.match(await page.textContent('section.card dl.fields'), /Asesmen tepat waktu/);
  await moveTo(page, 'planned', () => page.check('input[name=consent]'));
  await moveTo(page, 'services', async () => {
    await page.check('input[name=services][value=psychosocial]');
    await page.check('input[name=services][value=health]');
  });
  assert.match(await page.textContent('ol.timeline'), /Layanan: Layanan kesehatan, Dukungan psikososial/);
  await moveTo(page, 'monitoring');
  await moveTo(page, 'terminated', () => page.selectOption('#reason', 'reintegrated'));
  assert.match(await page.textContent('ol.stages li.current'), /Terminasi/);
  assert.equal(await page.locator(`form[action="/desk/cases/${reportId}/stage"]`).count(), 0);
  const timeline = await page.textContent('ol.timeline');
  for (const s of ['Identifikasi', 'Asesmen', 'Rencana intervensi', 'Layanan', 'Pemantauan', 'Terminasi']) {
    assert.match(timeline, new RegExp(`pendamping: \\d\\. ${s}`));
  }
  assert.match(timeline, /Tingkat risiko: Tinggi/);
  assert.match(timeline, /Alasan terminasi: Korban sudah kembali/);
});

test('the audit log shows each step, and its hash chain is intact', async () => {
  const page = await as('admin');
  await page.goto(`${server.base}/desk/audit?subject=${reportId}`);
  assert.ok(await page.locator('[data-chain="ok"]').count(), 'the hash chain verifies');
  const rows = await page.$$eval('tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
  const steps = rows.map(([, , actor, action, , detail]) => `${actor} ${action} ${detail}`).reverse();
  const want = [
    'koordinator assign pendamping',
    'pendamping view_case',
    'pendamping view_attachment part 1',
    'koordinator note',
    'pendamping stage identified',
    'pendamping stage assessed',
    'pendamping stage planned',
    'pendamping stage services',
    'pendamping stage monitoring',
    'pendamping stage terminated',
  ];
  let at = 0;
  for (const s of steps) if (at < want.length && s.trim() === want[at]) at++;
  assert.equal(at, want.length, `missing "${want[at]}" in order, got:\n${steps.join('\n')}`);
  const notes = rows.filter((r) => r[3] === 'note');
  assert.equal(notes.length, 1, 'the refused notes left no trace but the accepted one');
  // The audit log is for admins only.
  const cw = await as('pendamping');
  const refused = await cw.goto(`${server.base}/desk/audit`);
  assert.equal(refused.status(), 403);
});

test('the statistics page renders its charts for a viewer', async () => {
  const page = await as('pemantau');
  const resp = await page.goto(`${server.base}/desk/stats`);
  assert.equal(
    resp.status(), 200,
    `GET /desk/stats answered ${resp.status()}: the statistics page is not on this branch yet`,
  );
  const charts = page.locator('main svg');
  assert.ok((await charts.count()) >= 1, 'at least one SVG chart');
  const box = await charts.first().boundingBox();
  assert.ok(box && box.width > 0 && box.height > 0, 'the chart is drawn with a size');
  const marks = await page.locator('main svg :is(rect, path, line, circle, polyline, polygon)').count();
  assert.ok(marks > 0, 'the charts have marks');
  assert.doesNotMatch(await page.textContent('main'), new RegExp(MARKER), 'no report content');
});

test('a viewer is refused the case page and the inbox', async () => {
  const page = await as('pemantau');
  const resp = await page.goto(`${server.base}/desk/cases/${reportId}`);
  assert.equal(resp.status(), 403);
  assert.match(await page.textContent('main'), /Tidak diizinkan/);
  assert.doesNotMatch(await page.content(), new RegExp(MARKER));
  const inbox = await page.goto(`${server.base}/desk/inbox`);
  assert.equal(inbox.status(), 403);
  const photo = await page.goto(`${server.base}/desk/cases/${reportId}/parts/1`);
  assert.equal(photo.status(), 403);
});
