// Screenshots of the case desk for the README, from a demo data folder made by
// `berani-server demo`: the inbox, a case page and the statistics, 1280×800.
//
//   node screenshots.mjs DATA ADMIN_PASSWORD OUT_DIR      (scripts/desk-screenshots runs it)
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { launch, logIn, startServer } from './harness.mjs';

const [data, password, out] = process.argv.slice(2);
if (!data || !password || !out) {
  console.error('usage: node screenshots.mjs DATA ADMIN_PASSWORD OUT_DIR');
  process.exit(2);
}

const server = await startServer(data);
const browser = await launch();
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await logIn(page, server.base, 'admin', password);
  if (!page.url().endsWith('/desk/inbox')) throw new Error(`login did not reach the inbox: ${page.url()}`);

  const shot = async (name) => {
    const path = join(out, name);
    await page.screenshot({ path });
    const kb = Math.round(statSync(path).size / 1024);
    console.log(`${path} (${kb} KB)`);
    if (kb >= 300) throw new Error(`${name} is ${kb} KB, over 300 KB`);
  };

  await shot('desk-inbox.png');

  // The newest case (not backdated): in danger now, with a photo, its clock running.
  await page.locator('tbody tr.pinned', { hasText: /sisa 23 j/ }).first().locator('a').first().click();
  await page.waitForURL(/\/desk\/cases\//);
  await page.locator('section.media').scrollIntoViewIfNeeded().catch(() => {});
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  await shot('desk-case.png');

  const stats = await page.goto(`${server.base}/desk/stats`);
  if (stats.status() !== 200) {
    console.error(`GET /desk/stats answered ${stats.status()}: no statistics page to photograph`);
    failed = true;
  } else {
    await shot('desk-stats.png');
  }
} finally {
  await browser.close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
