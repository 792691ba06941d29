// Browser tests of the public side: the page at `/` with its quick exit, the web report form
// at `/lapor` (sealed in the browser, uploaded with tus, opened on the desk), the receipt
// check at `/cek`, and the APK download. A real berani-server on loopback with a fresh data
// folder, headless Debian chromium driven by playwright-core.
//
//   ./scripts/test-desk        (installs chromium and playwright-core, builds, runs this)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, ROOT, changePassword, cleanup, logIn, startServer, tempDir } from './harness.mjs';

const NEUTRAL = 'https://www.bmkg.go.id/';
const ADMIN_PW = 'kepala kantor uji halaman publik 1';
const MARKER = `CONTOH SINTETIS: uji formulir web ${Math.random().toString(36).slice(2, 10)}`;
const REPLY = `CONTOH SINTETIS: balasan tim ${Math.random().toString(36).slice(2, 8)}`;

let dir;
let server;
let browser;
let admin; // the admin's page, logged in
let reportId;
let receiptCode;
/** Every request any page of the public contexts made. */
const requests = [];

/**
 * A context for a person on a phone (360×740). The neutral site of the quick exit is outside
 * this machine's reach, so it is answered here with a stub page (the request is still
 * recorded, which is what the tests look at).
 */
async function phone() {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  context.on('request', (r) => requests.push(r.url()));
  await context.route(`${NEUTRAL}**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Cuaca</title><p>cuaca</p>' }),
  );
  return context;
}

/** The JPEG fixture with an EXIF block that holds a GPS position (6°58'S). */
function photoWithGps() {
  const jpeg = readFileSync(join(ROOT, 'core', 'tests', 'fixtures', 'photo.jpg'));
  const u16 = (v) => [v & 255, v >> 8];
  const u32 = (v) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
  const tiff = [
    0x49, 0x49, ...u16(42), ...u32(8),
    // IFD0: one entry, the GPS IFD pointer (0x8825) to offset 26.
    ...u16(1), ...u16(0x8825), ...u16(4), ...u32(1), ...u32(26), ...u32(0),
    // GPS IFD: latitude ref "S" and latitude 6/1 58/1 0/1 at offset 56.
    ...u16(2),
    ...u16(1), ...u16(2), ...u32(2), 0x53, 0, 0, 0,
    ...u16(2), ...u16(5), ...u32(3), ...u32(56),
    ...u32(0),
    ...u32(6), ...u32(1), ...u32(58), ...u32(1), ...u32(0), ...u32(1),
  ];
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.from(tiff)]);
  const len = payload.length + 2;
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, len >> 8, len & 255]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

const hasGps = (buf) => buf.includes(Buffer.from('Exif\0\0', 'latin1')) && buf.includes(Buffer.from([0x25, 0x88]));

before(async () => {
  dir = tempDir('berani-public-test-');
  server = await startServer(join(dir, 'data'), ['--hotline', 'Dinsos P3A Blora=0296531001,081225001234']);
  assert.ok(server.adminPassword, 'the first start prints `admin password: …`');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI needs --no-sandbox. The fake microphone gives MediaRecorder a sound to record.
    args: [
      '--no-sandbox', '--disable-dev-shm-usage',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    ],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  admin = await ctx.newPage();
  await logIn(admin, server.base, 'admin', server.adminPassword);
  await changePassword(admin, server.adminPassword, ADMIN_PW);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) cleanup(dir);
});

test('the public page: emergency numbers, the way to the form, no cookie, nothing from elsewhere', async () => {
  const context = await phone();
  const page = await context.newPage();
  const resp = await page.goto(`${server.base}/?v=relawan-07`);
  assert.equal(resp.status(), 200);
  assert.equal(resp.headers()['set-cookie'], undefined, 'no cookie is set');
  assert.match(resp.headers()['content-security-policy'], /default-src 'none'/);
  assert.ok(await page.locator('#darurat a[href="tel:112"]').isVisible(), '112 is a tel: link');
  assert.equal(await page.locator('#darurat a[href="tel:129"]').count(), 1, 'SAPA 129 is a tel: link, once');
  assert.equal(await page.locator('a[href="https://wa.me/628111129129"]').count(), 1, 'SAPA on WhatsApp');
  assert.equal(await page.locator('#darurat a[href="tel:0296531001"]').count(), 1, "the profile's hotline");
  assert.equal(await page.locator('#darurat a[href="https://wa.me/6281225001234"]').count(), 1, "and its WhatsApp");
  assert.equal(await page.textContent('#kode-relawan'), 'RELAWAN-07', 'the volunteer code is shown');
  assert.equal(await page.getAttribute('#ke-lapor', 'href'), '/lapor?v=RELAWAN-07', 'and carried to the form');
  assert.equal(await page.getAttribute('#ke-cek', 'href'), '/cek');
  assert.ok(await page.locator('#apk-none').isVisible(), 'no APK offered before an admin uploads one');
  // The stylesheet and scripts carry their hash and are cached for a year.
  const css = await page.getAttribute('link[rel=stylesheet]', 'href');
  assert.match(css, /^\/static\/public-[0-9a-f]{12}\.css$/);
  const cssResp = await page.request.get(`${server.base}${css}`);
  assert.match(cssResp.headers()['cache-control'], /max-age=31536000/);
  const html = await resp.text();
  assert.ok(html.length < 12_000, `the page is small (${html.length} bytes)`);
  assert.deepEqual(await context.cookies(), [], 'no cookies in the browser');
  for (const url of requests) assert.ok(url.startsWith(server.base), `only this server is asked: ${url}`);
  // The volunteer-code box leads back to the page with the code.
  await page.fill('#v', 'blora-3');
  await Promise.all([page.waitForURL(/\?v=blora-3$/), page.click('#relawan button[type=submit]')]);
  assert.equal(await page.textContent('#kode-relawan'), 'BLORA-3');
  await context.close();
});

test('quick exit: the button replaces the page with a neutral site and Back does not return', async () => {
  const context = await phone();
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  const before = await page.evaluate(() => history.length);
  await Promise.all([page.waitForURL(NEUTRAL), page.click('#keluar')]);
  assert.equal(await page.evaluate(() => history.length), before, 'the neutral site took the place of the page');
  await page.goBack().catch(() => null);
  assert.ok(!page.url().startsWith(server.base), `Back does not lead to the public page: ${page.url()}`);
  await context.close();
});

test('quick exit: the Esc key does the same, also from the middle of the form', async () => {
  const context = await phone();
  const page = await context.newPage();
  await page.goto(`${server.base}/lapor`);
  await page.fill('#description', 'sedang menulis');
  await page.focus('#description');
  const before = await page.evaluate(() => history.length);
  await Promise.all([page.waitForURL(NEUTRAL), page.keyboard.press('Escape')]);
  assert.equal(await page.evaluate(() => history.length), before);
  await page.goBack().catch(() => null);
  assert.ok(!page.url().startsWith(server.base), `Back does not lead to the form: ${page.url()}`);
  await context.close();
});

test('the form names every missing field in Indonesian and English', async () => {
  const context = await phone();
  const page = await context.newPage();
  await page.goto(`${server.base}/lapor`);
  await page.click('#kirim');
  const errors = await page.locator('#errors li').allTextContents();
  assert.ok(errors.some((e) => /Jenis kejadian: wajib diisi/.test(e) && /What happened: is required/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /Kecamatan: wajib diisi/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /tulis ceritanya atau rekam pesan suara/.test(e)), errors.join('\n'));
  assert.equal(await page.getAttribute('#f-category', 'aria-invalid'), 'true');
  await page.check('#contact_ok');
  await page.fill('#contact_number', 'telepon saya');
  await page.click('#kirim');
  const again = await page.locator('#errors li').allTextContents();
  assert.ok(again.some((e) => /Nomor kontak: isinya tidak sesuai format/.test(e)), again.join('\n'));
  await context.close();
});

test('the web form seals in the browser, uploads with tus and shows the receipt code', async () => {
  const context = await phone();
  const page = await context.newPage();
  const uploads = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/v1/uploads')) uploads.push(r.headers()['upload-metadata']);
  });
  // A volunteer code made on the desk; the form is opened through the volunteer's link.
  await admin.goto(`${server.base}/desk/volunteers`);
  await admin.fill('#v-name', 'Relawan Uji');
  await admin.fill('#v-area', '33.16.05');
  await Promise.all([admin.waitForNavigation(), admin.click('form[action="/desk/volunteers"] button[type=submit]')]);
  const volunteer = (await admin.locator('tbody tr td code').first().textContent()).trim();
  assert.match(volunteer, /^[0-9A-Z]{3}-[0-9A-Z*~$=U]{4}$/, volunteer);
  const volunteerCall = page.waitForRequest((r) => r.url().endsWith('/v1/volunteers/web-reports'));
  // The link drops after the server took the first part but before its answer arrived: the
  // browser creates it again, and the server answers with the part it already has.
  let dropped = 0;
  await page.route(/\/v1\/uploads$/, async (route) => {
    if (route.request().method() === 'POST' && dropped === 0) {
      dropped += 1;
      const answer = await route.fetch();
      assert.equal(answer.status(), 201, 'the server took the part');
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await page.goto(`${server.base}/lapor?v=${volunteer}`);
  await page.check('input[name=category][value=physical]');
  await page.check('#in_danger_now');
  assert.ok(await page.locator('#bahaya a[href="tel:112"]').isVisible(), 'in danger now shows the numbers at once');
  await page.selectOption('#victim_sex', 'girl');
  await page.selectOption('#victim_age_band', '13-17');
  await page.selectOption('#reporter_role', 'neighbour');
  await page.selectOption('#date_kind', 'exact');
  await page.fill('#date_from', '2026-01-15');
  await page.selectOption('#district', '33.16.05');
  const village = await page.locator('#village option[data-d="33.16.05"]').first().getAttribute('value');
  await page.selectOption('#village', village);
  await page.fill('#location_detail', 'dekat pasar');
  await page.selectOption('#place_type', 'household');
  await page.selectOption('#perpetrator_relationship', 'relative');
  await page.fill('#description', MARKER);
  const photo = join(dir, 'foto-gps.jpg');
  writeFileSync(photo, photoWithGps());
  assert.ok(hasGps(readFileSync(photo)), 'the test photo carries a GPS position');
  await page.setInputFiles('#photos', photo);
  await page.waitForSelector('#photo-list li');
  // A voice note from the (fake) microphone.
  await page.click('#rekam');
  await page.waitForTimeout(1500);
  await page.click('#stop');
  await page.waitForSelector('#voice-preview:not([hidden])');
  await page.click('#kirim');
  await page.waitForSelector('#tanda-terima:not([hidden])', { timeout: 120_000 });
  receiptCode = (await page.textContent('#kode')).trim();
  assert.match(receiptCode, /^([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z*~$=U]$/, 'the code as the app shows it');
  assert.match(await page.textContent('#tanda-terima'), /Tulis dan simpan di tempat yang aman/);
  // Three parts: the document, the photo and the voice note, with the core's metadata keys.
  assert.equal(dropped, 1, 'one answer was lost');
  assert.equal(uploads.length, 4, 'one tus creation per part, and the one sent again');
  assert.equal(new Set(uploads).size, 3, 'the retry is the same part with the same metadata');
  const meta = (h) =>
    Object.fromEntries(h.split(',').map((kv) => {
      const [k, v] = kv.split(' ');
      return [k, Buffer.from(v || '', 'base64').toString()];
    }));
  const first = meta(uploads[0]);
  assert.deepEqual(Object.keys(first).sort(), ['followup', 'followup_auth', 'kind', 'part', 'parts', 'report', 'sha256', 'token']);
  assert.equal(first.part, '0');
  assert.equal(first.parts, '3');
  reportId = first.report;
  assert.match(reportId, /^[0-9a-f]{32}$/);
  // The volunteer count: the code only, nothing about the report.
  const call = await volunteerCall;
  assert.deepEqual(JSON.parse(call.postData()), { code: volunteer });
  assert.ok(!call.postData().includes(reportId));
  assert.equal((await call.response()).status(), 204, 'the volunteer server counted it');
  await admin.goto(`${server.base}/desk/volunteers`);
  assert.equal((await admin.textContent(`tbody tr td.web-reports`)).trim(), '1', 'one web report for the code');
  assert.deepEqual(await context.cookies(), []);
  for (const url of requests) {
    assert.ok(url.startsWith(server.base) || url.startsWith('blob:') || url.startsWith('data:') || url.startsWith(NEUTRAL), `only this server is asked: ${url}`);
  }
  // The server holds only sealed bytes: no upload file contains the marker.
  const uploadsDir = join(server.data, 'uploads');
  const files = execFileSync('find', [uploadsDir, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n');
  assert.ok(files.length >= 3);
  for (const f of files) assert.ok(!readFileSync(f).includes(Buffer.from(MARKER)), `${f} holds no plaintext`);
  await context.close();
});

test('the desk opens the browser-sealed report: text, a photo without GPS, the voice note', async () => {
  assert.ok(reportId, 'the form test ran first');
  await admin.goto(`${server.base}/desk/inbox`);
  assert.equal(await admin.locator(`a[href="/desk/cases/${reportId}"]`).count() >= 1, true, 'the case is in the inbox');
  assert.equal(await admin.locator('tbody tr').count(), 1, 'one case: the dropped link made no second report');
  const resp = await admin.goto(`${server.base}/desk/cases/${reportId}`);
  assert.equal(resp.status(), 200);
  const main = await admin.textContent('main');
  assert.match(main, new RegExp(MARKER), 'the decrypted description');
  assert.match(main, /Kekerasan fisik/);
  assert.match(main, /Cepu/);
  const img = admin.locator('main img').first();
  await img.waitFor();
  assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), 'the photo decodes');
  assert.equal(await admin.locator('main audio').count(), 1, 'the voice note');
  const photo = await admin.request.get(`${server.base}/desk/cases/${reportId}/parts/1`);
  assert.equal(photo.status(), 200);
  assert.match(photo.headers()['content-type'], /^image\/jpeg/);
  const bytes = await photo.body();
  assert.equal(bytes[0], 0xff);
  assert.equal(bytes[1], 0xd8);
  assert.ok(!hasGps(bytes), 'no EXIF GPS in the photo the team receives');
  assert.ok(!bytes.includes(Buffer.from('Exif\0\0', 'latin1')), 'no EXIF block at all');
  const voice = await admin.request.get(`${server.base}/desk/cases/${reportId}/parts/2`);
  assert.equal(voice.status(), 200);
  assert.match(voice.headers()['content-type'], /^audio\//);
  assert.ok((await voice.body()).length > 500, 'a recording with sound');
});

test('the receipt check shows the status and opens the team reply', async () => {
  assert.ok(receiptCode, 'the form test ran first');
  // The team replies from the desk, sealed to the reporter's key from the report.
  await admin.goto(`${server.base}/desk/cases/${reportId}`);
  await admin.fill('#message', REPLY);
  await Promise.all([
    admin.waitForNavigation(),
    admin.click(`form[action="/desk/cases/${reportId}/message"] button[type=submit]`),
  ]);
  const context = await phone();
  const page = await context.newPage();
  await page.goto(`${server.base}/cek`);
  // A typo in the check character is caught before anything is sent.
  const wrong = receiptCode.slice(0, -1) + (receiptCode.endsWith('0') ? '1' : '0');
  await page.fill('#kode', wrong);
  await page.click('#periksa');
  assert.match(await page.textContent('#cek-error'), /Kode laporan: ada huruf yang salah ketik/);
  // Typed in lower case with spaces, as a person might.
  await page.fill('#kode', receiptCode.toLowerCase().replaceAll('-', ' '));
  await page.click('#periksa');
  await page.waitForSelector('#hasil:not([hidden])', { timeout: 60_000 });
  assert.match(await page.textContent('#status'), /Diterima|Sedang ditangani/);
  assert.match(await page.textContent('#pesan'), new RegExp(REPLY), 'the reply is decrypted in the browser');
  assert.deepEqual(await context.cookies(), []);
  await context.close();
});

test('the admin uploads the APK; the public page shows its SHA-256 and the download matches', async () => {
  // Not a zip: refused, naming the field.
  const notApk = join(dir, 'bukan.apk');
  writeFileSync(notApk, 'this is not an android package');
  await admin.goto(`${server.base}/desk/apk`);
  await admin.setInputFiles('#apk', notApk);
  const [refused] = await Promise.all([
    admin.waitForNavigation(),
    admin.click('form[action="/desk/apk"] button[type=submit]'),
  ]);
  assert.equal(refused.status(), 400);
  assert.match(await admin.textContent('main'), /APK: file ini bukan APK/);
  // A zip with an AndroidManifest.xml entry (a stand-in for a real APK, which is a zip).
  const apk = join(dir, 'berani.apk');
  execFileSync('python3', ['-c', `
import zipfile, sys
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('AndroidManifest.xml', b'\\x03\\x00\\x08\\x00' + bytes(range(256)) * 40)
    z.writestr('classes.dex', b'dex\\n035\\x00' + bytes(5000))
`, apk]);
  const want = createHash('sha256').update(readFileSync(apk)).digest('hex');
  await admin.goto(`${server.base}/desk/apk`);
  await admin.setInputFiles('#apk', apk);
  await Promise.all([
    admin.waitForURL(/\/desk\/apk\?done=uploaded$/),
    admin.click('form[action="/desk/apk"] button[type=submit]'),
  ]);
  assert.equal(await admin.textContent('#apk-sha256'), want);
  await admin.goto(`${server.base}/desk/audit`);
  assert.match(await admin.textContent('main'), /apk_upload/);

  const context = await phone();
  const page = await context.newPage();
  await page.goto(`${server.base}/`);
  const shown = (await page.textContent('#apk-sha256')).trim();
  assert.equal(shown, want);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#unduh-apk')]);
  const path = await download.path();
  assert.equal(createHash('sha256').update(readFileSync(path)).digest('hex'), shown, 'the download matches the page');
  const head = await page.request.get(`${server.base}/berani.apk`);
  assert.equal(head.headers()['content-type'], 'application/vnd.android.package-archive');
  assert.equal(Number(head.headers()['content-length']), readFileSync(apk).length);
  await context.close();
});
