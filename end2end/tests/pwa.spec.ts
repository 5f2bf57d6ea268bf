import { test, expect } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServer } from './server';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): [number, number] {
  expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test('the web app manifest is linked, served and valid for installation', async ({ page, request }) => {
  await page.goto('/');
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute('href', '/manifest.webmanifest');

  const response = await request.get('/manifest.webmanifest');
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toContain('application/manifest+json');
  const manifest = await response.json();
  expect(manifest).toMatchObject({
    name: 'Ferrodesk',
    short_name: 'Ferrodesk',
    start_url: '/',
    scope: '/',
    display: 'standalone',
  });
  expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
  expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);

  const wanted = ['192x192 any', '512x512 any', '192x192 maskable', '512x512 maskable'];
  const icons: { src: string; sizes: string; type: string; purpose: string }[] = manifest.icons;
  expect(icons.map((i) => `${i.sizes} ${i.purpose}`).sort()).toEqual([...wanted].sort());
  for (const icon of icons) {
    const res = await request.get(icon.src);
    expect(res.status(), icon.src).toBe(200);
    expect(res.headers()['content-type']).toBe('image/png');
    const [w, h] = pngSize(await res.body());
    expect(`${w}x${h}`).toBe(icon.sizes);
  }
});

test('the service worker registers and shows the offline page once the server is gone', async ({ browser }) => {
  const port = 3190;
  const server = await startServer(port, mkdtempSync(join(tmpdir(), 'ferrodesk-offline-')));
  const context = await browser.newContext({ baseURL: `http://127.0.0.1:${port}` });
  const page = await context.newPage();
  try {
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', '');
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    expect(scope).toBe(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

    // Use the API once, so there would be something to cache if the worker cached it.
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/theme')),
      page.getByRole('button', { name: 'Dark' }).click(),
    ]);

    expect(await stopServer(server)).toBe(0);

    const response = await page.goto('/somewhere/else');
    expect(response?.fromServiceWorker()).toBe(true);
    await expect(page.getByRole('heading', { name: 'You are offline' })).toBeVisible();

    // Only the offline page, built assets and icons are cached: no API answers, no other page.
    const cached: string[] = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const req of await cache.keys()) urls.push(new URL(req.url).pathname);
      }
      return urls;
    });
    expect(cached).toContain('/offline');
    for (const path of cached) {
      expect(path, `unexpected cache entry ${path}`).toMatch(/^(\/offline|\/pkg\/.+|\/favicon\.svg|\/icons\/.+\.png)$/);
    }
  } finally {
    await stopServer(server);
    await context.close();
  }
});
