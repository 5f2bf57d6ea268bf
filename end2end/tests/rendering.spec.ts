import { test, expect, Page } from '@playwright/test';

/** Collects CSP violations and uncaught errors, so a test fails if hydration is blocked or panics. */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

test('the HTML served before any script runs already contains the page', async ({ request }) => {
  const response = await request.get('/');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('The help desk that keeps every customer');
  expect(html).toContain('<nav aria-label="Main" class="public-nav">');
  expect(html).toMatch(/<title>Ferrodesk<\/title>/);
});

test('with JavaScript disabled the landing page is complete and navigable', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    "The help desk that keeps every customer's data apart.",
  );
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Features' })).toBeVisible();
  await expect(page.locator('html')).not.toHaveAttribute('data-hydrated');
  await context.close();
});

test('the page hydrates and the theme switch then works without a page load', async ({ page }) => {
  const errors = watchForErrors(page);
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', '');
  // A full page load would wipe this marker; a client-side update keeps it.
  await page.evaluate(() => ((window as any).__stillHere = true));

  await page.getByRole('button', { name: 'Dark' }).click();

  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByRole('button', { name: 'Dark' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('button', { name: 'System' })).toHaveAttribute('aria-pressed', 'false');
  expect(await page.evaluate(() => (window as any).__stillHere)).toBe(true);
  expect(errors, errors.join('\n')).toEqual([]);
});

test('an unknown address shows the friendly not-found page with status 404', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await expect(page).toHaveURL('/');
});

test('the layout works on a phone-sized screen', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await page.goto('/');
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scrollWidth).toBeLessThanOrEqual(360);
  await expect(page.getByRole('button', { name: 'Dark' })).toBeVisible();
  await context.close();
});

test('the release build links content-hashed assets that are cached for a year', async ({ request }) => {
  const html = await (await request.get('/')).text();
  const stylesheet = html.match(/href="(\/pkg\/ferrodesk\.[A-Za-z0-9_-]+\.css)"/)?.[1];
  const script = html.match(/"(ferrodesk\.[A-Za-z0-9_-]+)", "(ferrodesk\.[A-Za-z0-9_-]+)"/);
  expect(stylesheet, 'a hashed stylesheet is linked').toBeTruthy();
  expect(script, 'the hydration loader names hashed js and wasm').toBeTruthy();
  for (const path of [stylesheet!, `/pkg/${script![1]}.js`, `/pkg/${script![2]}.wasm`]) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(200);
    expect(response.headers()['cache-control'], path).toBe('public, max-age=31536000, immutable');
  }
});
