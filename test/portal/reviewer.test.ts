import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
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

// The reviewer's pages in a real Chromium against the whole system (npm start's main.ts): Grady, an
// auditor, signs in through the embedded OpenID provider, finds his reviews in My reviews and decides
// them one page, a few rows or a whole filter at a time. The demo tenant gets two groups of generated
// users (DIRECTORY_SEED): Field Operations (60 members) and Field Contractors (7, with known sign-ins).

const projectRoot = path.resolve(__dirname, '..', '..');
const GRADY = DEMO.grady;
const FIELD_OPERATIONS = '0f100000-0000-4000-8000-000000000001';
const FIELD_CONTRACTORS = '0f200000-0000-4000-8000-000000000001';
const FIELD_SIZE = 60;

/** The demo tenant plus the two generated groups; contractors 1–3 signed in today, 4–6 in 2020, 7 never. */
function tenantFile(dir: string): string {
  const tenant = JSON.parse(fs.readFileSync(path.join(projectRoot, 'data', 'demo-tenant.json'), 'utf8')) as {
    users: unknown[];
    groups: unknown[];
  };
  const today = new Date().toISOString();
  const user = (id: string, name: string, lastSignInDateTime: string | null) => ({
    id,
    displayName: name,
    userPrincipalName: `${name.toLowerCase().replace(/\s+/g, '.')}@contoso.com`,
    mail: `${name.toLowerCase().replace(/\s+/g, '.')}@contoso.com`,
    userType: 'Member',
    accountEnabled: true,
    managerId: null,
    createdDateTime: '2020-01-01T00:00:00Z',
    lastSignInDateTime,
  });
  const field = Array.from({ length: FIELD_SIZE }, (_, i) =>
    user(
      `0f000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      `Field ${String(i + 1).padStart(2, '0')}`,
      today,
    ),
  );
  const contractors = Array.from({ length: 7 }, (_, i) =>
    user(
      `0f000001-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      `Contractor ${i + 1}`,
      i < 3 ? today : i < 6 ? '2020-01-02T00:00:00Z' : null,
    ),
  );
  tenant.users.push(...field, ...contractors);
  tenant.groups.push(
    {
      id: FIELD_OPERATIONS,
      displayName: 'Field Operations',
      memberIds: field.map((u) => u.id),
      ownerIds: [],
    },
    {
      id: FIELD_CONTRACTORS,
      displayName: 'Field Contractors',
      memberIds: contractors.map((u) => u.id),
      ownerIds: [],
    },
  );
  const file = path.join(dir, 'reviewer-tenant.json');
  fs.writeFileSync(file, JSON.stringify(tenant));
  return file;
}

let stack: PortalStack;
let browser: Browser;
let portal: PortalPage;
let page: Page;
let admin: string;

interface Review {
  definitionId: string;
  instanceId: string;
  base: string;
}
let field: Review;
let contractors: Review;

async function api<T = unknown>(
  token: string,
  method: string,
  pathAndQuery: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${stack.baseUrl}${REVIEWS}${pathAndQuery}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathAndQuery}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

interface Item {
  id: string;
  decision: string;
  justification: string | null;
  recommendation: string | null;
  reviewedBy: { id: string } | null;
  principal: { displayName: string };
}

/** Every item of a review (or of one stage) as the administrator reads it back, by reviewee name. */
async function itemsByName(review: Review, stageId?: string): Promise<Record<string, Item>> {
  const path = stageId ? `${review.base}/stages/${stageId}/decisions` : `${review.base}/decisions`;
  const page = await api<{ value: Item[] }>(admin, 'GET', `${path}?$top=1000`);
  return Object.fromEntries(page.value.map((i) => [i.principal.displayName, i]));
}

