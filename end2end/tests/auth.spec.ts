// Accounts in the browser: sign up → verify with the emailed code → sign out → sign in; sign in by emailed
// link; invite a teammate who accepts and sees the workspace. Each flow runs hydrated and with JavaScript
// off (plain form posts), since every one of these pages is a form.
import { test, expect, Page } from '@playwright/test';
import { codeIn, linkIn, newestMail } from './mail';
import { PASSWORD, newPage, ready, signOut, signUp, unique } from './people';

async function verify(page: Page, js: boolean, email: string) {
  const code = codeIn(await newestMail(email, 1, 'verification'));
  await page.goto('/account');
  await ready(page, js);
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('Verify your email address')).toHaveCount(0);
}

for (const js of [true, false]) {
  const mode = js ? 'with JavaScript' : 'without JavaScript';

  test(`sign up, verify with the emailed code, sign out and sign in again (${mode})`, async ({ browser }) => {
    const page = await newPage(browser, js);
    const who = unique('signup');
    await signUp(page, js, who);
    await expect(page.getByText('not verified yet')).toBeVisible();
    await verify(page, js, who.email);

    await signOut(page);
    await expect(page).toHaveURL(/\/signin\?signed_out=1$/);
    await expect(page.getByText('You are signed out.')).toBeVisible();
    await ready(page, js);

    // A wrong password: the error shows by the form, the address stays filled in.
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill('not my password at all');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText('The email or password is not right.');
    await expect(page.getByLabel('Email')).toHaveValue(who.email);

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${who.slug}$`));
    await expect(page.getByText('not verified yet')).toHaveCount(0);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.context().close();
  });

  test(`sign in with an emailed link (${mode})`, async ({ browser }) => {
    const owner = await newPage(browser, js);
    const who = unique('link');
    await signUp(owner, js, who);
    await owner.context().close();

    const page = await newPage(browser, js);
    await page.goto('/signin');
    await ready(page, js);
    await page.getByRole('link', { name: 'Email me a sign-in link instead' }).click();
    await expect(page).toHaveURL(/\/signin\/link$/);
    await ready(page, js);
    await page.getByLabel('Email').fill(who.email);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await expect(page.getByText('a sign-in link is on its way')).toBeVisible();

    const link = linkIn(await newestMail(who.email, 1, 'sign-in link'), '/signin/link/');
    await page.goto(link);
    await ready(page, js);
    await page.getByRole('button', { name: 'Sign in' }).last().click();
    await expect(page).toHaveURL(new RegExp(`/w/${who.slug}$`));

    // The link worked once.
    await page.goto(link);
    await ready(page, js);
    await page.getByRole('button', { name: 'Sign in' }).last().click();
    await expect(page.getByText('has expired or was already used')).toBeVisible();
    await page.context().close();
  });

  test(`invite a teammate who accepts and sees the workspace (${mode})`, async ({ browser }) => {
    const owner = await newPage(browser, js);
    const who = unique('team');
    await signUp(owner, js, who);
    await verify(owner, js, who.email);
    await owner.goto(`/w/${who.slug}/settings/team`);
    await ready(owner, js);
    const teammate = unique('mate').email;
    await owner.getByLabel('Email').fill(teammate);
    await owner.getByLabel('Role', { exact: true }).selectOption('agent');
    await owner.getByRole('button', { name: 'Send invitation' }).click();
    await expect(owner.getByText('Invitation sent.')).toBeVisible();

    const link = linkIn(await newestMail(teammate, 1), '/invitations/');
    const mate = await newPage(browser, js);
    await mate.goto(link);
    await ready(mate, js);
    await expect(mate.getByText('You are invited as agent.')).toBeVisible();
    await mate.getByLabel('Your name').fill('Grace Hopper');
    await mate.getByLabel('Password').fill('short');
    await mate.getByRole('button', { name: /^Join / }).click();
    await expect(mate.getByText('Use at least 8 characters.')).toBeVisible();
    await mate.getByLabel('Your name').fill('Grace Hopper');
    await mate.getByLabel('Password').fill(PASSWORD);
    await mate.getByRole('button', { name: /^Join / }).click();
    await expect(mate).toHaveURL(new RegExp(`/w/${who.slug}$`));
    await expect(mate.getByRole('heading', { level: 1 })).toHaveText(`Engines ${who.slug}`);
    // An agent's navigation has no Settings; the owner's has.
    const nav = (page: Page) => page.getByRole('navigation', { name: 'Workspace' });
    await expect(nav(mate).getByRole('link', { name: 'Tickets' })).toBeVisible();
    await expect(nav(mate).getByRole('link', { name: 'Settings' })).toHaveCount(0);
    await expect(nav(owner).getByRole('link', { name: 'Settings' })).toBeVisible();

    await owner.reload();
    await expect(owner.getByRole('cell', { name: teammate })).toBeVisible();
    await owner.context().close();
    await mate.context().close();
  });
}
