import { test, expect, Page } from '@playwright/test';

const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const WHITE = 'rgb(255, 255, 255)';
const DARK = 'rgb(15, 20, 32)';

test('by default the theme follows the system setting', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme');
  expect(await background(page)).toBe(DARK);

  await page.emulateMedia({ colorScheme: 'light' });
  expect(await background(page)).toBe(WHITE);
});

test('a chosen theme persists across reloads and is painted before any script runs', async ({ browser }) => {
  // No service worker: it would answer /pkg from its cache, out of reach of page.route below.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', '');
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/theme')),
    page.getByRole('button', { name: 'Dark' }).click(),
  ]);

  // Block the app's script and wasm: whatever the page looks like now, the server alone decided it.
  await page.route('**/pkg/*.{js,wasm}', (route) => route.abort());
  const response = await page.reload();
  expect(await response?.text()).toContain('data-theme="dark"');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.locator('html')).not.toHaveAttribute('data-hydrated');
  expect(await background(page)).toBe(DARK);
  await expect(page.getByRole('button', { name: 'Dark' })).toHaveAttribute('aria-pressed', 'true');

  // And once more with the app running: it keeps the choice.
  await page.unroute('**/pkg/*.{js,wasm}');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', '');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await background(page)).toBe(DARK);
  await context.close();
});
