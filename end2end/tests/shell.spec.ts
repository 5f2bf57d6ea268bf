// The frame a support team lives in, with JavaScript on and off, on a desktop and on a phone: the header knows
// who is signed in from the moment they sign up; every staff page reaches every other in one step; on a phone
// the first ticket shows without scrolling and a ticket's thread comes before its fields; the owner's
// getting-started checklist ticks its steps as they are done and goes away; the pages pass axe (run where
// scripts run).
// With FERRODESK_SCREENSHOTS=<dir>, the main pages are photographed at both sizes into <dir>.
import { test, expect, Browser, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { codeIn, linkIn, newestMail } from './mail';
import { PASSWORD, newPage, ready, signOut, signUp, unique } from './people';

const SIZES = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 664 },
} as const;
type Size = keyof typeof SIZES;

async function sized(browser: Browser, js: boolean, size: Size): Promise<Page> {
  const page = await newPage(browser, js);
  await page.setViewportSize(SIZES[size]);
  return page;
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Workspace' });
/** A top-level link of the navigation, by its name (Tickets carries the open count after it). */
const link = (page: Page, name: string) => nav(page).getByRole('link', { name: new RegExp(`^${name}( \\d+)?$`) });

/** The staff pages the navigation leads to, by the name of their link and the path under the workspace. */
const PAGES: [string, string][] = [
  ['Home', ''],
  ['Tickets', '/tickets?status=unsolved'],
  ['Reports', '/reports'],
  ['Feedback', '/feedback'],
  ['Team', '/team'],
  ['Settings', '/settings'],
];

async function axe(page: Page, label: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found, `axe on ${label}`).toEqual([]);
}

