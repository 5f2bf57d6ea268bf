// People in the browser: a fresh page that records errors, waiting for hydration, signing an organization up.
import { expect, Browser, Page } from '@playwright/test';

export const PASSWORD = 'violet tractor umbrella 93';

export function unique(prefix: string): { email: string; slug: string } {
  const id = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return { email: `${prefix}-${id}@example.com`, slug: `${prefix}-${id}` };
}

export async function newPage(browser: Browser, js: boolean): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: js });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // A refused form answers 4xx on purpose, which the browser notes as a failed resource; anything else
    // (a panic, a hydration mismatch, a CSP violation) is a real error.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

export async function ready(page: Page, js: boolean) {
  if (js) await expect(page.locator('html')).toHaveAttribute('data-hydrated', '');
}

export async function signUp(page: Page, js: boolean, who: { email: string; slug: string }) {
  await page.goto('/signup');
  await ready(page, js);
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('Work email').fill(who.email);
  await page.getByLabel('Organization').fill(`Engines ${who.slug}`);
  await page.getByLabel('Workspace address (optional)').fill(who.slug);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${who.slug}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Engines ${who.slug}`);
}


/** Signs out from the account menu in the header. */
export async function signOut(page: Page) {
  await page.locator('.account-menu > summary').click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
}