/** Creates a review of a group by Grady alone and waits until its stage is open for him. */
async function startReview(
  displayName: string,
  groupId: string,
  settings: Record<string, unknown>,
  stages?: number,
) {
  const reviewers = [{ query: `/users/${GRADY}`, queryType: 'MicrosoftGraph' }];
  const created = await api<{ id: string }>(admin, 'POST', '/definitions', {
    displayName,
    descriptionForReviewers: 'Does this person still need to be in the group?',
    scope: { query: `/groups/${groupId}/transitiveMembers`, queryType: 'MicrosoftGraph' },
    ...(stages
      ? {
          stageSettings: Array.from({ length: stages }, (_, i) => ({
            stageId: String(i + 1),
            ...(i ? { dependsOn: [String(i)] } : {}),
            durationInDays: 3,
            reviewers,
          })),
        }
      : { reviewers }),
    settings: { instanceDurationInDays: stages ? 0 : 7, ...settings },
  });
  const instances = await pollUntil(
    () =>
      api<{ value: { id: string; status: string }[] }>(admin, 'GET', `/definitions/${created.id}/instances`),
    (r) => r.value[0]?.status === 'InProgress',
    `${displayName} in progress`,
  );
  const instanceId = instances.value[0]!.id;
  return { definitionId: created.id, instanceId, base: `/definitions/${created.id}/instances/${instanceId}` };
}

beforeAll(async () => {
  // The API serves the built pages: build them when the sources are newer.
  execFileSync(process.execPath, ['scripts/build-portal.mjs', '--if-stale'], {
    cwd: projectRoot,
    stdio: 'pipe',
  });
  const seedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-reviewer-'));
  const [started, launched] = await Promise.allSettled([
    startPortalStack({ env: { DIRECTORY_SEED: tenantFile(seedDir) } }),
    launchBrowser(),
  ]);
  if (started.status === 'fulfilled') stack = started.value;
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'rejected') throw started.reason;
  if (launched.status === 'rejected') throw launched.reason;
  admin = await stack.adminToken();
  [field, contractors] = await Promise.all([
    startReview('Field Operations quarterly review', FIELD_OPERATIONS, {
      justificationRequiredOnApproval: true,
    }),
    startReview('Field Contractors review', FIELD_CONTRACTORS, { recommendationsEnabled: true }),
  ]);
  portal = await newPortalPage(browser, stack.baseUrl);
  page = portal.page;
  page.setDefaultTimeout(15_000);
}, 150_000);

afterAll(async () => {
  await portal?.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
}, 60_000);

/**
 * What the sign-in leaves behind: the session probe that answers 401 before signing in (and is cut off
 * as the browser goes to the provider), and the provider page's favicon.ico, which it does not serve.
 * And a page of items asked for while the filters were still changing, cancelled when they changed again.
 */
