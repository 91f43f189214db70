import fs from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import type { PortalPage } from '../helpers/browser';
import {
  expectAccessible,
  launchBrowser,
  newPortalPage,
  PHONE_VIEWPORT,
  screenshot,
} from '../helpers/browser';
import { DEMO, REVIEWS } from '../helpers/demo-ids';
import type { PortalStack } from '../helpers/portal-stack';
import { startPortalStack } from '../helpers/portal-stack';
import { pollUntil } from '../helpers/process-stack';

// An administrator runs a review in Chromium: signs in on the embedded OpenID provider's page, creates a
// three-stage review in the form (an invalid one first), stops stages and the review, applies the
// decisions and downloads the evidence; each step is read back through the API.

jest.setTimeout(180_000);

let stack: PortalStack;
let browser: Browser;
let portal: PortalPage;
let page: Page;
let admin: string;

const EXPECTED = [
  /\/portal\/api\/session: (HTTP 401|net::ERR_ABORTED)/,
  /status of 401 \(Unauthorized\)/,
  /status of 404 \(Not Found\) \(http:\/\/localhost:\d+\/favicon\.ico/,
  // The invalid definition of the first submit, refused on purpose.
  /POST \S+\/accessReviews\/definitions: HTTP 400/,
  /status of 400 \(Bad Request\)/,
  /net::ERR_ABORTED$/,
];
/** Waits until the locator's text is `text` (or matches it). */
async function textBecomes(locator: Locator, text: string | RegExp, timeoutMs = 10_000): Promise<void> {
  await pollUntil(
    async () => (await locator.textContent())?.trim() ?? '',
    (t) => (typeof text === 'string' ? t === text : text.test(t)),
    `text ${String(text)}`,
    { timeoutMs, intervalMs: 100 },
  );
}

const accessible = (p: Page, label: string) =>
  expectAccessible(p, label, { exclude: ['[data-tabster-dummy]'] });

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

beforeAll(async () => {
  stack = await startPortalStack({ env: { RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000' } });
  browser = await launchBrowser();
  portal = await newPortalPage(browser, stack.baseUrl);
  page = portal.page;
  admin = await stack.adminToken();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

let definitionId = '';
let instanceId = '';
const NAME = 'Finance Team three-stage review';

it('signs the administrator in on the provider page and lists the reviews', async () => {
  await page.goto('/portal/admin/reviews');
  await page.selectOption('select[name="userId"]', DEMO.admin);
  await page.locator('#admin').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/portal\/admin\/reviews$/);
  await page.getByRole('heading', { name: 'Access reviews' }).waitFor();
  await page
    .getByRole('navigation', { name: 'Sections' })
    .getByRole('link', { name: 'Manage reviews' })
    .waitFor();
  await accessible(page, 'reviews list (empty)');
  await portal.expectNoProblems({ ignore: EXPECTED });
});

it('shows the API refusal of an invalid review at its field, then creates the three-stage review', async () => {
  await page.getByRole('button', { name: 'New review' }).click();
  await page.getByRole('heading', { name: 'New access review' }).waitFor();
  await page.getByRole('textbox', { name: 'Name' }).fill(NAME);
  await page.getByRole('textbox', { name: 'Group id' }).fill(DEMO.financeTeam);
  await page.getByRole('button', { name: 'Add stage 2' }).click();
  await page.getByRole('combobox', { name: 'Stage 2 reviewers' }).selectOption('groupOwners');
  await page.getByRole('button', { name: 'Add stage 3' }).click();
  await page.getByRole('combobox', { name: 'Stage 3 reviewers' }).selectOption('users');
  await page.getByRole('textbox', { name: /Stage 3 reviewer ids/ }).fill(DEMO.admin);
  expect(await page.getByRole('button', { name: 'Add stage 4' }).count()).toBe(0);
  const duration1 = page.getByRole('spinbutton', { name: /Stage 1 duration in days/ });
  await duration1.fill('0');
  await page.getByRole('button', { name: 'Create review' }).click();
  // The API's message, next to the field it concerns.
  const alert = page.getByRole('alert').filter({ hasText: 'The review was not saved' });
  await alert.waitFor();
  expect(await duration1.getAttribute('aria-invalid')).toBe('true');
  await page
    .locator('.fui-Field')
    .filter({ has: duration1 })
    .getByText(/Too small/)
    .waitFor();
  await accessible(page, 'review form with an error');
  expect((await api<{ value: unknown[] }>(`${REVIEWS}/definitions`)).value).toHaveLength(0);

  await duration1.fill('7');
  await screenshot(page, 'admin-review-form');
  await page.getByRole('button', { name: 'Create review' }).click();
  await page.waitForURL(/\/portal\/admin\/reviews\/[^/]+\/[^/]+$/);
  [definitionId, instanceId] = new URL(page.url()).pathname.split('/').slice(-2) as [string, string];
  const saved = await api<{
    displayName: string;
    stageSettings: { durationInDays: number; reviewers: { query: string }[] }[];
    settings: { autoApplyDecisionsEnabled: boolean };
  }>(`${REVIEWS}/definitions/${definitionId}`);
  expect(saved.displayName).toBe(NAME);
  expect(saved.stageSettings.map((s) => s.durationInDays)).toEqual([7, 7, 7]);
  expect(saved.stageSettings.map((s) => s.reviewers[0]?.query)).toEqual([
    './manager',
    `/groups/${DEMO.financeTeam}/owners`,
    `/users/${DEMO.admin}`,
  ]);
  expect(saved.settings.autoApplyDecisionsEnabled).toBe(false);
});

const stageStatus = (id: string) => page.getByTestId(`stage-${id}`).getByRole('cell').nth(1);
const stagesOf = () =>
  api<{ value: { id: string; status: string }[] }>(
    `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}/stages`,
  ).then((r) => Object.fromEntries(r.value.map((s) => [s.id, s.status])));

async function confirm(action: string) {
  await page.getByRole('toolbar', { name: 'Review actions' }).getByRole('button', { name: action }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.waitFor({ state: 'detached' });
  const refused = page.getByRole('alert');
  if (await refused.count()) throw new Error(`${action} was refused: ${await refused.first().textContent()}`);
}

it('stops stage 1 and stage 2 from the review page; the API then has stage 3 in progress', async () => {
  await pollUntil(
    async () => {
      await page.reload();
      return page.getByTestId('instance-status').textContent();
    },
    (s) => s === 'InProgress',
    'the instance to be InProgress',
  );
  await textBecomes(stageStatus('1'), 'InProgress');
  await screenshot(page, 'admin-review');
  await accessible(page, 'review page');
  await confirm('Stop current stage');
  await textBecomes(stageStatus('2'), 'InProgress', 30_000);
  await textBecomes(stageStatus('1'), 'Completed');
  expect(await stagesOf()).toMatchObject({ '1': 'Completed', '2': 'InProgress' });
  await confirm('Stop current stage');
  await textBecomes(stageStatus('3'), 'InProgress', 30_000);
  expect(await stagesOf()).toMatchObject({ '2': 'Completed', '3': 'InProgress' });
});

it('stops the review, applies the decisions, and shows the results the API holds', async () => {
  // Patti reviews stage 3 and denies Lee's access (through the API, as the reviewer pages are tested elsewhere).
  const mine = await api<{ value: { id: string; principal: { id: string } }[] }>(
    `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}/decisions/filterByCurrentUser(on='reviewer')`,
  );
  const lee = mine.value.find((d) => d.principal.id === DEMO.lee)!;
  await api(`${REVIEWS}/definitions/${definitionId}/instances/${instanceId}/decisions/${lee.id}`, {
    method: 'PATCH',
    body: JSON.stringify({ decision: 'Deny', justification: 'Left the Finance Team' }),
  });
  await page.reload();
  await confirm('Stop review');
  await textBecomes(page.getByTestId('instance-status'), 'Completed', 30_000);
  await confirm('Apply decisions');
  await textBecomes(page.getByTestId('instance-status'), 'Applied', 60_000);
  const results = page.getByRole('table', { name: 'Decisions of the review' });
  const leeRow = await results.getByRole('row').filter({ hasText: 'Lee Gu' }).textContent();
  expect(leeRow).toContain('Deny');
  expect(leeRow).toContain('Left the Finance Team');
  await pollUntil(
    async () => {
      await page.reload();
      return results.getByRole('row').filter({ hasText: 'Lee Gu' }).textContent();
    },
    (t) => Boolean(t?.includes('AppliedSuccessfully')),
    "Lee's item to be applied",
  );
  const item = await api<{ decision: string; applyResult: string }>(
    `${REVIEWS}/definitions/${definitionId}/instances/${instanceId}/decisions/${lee.id}`,
  );
  expect(item).toMatchObject({ decision: 'Deny', applyResult: 'AppliedSuccessfully' });
  const members = await api<{ value: { id: string }[] }>(
    `/v1.0/groups/${DEMO.financeTeam}/members?$select=id`,
  );
  expect(members.value.map((m) => m.id)).not.toContain(DEMO.lee);
  await portal.expectNoProblems({ ignore: EXPECTED });
});

it('downloads the evidence of the review as a file', async () => {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page
      .getByRole('toolbar', { name: 'Review actions' })
      .getByRole('button', { name: 'Download evidence' })
      .click(),
  ]);
  expect(download.suggestedFilename()).toBe(`evidence-${instanceId}.json`);
  const text = fs.readFileSync(await download.path(), 'utf8');
  const viaApi = await fetch(
    `${stack.baseUrl}${REVIEWS}/definitions/${definitionId}/instances/${instanceId}/evidence`,
    {
      headers: { authorization: `Bearer ${admin}` },
    },
  ).then((r) => r.text());
  expect(text).toContain(instanceId);
  expect(text).toContain('Left the Finance Team');
  expect(text.length).toBe(viaApi.length);
});

it('lists the review with its status and progress, also at phone width, accessibly', async () => {
  await page.goto('/portal/admin/reviews');
  const row = page.getByRole('table', { name: 'Access reviews' }).getByRole('row').filter({ hasText: NAME });
  await textBecomes(row.getByRole('cell').nth(1), 'Applied');
  expect(
    await row
      .getByRole('img', {
        name: /^Decisions of .*: \d+ approved, 1 denied, \d+ don't know, \d+ not reviewed$/,
      })
      .count(),
  ).toBe(1);
  await screenshot(page, 'admin-reviews');
  await accessible(page, 'reviews list');
  const phone = await newPortalPage(browser, stack.baseUrl, { viewport: PHONE_VIEWPORT });
  try {
    await phone.context.addCookies(await portal.context.cookies());
    for (const path of [
      '/portal/admin/reviews',
      `/portal/admin/reviews/${definitionId}/${instanceId}`,
      '/portal/admin/reviews/new',
    ]) {
      await phone.page.goto(path);
      await phone.page.getByRole('heading', { level: 1 }).waitFor();
      await accessible(phone.page, `${path} at 390 px`);
      const overflow = await phone.page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow).toBe(0);
    }
  } finally {
    await phone.close();
  }
});

it('tells a reviewer that the administrator pages are for administrators', async () => {
  const other = await newPortalPage(browser, stack.baseUrl);
  try {
    await other.page.goto('/portal/admin/reviews');
    await other.page.selectOption('select[name="userId"]', DEMO.lee);
    await other.page.getByRole('button', { name: 'Sign in' }).click();
    await other.page.getByRole('alert').filter({ hasText: 'Administrators only' }).waitFor();
    expect(await other.page.getByRole('link', { name: 'Manage reviews' }).count()).toBe(0);
  } finally {
    await other.close();
  }
});
