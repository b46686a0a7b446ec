// With SOV_API_KEY set, the page loads without the key, asks for it on the first 401, and
// works once it is entered (sent as a Bearer token, kept in localStorage).
import assert from 'node:assert/strict';
import {after, test} from 'node:test';
import {cleanup, dumpLogs, launchBrowser, startServer} from './harness.mjs';

let browser;

after(async () => {
  await browser?.close();
  cleanup();
});

test('the API key is asked for, stored and sent', async () => {
  try {
    const server = await startServer({apiKey: 'ui-test-key'});
    browser = await launchBrowser();
    const page = browser.pages()[0] || await browser.newPage();
    await page.goto(server.url + '/#/models');
    const dialog = page.locator('#settings-dialog');
    await dialog.waitFor({state: 'visible'});
    await page.fill('#api-key', 'ui-test-key');
    await page.click('#settings-dialog button:has-text("Save")');
    await page.waitForSelector('.installed-models tbody tr');
    const names = await page.locator('.installed-models tbody th').allTextContents();
    assert.ok(names.includes('stories260K:latest'), names.join(','));
    assert.equal(await page.evaluate(() => localStorage.getItem('sov.apiKey')), 'ui-test-key');
    // A reload uses the stored key at once.
    await page.reload();
    await page.waitForSelector('.installed-models tbody tr');
    assert.ok(!(await dialog.isVisible()));
  } catch (err) {
    dumpLogs();
    throw err;
  }
});