const EXPECTED = [
  /\/portal\/api\/session: (HTTP 401|net::ERR_ABORTED)/,
  /status of 401 \(Unauthorized\)/,
  /status of 404 \(Not Found\) \(http:\/\/localhost:\d+\/favicon\.ico/,
  /GET \S+\/decisions\/filterByCurrentUser\(on='reviewer'\)\?\S+: net::ERR_ABORTED$/,
];

/** The refusal the stage-closed case provokes (the page's problems are kept for the whole file). */
const STAGE_CLOSED = [/decisions\/[0-9a-f-]+: HTTP 409/, /status of 409 \(Conflict\)/];

/**
 * axe on the portal: Fluent UI's focus management (tabster) adds focusable aria-hidden "dummy" elements
 * around dialogs and menus on purpose (they pass focus on at once); axe's aria-hidden-focus reports them,
 * a known false positive (microsoft/tabster#288). Everything else is checked.
 */
const accessible = (label: string) => expectAccessible(page, label, { exclude: ['[data-tabster-dummy]'] });

const itemsTable = () => page.getByRole('table', { name: 'Your items in this stage' });
const bulk = () => page.getByRole('toolbar', { name: 'Decide on the selected items' });
const row = (name: string) => itemsTable().getByRole('row').filter({ hasText: name });

/** Fills the decision dialog's reason and submits it with the decision's button. */
async function submitDialog(decision: 'Approve' | 'Deny' | "Don't know", reason: string) {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: /Reason/ }).fill(reason);
  await dialog.getByRole('button', { name: decision, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

it('signs Grady in on the provider page and lists his two pending reviews in My reviews', async () => {
  await page.goto('/portal/reviews');
  // The portal sends the browser to the embedded OpenID provider, whose page lists the demo users.
  await page.locator('select[name="userId"]').waitFor();
  await page.selectOption('select[name="userId"]', GRADY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/portal\/reviews$/);
  const table = page.getByRole('table', { name: 'Reviews waiting for you' });
  await table.getByRole('row').filter({ hasText: 'Field Contractors review' }).waitFor();
  const fieldRow = table.getByRole('row').filter({ hasText: 'Field Operations quarterly review' });
  expect(await fieldRow.innerText()).toMatch(/Field Operations[\s\S]*Stage 1 of 1[\s\S]*0 of 60 decided/);
  expect(await page.getByRole('banner').innerText()).toContain('Grady Archie');
  await accessible('My reviews');
  await portal.expectNoProblems({ ignore: EXPECTED });
});

it('shows the first page of a review from the server and bulk-approves the 50 items on it with a reason', async () => {
  await page.getByRole('link', { name: 'Field Operations quarterly review' }).click();
  await page.getByRole('heading', { name: 'Field Operations quarterly review' }).waitFor();
  await row('Field 01').waitFor();
  expect(await page.getByText(/^1–50 of 60/).count()).toBe(1);
  expect(await itemsTable().getByRole('row').count()).toBe(51);

  await page.getByRole('checkbox', { name: 'Select every item on this page' }).check();
  expect(await bulk().innerText()).toContain('50 items selected');
  await bulk().getByRole('button', { name: 'Select all 60 matching' }).waitFor();
  await bulk().getByRole('button', { name: 'Approve', exact: true }).click();
  const dialog = page.getByRole('dialog');
  expect(await dialog.getByRole('heading').innerText()).toBe('Approve: 50 items');
  // This review asks for a reason to approve: the dialog does not send without one.
  await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
  await dialog.getByText('Enter a reason to approve.').waitFor();
  await submitDialog('Approve', 'Still on the field roster');
  await page.getByText('Approved: 50 items.').waitFor();
  // The table shows the new decisions without a reload; nothing is selected any more.
  await row('Field 50').getByText('Approved').waitFor();
  expect(await row('Field 01').innerText()).toContain('“Still on the field roster”');
  expect(await page.getByRole('checkbox', { name: 'Select Field 01' }).isChecked()).toBe(false);

  const items = await itemsByName(field);
  const approved = Object.values(items).filter((i) => i.decision === 'Approve');
  expect(approved).toHaveLength(50);
  expect(
    approved.every((i) => i.justification === 'Still on the field roster' && i.reviewedBy?.id === GRADY),
  ).toBe(true);
  expect(items['Field 51']!.decision).toBe('NotReviewed');
});

it('denies two selected items of the second page with a reason, and My reviews counts 52 of 60', async () => {
  await page.getByRole('button', { name: 'Next' }).click();
  await row('Field 55').waitFor();
  expect(await page.getByText(/^51–60 of 60/).count()).toBe(1);
  await page.getByRole('checkbox', { name: 'Select Field 53' }).check();
  await page.getByRole('checkbox', { name: 'Select Field 58' }).check();
  expect(await bulk().innerText()).toContain('2 items selected');
  await bulk().getByRole('button', { name: 'Deny', exact: true }).click();
  await submitDialog('Deny', 'Left the field team in October');
  await page.getByText('Denied: 2 items.').waitFor();
  await row('Field 58').getByText('Denied').waitFor();
  expect(await row('Field 53').innerText()).toContain('Left the field team in October');
  expect(await row('Field 54').innerText()).toContain('Not reviewed');

  const items = await itemsByName(field);
  expect(
    Object.values(items)
      .filter((i) => i.decision === 'Deny')
      .map((i) => [i.principal.displayName, i.justification]),
  ).toEqual([
    ['Field 53', 'Left the field team in October'],
    ['Field 58', 'Left the field team in October'],
  ]);
  expect(Object.values(items).filter((i) => i.decision === 'NotReviewed')).toHaveLength(8);

  await page.getByRole('button', { name: 'Previous' }).click();
  await row('Field 01').waitFor();
  await accessible('review items');
  await page.setViewportSize(PHONE_VIEWPORT);
  await accessible('review items at 390 px');
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);

  await page.getByRole('link', { name: '← My reviews' }).click();
  const fieldRow = page.getByRole('row').filter({ hasText: 'Field Operations quarterly review' });
  await fieldRow.getByText('52 of 60 decided').waitFor();
  await accessible('My reviews at 390 px');
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, 'reviewer-my-reviews');
  await portal.expectNoProblems({ ignore: EXPECTED });
});

