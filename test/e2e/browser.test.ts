import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ffprobe, generateMedia } from '@mp/testbed/media';
import { createUser, target } from './client';

const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(executablePath))
    throw new Error(`No browser at ${executablePath}: install Debian's chromium or set CHROMIUM_PATH`);
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await mkdir(artifacts, { recursive: true });
});
afterAll(() => browser?.close());

it('a person signs in, uploads, sees it complete live, downloads an output and dismisses the notification', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'e2e-browser-'));
  const file = await generateMedia('mp3', path.join(dir, 'voice memo.mp3'), { seconds: 2 });
  const user = await createUser('carol');
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(target().gateway);
  await page.fill('#token', user.token);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');

  await page.setInputFiles('#file', file);
  await page.click('#upload-form button[type=submit]');
  await page.waitForSelector('#upload-status:has-text("Uploaded voice memo.mp3")');

  // Completion arrives over the websocket: the notification, then the row with its outputs.
  const note = page.locator('.notification', { hasText: 'Your file voice memo.mp3 has been processed' });
  await note.waitFor({ timeout: 120_000 });
  const row = page.locator('#media tbody tr', { hasText: 'voice memo.mp3' });
  await row.locator('.status-complete').waitFor();
  await row.locator('a[data-download]', { hasText: 'wav' }).waitFor();
  await page.screenshot({ path: path.join(artifacts, 'page-after-upload.png'), fullPage: true });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row.locator('a[data-download]', { hasText: 'wav' }).click(),
  ]);
  const saved = path.join(dir, download.suggestedFilename());
  await download.saveAs(saved);
  expect(download.suggestedFilename()).toBe('voice memo.wav');
  const probe = await ffprobe(saved);
  expect(probe.streams[0]).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '44100', channels: 2 });
  expect((await readFile(saved)).length).toBeGreaterThan(44);

  await note.locator('button[data-dismiss]').click();
  await expect.poll(() => note.count()).toBe(0);
  // Dismissed stays dismissed: a reload replays only unread notifications.
  await page.reload();
  await page.waitForSelector('#media tbody tr');
  await page.waitForTimeout(1000);
  expect(await page.locator('.notification').count()).toBe(0);
  expect(errors).toEqual([]);
  await context.close();
});