async function openTicket(page: Page, js: boolean, slug: string, subject: string) {
  await page.goto(`/w/${slug}/tickets/new`);
  await ready(page, js);
  await page.getByLabel("Requester's email").fill('carl@customer.example');
  await page.getByLabel("Requester's name").fill('Carl Customer');
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Description (Markdown)').fill('It stopped working this morning.');
  await page.getByRole('button', { name: 'Open ticket' }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/tickets/\\d+$`));
}

for (const js of [true, false]) {
  for (const size of ['desktop', 'phone'] as Size[]) {
    const mode = `${js ? 'with JavaScript' : 'without JavaScript'}, ${size}`;

    test(`the header follows sign-up and sign-out, and every staff page reaches every other in one step (${mode})`, async ({ browser }) => {
      const page = await sized(browser, js, size);
      const who = unique('shell');
      await signUp(page, js, who);
      // At once, without a reload: the account menu, and no offer to sign in.
      const account = page.locator('.account-menu > summary');
      await expect(account).toBeVisible();
      await expect(account).toContainText('AL');
      await expect(page.getByRole('link', { name: 'Sign in' })).toHaveCount(0);
      // The switcher names the workspace; the menu opens from the keyboard.
      await expect(page.locator('.switcher > summary')).toContainText(`Engines ${who.slug}`);
      await account.focus();
      await page.keyboard.press('Enter');
      await expect(page.getByRole('link', { name: 'Your account' })).toBeVisible();
      await page.keyboard.press('Enter');

      for (const [from, fromPath] of PAGES) {
        await page.goto(`/w/${who.slug}${fromPath}`);
        await ready(page, js);
        for (const [name] of PAGES) {
          await expect(link(page, name), `${name} from ${from}`).toBeVisible();
        }
        // One step on: the next page by its link.
        const [next, nextPath] = PAGES[(PAGES.findIndex(([n]) => n === from) + 1) % PAGES.length];
        await link(page, next).click();
        await expect(page).toHaveURL(new RegExp(`/w/${who.slug}${nextPath.replace(/[?]/g, '\\?')}$`));
        await expect(link(page, next)).toHaveAttribute('aria-current', /page|true/);
      }

      await signOut(page);
      await expect(page).toHaveURL(/\/signin\?signed_out=1$/);
      await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
      await expect(page.locator('.account-menu')).toHaveCount(0);
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
      await page.context().close();
    });

    test(`the list and a ticket on this screen, and axe on every staff page (${mode})`, async ({ browser }) => {
      // Eleven pages through axe, which takes seconds each on this machine.
      test.setTimeout(240_000);
      const page = await sized(browser, js, size);
      const who = unique('screen');
      await signUp(page, js, who);
      await openTicket(page, js, who.slug, 'Printer on fire');
      await openTicket(page, js, who.slug, 'Login fails after update');
      const ticketUrl = page.url();

      await page.goto(`/w/${who.slug}/tickets?status=unsolved`);
      await ready(page, js);
      const first = page.locator('.ticket-table tbody tr').first();
      await expect(first).toContainText('Login fails after update');
      // Visible without scrolling, and above the phone's tab bar.
      const box = (await first.boundingBox())!;
      const bar = await nav(page).boundingBox();
      const bottom = size === 'phone' ? bar!.y : SIZES[size].height;
      expect(box.y + box.height, 'the first ticket ends on the first screen').toBeLessThanOrEqual(bottom);
      await expect(page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: /All open/ })).toBeVisible({
        visible: size === 'phone',
      });

      await page.goto(ticketUrl);
      await ready(page, js);
      const thread = (await page.locator('.thread').boundingBox())!;
      const side = (await page.locator('.ticket-side').boundingBox())!;
      const status = page.getByLabel('Status', { exact: true });
      if (size === 'phone') {
        expect(thread.y, 'the thread comes first').toBeLessThan(side.y);
        await expect(status).toBeHidden();
        await page.locator('.ticket-side .fold > summary').click();
      } else {
        expect(side.x, 'the fields sit beside the thread').toBeGreaterThan(thread.x);
      }
      await expect(status).toBeVisible();

      // axe runs as a script in the page, so only where scripts run; the server's HTML is the same either way.
      if (js) {
        for (const path of ['', '/tickets?status=unsolved', '/reports', '/feedback', '/team', '/settings', '/settings/portal', '/settings/categories', '/settings/sign-in', '/settings/team']) {
          await page.goto(`/w/${who.slug}${path}`);
          await ready(page, js);
          await axe(page, `${path || 'home'} (${mode})`);
        }
        await page.goto(ticketUrl);
        await ready(page, js);
        await axe(page, `a ticket (${mode})`);
      }

      const shots = process.env.FERRODESK_SCREENSHOTS;
      if (shots && js) {
        for (const [name, path] of [
          ['home', ''],
          ['tickets', '/tickets?status=unsolved'],
          ['ticket', ticketUrl.replace(/^.*\/w\/[^/]+/, '')],
          ['settings-portal', '/settings/portal'],
        ]) {
          await page.goto(`/w/${who.slug}${path}`);
          await ready(page, js);
          await page.screenshot({ path: `${shots}/${name}-${size}.png`, fullPage: size === 'desktop' });
        }
      }
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
      await page.context().close();
    });
  }

  test(`the owner's getting-started checklist ticks each step and goes away (${js ? 'with JavaScript' : 'without JavaScript'})`, async ({ browser }) => {
    const owner = await newPage(browser, js);
    const who = unique('start');
    await signUp(owner, js, who);
    const checklist = owner.getByRole('region', { name: 'Getting started' });
    const step = (name: string) => checklist.getByRole('listitem').filter({ hasText: name });
    await expect(checklist).toContainText('0 of 4 done');

    // Verify the address.
    await owner.getByRole('link', { name: 'Verify your email address' }).click();
    await ready(owner, js);
    await owner.getByLabel('Verification code').fill(codeIn(await newestMail(who.email, 1, 'verification')));
    await owner.getByRole('button', { name: 'Verify' }).click();
    await expect(owner.getByText('Verify your email address: enter')).toHaveCount(0);
    await expect(owner.getByRole('link', { name: /^Tickets/ }).first()).toBeVisible();
    await owner.goto(`/w/${who.slug}`);
    await expect(step('Verify your email address')).toHaveClass(/done/);
    await expect(checklist).toContainText('1 of 4 done');

    // Brand the portal.
    await step('Brand your portal').getByRole('link').click();
    await ready(owner, js);
    await owner.getByLabel('Portal colour').fill('#0b6bcb');
    await owner.getByRole('button', { name: 'Save portal settings' }).click();
    if (js) await expect(owner.getByText('Saved.')).toBeVisible();
    else await owner.waitForLoadState();
    await expect(owner.getByLabel('Portal colour')).toHaveValue('#0b6bcb');
    await owner.goto(`/w/${who.slug}`);
    await expect(step('Brand your portal')).toHaveClass(/done/);

    // Invite the team: a teammate joins.
    await step('Invite your team').getByRole('link').click();
    await ready(owner, js);
    const teammate = unique('mate').email;
    await owner.getByLabel('Email').fill(teammate);
    await owner.getByRole('button', { name: 'Send invitation' }).click();
    await expect(owner.getByText('Invitation sent.')).toBeVisible();
    const mate = await newPage(browser, js);
    await mate.goto(linkIn(await newestMail(teammate, 1), '/invitations/'));
    await ready(mate, js);
    await mate.getByLabel('Your name').fill('Grace Hopper');
    await mate.getByLabel('Password').fill(PASSWORD);
    await mate.getByRole('button', { name: /^Join / }).click();
    await expect(mate).toHaveURL(new RegExp(`/w/${who.slug}$`));
    await expect(mate.getByRole('region', { name: 'Getting started' })).toHaveCount(0);
    await owner.goto(`/w/${who.slug}`);
    await expect(step('Invite your team')).toHaveClass(/done/);
    await expect(checklist).toContainText('3 of 4 done');

    // The contact form on the owner's site: the first enquiry through it.
    const customer = await newPage(browser, js);
    await customer.goto(`/embed/${who.slug}/contact`);
    await ready(customer, js);
    await customer.getByLabel('Name *').fill('Erin Example');
    await customer.getByLabel('Email *').fill(`erin-${who.slug}@shop.example`);
    await customer.getByLabel('Message *').fill('Do you ship to Norway?');
    await customer.getByRole('button', { name: 'Send' }).click();
    await expect(customer).toHaveURL(/sent=1/);
    await owner.goto(`/w/${who.slug}`);
    await expect(checklist).toHaveCount(0);
    await expect(owner.getByRole('heading', { name: 'Unassigned' })).toBeVisible();
    await expect(owner.getByRole('region', { name: 'Unassigned' })).toContainText('Do you ship to Norway?');
    await expect(owner.getByRole('region', { name: 'What changed' })).toBeVisible();

    for (const page of [owner, mate, customer]) {
      expect((page as Page & { errors: string[] }).errors).toEqual([]);
      await page.context().close();
    }
  });
}