it("filters by decision and name, selects all the matching items across pages and changes them to Don't know", async () => {
  await page.getByRole('link', { name: 'Field Operations quarterly review' }).click();
  await row('Field 01').waitFor();
  await page.getByRole('combobox', { name: 'Per page' }).selectOption('25');
  // The search starts once typing pauses; the URL keeps it.
  await page.getByRole('searchbox', { name: 'Search by name' }).fill('Field');
  await page.waitForURL(/[?&]q=Field/);
  await page.getByRole('combobox', { name: 'Decision' }).selectOption('decided');
  await page.getByText(/^1–25 of 52/).waitFor();
  await page.getByRole('checkbox', { name: 'Select every item on this page' }).check();
  await bulk().getByRole('button', { name: 'Select all 52 matching' }).click();
  expect(await bulk().innerText()).toContain('All 52 items matching selected');
  await bulk().getByRole('button', { name: "Don't know", exact: true }).click();
  expect(await page.getByRole('dialog').getByRole('heading').innerText()).toBe(
    "Don't know: all 52 items matching the filters",
  );
  await submitDialog("Don't know", 'Asking their managers');
  await page.getByText("Marked don't know: 52 items.").waitFor();
  await row('Field 01').getByText("Don't know").waitFor();

  const items = Object.values(await itemsByName(field));
  expect(
    items.filter((i) => i.decision === 'DontKnow' && i.justification === 'Asking their managers'),
  ).toHaveLength(52);
  expect(items.filter((i) => i.decision === 'NotReviewed')).toHaveLength(8);
});

