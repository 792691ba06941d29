// Screenshots of the public page and the web report form for the README, at a phone's size
// (360×740): docs/screenshots/public-home.png and public-lapor.png.
//
//   node public-screenshots.mjs OUT_DIR      (scripts/public-screenshots runs it)
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, launch, startServer, tempDir } from './harness.mjs';

const [out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node public-screenshots.mjs OUT_DIR');
  process.exit(2);
}
const dir = tempDir('berani-public-shots-');
const server = await startServer(join(dir, 'data'));
const browser = await launch();
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const shot = async (name) => {
    const path = join(out, name);
    await page.screenshot({ path });
    const kb = Math.round(statSync(path).size / 1024);
    console.log(`${path} (${kb} KB)`);
  };
  await page.goto(`${server.base}/?v=RELAWAN-07`);
  await shot('public-home.png');
  await page.goto(`${server.base}/lapor?v=RELAWAN-07`);
  await page.check('input[name=category][value=psychological]');
  await page.check('#in_danger_now');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('public-lapor.png');
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  await browser.close();
  await server.stop();
  cleanup(dir);
}
process.exit(failed ? 1 : 0);
