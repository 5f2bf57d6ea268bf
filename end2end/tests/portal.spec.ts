// The customer side in the browser, with and without JavaScript: an enquiry through the public form becomes
// a ticket, an agent answers, the customer signs in to the portal through the emailed link, reads the answer
// and replies, the agent solves the ticket, the customer rates the help from the emailed link, and the
// rating shows in the workspace's satisfaction chart.
import { test, expect, Page } from '@playwright/test';
import { newPage, ready, signUp, unique } from './people';
import { linkIn, newestMail } from './mail';

function errorsOf(page: Page): string[] {
  return (page as Page & { errors: string[] }).errors;
}

for (const js of [true, false]) {
  const mode = js ? 'with JavaScript' : 'without JavaScript';

  test(`an enquiry becomes a ticket, is answered in the portal and rated in the report (${mode})`, async ({ browser }) => {
    const agent = await newPage(browser, js);
    const who = unique('portal');
    await signUp(agent, js, who);
    const customerEmail = `erin-${who.slug}@shop.example`;

    // The public enquiry form: a missing name is named next to its field, and the rest is kept.
    const customer = await newPage(browser, js);
    await customer.goto(`/p/${who.slug}/contact`);
    await ready(customer, js);
    await expect(customer.locator('.brand-bar')).toContainText(`Engines ${who.slug} support`);
    await customer.getByLabel('Email *').fill(customerEmail);
    await customer.getByLabel('Company').fill('Shop Ltd');
    await customer.getByLabel('Phone').fill('+44 20 7946 0000');
    await customer.getByLabel('Message *').fill('Do you ship to Norway?');
    await customer.getByLabel('Name *').fill(' ');
    await customer.getByRole('button', { name: 'Send' }).click();
    await expect(customer.locator('#field-name-error')).toHaveText('Enter your name.');
    await expect(customer.getByLabel('Message *')).toHaveValue('Do you ship to Norway?');
    await ready(customer, js);
    await customer.getByLabel('Name *').fill('Erin Example');
    await customer.getByRole('button', { name: 'Send' }).click();
    await expect(customer.getByRole('status')).toContainText('Your message is with us');

    // The agent finds it in the list, in the category Enquiry, and answers.
    await agent.goto(`/w/${who.slug}/tickets`);
    await ready(agent, js);
    await agent.getByRole('link', { name: /Enquiry: Do you ship to Norway\?/ }).click();
    await expect(agent.getByRole('heading', { level: 1 })).toContainText('Enquiry: Do you ship to Norway?');
    await expect(agent.locator('.message.reply').first()).toContainText('Company: Shop Ltd');
    await ready(agent, js);
    await agent.getByLabel('Public reply').check();
    await agent.getByLabel('Message (Markdown)').fill('Yes, we ship to **Norway**.');
    await agent.getByRole('button', { name: 'Send' }).click();
    await expect(agent.locator('.message.reply .body strong')).toHaveText('Norway');

    // The customer follows the answer's link, signs in by emailed link, reads, and answers.
    const answer = await newestMail(customerEmail, 2, 'Enquiry');
    await customer.goto(linkIn(answer, `/p/${who.slug}/tickets/`));
    await ready(customer, js);
    await customer.getByRole('link', { name: 'Sign in with your email address' }).click();
    await ready(customer, js);
    await customer.getByLabel('Email').fill(customerEmail);
    await customer.getByRole('button', { name: 'Email me a link' }).click();
    await expect(customer.getByRole('status')).toContainText('A sign-in link is on its way');
    const signIn = await newestMail(customerEmail, 1, 'Sign in to');
    await customer.goto(linkIn(signIn, `/p/${who.slug}/signin/`));
    await ready(customer, js);
    await customer.getByRole('button', { name: 'Sign in' }).click();
    await expect(customer.getByRole('heading', { name: 'Your requests' })).toBeVisible();
    await customer.getByRole('link', { name: /Enquiry: Do you ship/ }).click();
    await expect(customer.locator('.message.reply .body strong')).toHaveText('Norway');
    await expect(customer.locator('.thread')).not.toContainText('@');
    await ready(customer, js);
    await customer.getByLabel('Your message').fill('Great, what does it cost?');
    await customer.getByRole('button', { name: 'Send' }).click();
    await expect(customer.locator('.message.reply').last()).toContainText('what does it cost?');

    // The agent sees the answer and solves the ticket.
    await agent.reload();
    await ready(agent, js);
    await expect(agent.locator('.message.reply').last()).toContainText('what does it cost?');
    await agent.getByLabel('Status', { exact: true }).selectOption('solved');
    await agent.getByRole('button', { name: 'Save changes' }).click();
    await expect(agent.locator('.ticket-meta .badge').first()).toHaveText('Solved');

    // The customer rates the help from the solved mail.
    const solved = await newestMail(customerEmail, 3, 'Enquiry');
    expect(solved.text).toContain('How did we do?');
    await customer.goto(linkIn(solved, `/p/${who.slug}/rate/`));
    await ready(customer, js);
    await expect(customer.getByLabel('👍 Good')).toBeChecked();
    await customer.getByLabel('Comment (optional)').fill('Quick and clear.');
    await customer.getByRole('button', { name: 'Save rating' }).click();
    await expect(customer.getByRole('status')).toContainText('Thank you for your rating');

    // The rating is on the ticket and in the chart.
    await agent.reload();
    await expect(agent.locator('.rating')).toContainText('Quick and clear.');
    await agent.goto(`/w/${who.slug}/reports`);
    await ready(agent, js);
    await expect(agent.locator('.report-summary')).toHaveText('100% good of 1 ratings in the last 12 weeks');
    await expect(agent.locator('.chart g.week[data-good="1"] rect.good')).toHaveCount(1);

    expect(errorsOf(agent)).toEqual([]);
    expect(errorsOf(customer)).toEqual([]);
  });
}