it('accepts the recommendations of a review that has them: Approve for recent sign-ins, Deny for stale ones', async () => {
  await page.goto(`/portal/reviews/${contractors.definitionId}/${contractors.instanceId}`);
  await row('Contractor 1').waitFor();
  expect(await row('Contractor 1').innerText()).toMatch(/Approve[\s\S]*Signed in within 30 days/);
  expect(await row('Contractor 4').innerText()).toMatch(
    /Deny[\s\S]*No sign-in within 30 days[\s\S]*Jan 2, 2020/,
  );
  expect(await row('Contractor 7').innerText()).toMatch(/No info/);
  await page.getByRole('combobox', { name: 'Recommendation' }).selectOption('Deny');
  await page.getByText(/^1–3 of 3/).waitFor();
  await page.getByRole('combobox', { name: 'Recommendation' }).selectOption('all');
  await page.getByText(/^1–7 of 7/).waitFor();

  await bulk().getByRole('button', { name: 'Accept recommendations' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(/3 items approved and 3 items denied/).waitFor();
  await dialog.getByRole('button', { name: 'Accept' }).click();
  await page.getByText('Recommendations accepted for your undecided items.').waitFor();
  await row('Contractor 4').getByText('Denied').waitFor();
  expect(await row('Contractor 2').innerText()).toContain('Approved');
  expect(await row('Contractor 7').innerText()).toContain('Not reviewed');
  await screenshot(page, 'reviewer-items');
  // One row's details, read when opened: the sign-in insight and who decided.
  await row('Contractor 4').getByRole('button', { name: 'Details of Contractor 4' }).click();
  const details = page.getByRole('definition').filter({ hasText: 'Jan 2, 2020' });
  await details.waitFor();
  expect(await page.locator('dl[aria-label="Details of Contractor 4"]').innerText()).toMatch(
    /Last sign-in\s+Jan 2, 2020[\s\S]*Decided by\s+Grady Archie/,
  );
  await row('Contractor 4').getByRole('button', { name: 'Details of Contractor 4' }).click();

  const items = await itemsByName(contractors);
  for (const n of [1, 2, 3])
    expect(items[`Contractor ${n}`]).toMatchObject({ recommendation: 'Approve', decision: 'Approve' });
  for (const n of [4, 5, 6])
    expect(items[`Contractor ${n}`]).toMatchObject({ recommendation: 'Deny', decision: 'Deny' });
  expect(items['Contractor 7']).toMatchObject({ recommendation: 'NoInfoAvailable', decision: 'NotReviewed' });
  await portal.expectNoProblems({ ignore: EXPECTED });
});

it('changes a decision while the stage runs, and says the stage is closed after an administrator stopped it', async () => {
  // By keyboard: the row's menu, its first entry (Approve), the reason, then Tab to the dialog's button.
  await row('Contractor 4').getByRole('button', { name: 'Decide on Contractor 4' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('menuitem', { name: 'Approve' }).waitFor();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  // The dialog opens with its reason field focused, empty: the earlier reason was for another decision.
  await dialog.waitFor();
  expect(await page.evaluate('document.activeElement.tagName')).toBe('TEXTAREA');
  expect(await dialog.getByRole('textbox', { name: /Reason/ }).inputValue()).toBe('');
  await page.keyboard.type('Back on a new contract');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  expect(await page.evaluate('document.activeElement.textContent')).toBe('Approve');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await page.getByText('Approved: Contractor 4.').waitFor();
  await row('Contractor 4').getByText('Approved').waitFor();
  expect((await itemsByName(contractors))['Contractor 4']).toMatchObject({
    decision: 'Approve',
    justification: 'Back on a new contract',
  });

  await api(admin, 'POST', `${contractors.base}/stop`);
  await row('Contractor 7').getByRole('button', { name: 'Decide on Contractor 7' }).click();
  await page.getByRole('menuitem', { name: 'Deny' }).click();
  await submitDialog('Deny', 'Never signed in');
  const alert = page.getByRole('alert').filter({ hasText: 'This stage is closed' });
  await alert.waitFor();
  expect(await alert.innerText()).toContain('review.stage_not_in_progress');
  // The page stays, read-only: its decision buttons are off.
  expect(await row('Contractor 1').getByRole('button', { name: 'Decide on Contractor 1' }).isDisabled()).toBe(
    true,
  );
  expect((await itemsByName(contractors))['Contractor 7']!.decision).toBe('NotReviewed');
  await portal.expectNoProblems({ ignore: [...EXPECTED, ...STAGE_CLOSED] });
});

it("shows earlier stages' decisions in a later stage only where the review lets its reviewers see them", async () => {
  const [shown, hidden] = await Promise.all([
    startReview(
      'Contractors two-stage review',
      FIELD_CONTRACTORS,
      { decisionHistoriesForReviewersEnabled: true },
      2,
    ),
    startReview('Contractors review, history hidden', FIELD_CONTRACTORS, {}, 2),
  ]);
  const grady = await stack.tokenFor(GRADY);
  for (const review of [shown, hidden]) {
    await api(grady, 'POST', `${review.base}/stages/1/batchRecordDecisions`, {
      decision: 'Approve',
      justification: 'Stage one: still contracted',
    });
    await api(admin, 'POST', `${review.base}/stages/1/stop`);
  }
  for (const review of [shown, hidden]) {
    await pollUntil(
      () => api<{ status: string }>(admin, 'GET', `${review.base}/stages/2`),
      (s) => s.status === 'InProgress',
      'stage 2 in progress',
    );
  }

  await page.goto(`/portal/reviews/${shown.definitionId}/${shown.instanceId}`);
  await page.waitForURL(/\/2$/);
  await row('Contractor 3').waitFor();
  expect(await page.getByText('Stage 2 of 2').count()).toBe(1);
  await itemsTable().getByRole('columnheader', { name: 'Earlier stages' }).waitFor();
  await row('Contractor 3')
    .getByText('Stage 1: Approved by Grady Archie — “Stage one: still contracted”')
    .waitFor();
  // Stage 2's own decision is still to make.
  expect(await row('Contractor 3').innerText()).toContain('Not reviewed');

  await page.goto(`/portal/reviews/${hidden.definitionId}/${hidden.instanceId}`);
  await page.waitForURL(/\/2$/);
  await row('Contractor 3').waitFor();
  expect(await itemsTable().getByRole('columnheader', { name: 'Earlier stages' }).count()).toBe(0);
  expect(await itemsTable().innerText()).not.toContain('Stage one: still contracted');
  // Both hold stage 1's decisions; only the first review shows them to its later reviewers.
  for (const review of [shown, hidden]) {
    const stage1 = Object.values(await itemsByName(review, '1'));
    expect(
      stage1.every((i) => i.decision === 'Approve' && i.justification === 'Stage one: still contracted'),
    ).toBe(true);
  }
  await portal.expectNoProblems({ ignore: [...EXPECTED, ...STAGE_CLOSED] });
});
