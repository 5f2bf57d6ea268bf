import { test, expect } from '@playwright/test';

test('with JavaScript the theme form calls its server function and the cookie is set', async ({ page, context }) => {
  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', '');

  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/theme') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Light' }).click(),
  ]);

  expect(response.status()).toBe(200);
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === 'ferrodesk-theme')?.value).toBe('light');
  expect(cookies.find((c) => c.name === 'ferrodesk-theme')?.httpOnly).toBe(true);
});

test('with JavaScript disabled the same form posts, comes back, and the theme is applied', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/');

  // A plain form post: the server answers 302 back to this page, which the browser loads again.
  await page.getByRole('button', { name: 'Dark' }).click();

  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByRole('button', { name: 'Dark' })).toHaveAttribute('aria-pressed', 'true');
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === 'ferrodesk-theme')?.value).toBe('dark');

  await page.getByRole('button', { name: 'System' }).click();
  await expect(page.locator('html')).not.toHaveAttribute('data-theme');
  await context.close();
});
