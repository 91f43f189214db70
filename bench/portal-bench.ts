/**
 * `npm run bench -- --portal`: the portal in a real browser (Debian's Chromium) over a review of 10,000
 * items for one reviewer, on the whole system as `npm start` runs it. Prints how long the items page takes
 * to show its first rows (a cold load, then warm ones, and the next page) and how long a bulk approve of
 * 1,000 items takes from the click to the page saying so, checked against the API afterwards.
 * `--items N` changes the review's size (default 10,000).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, newPortalPage } from '../test/helpers/browser';
import { startPortalStack } from '../test/helpers/portal-stack';
import { BENCH_ADMIN, BENCH_GROUP, BENCH_OWNER, benchTenant } from './lib/tenant';

const REVIEWS = '/v1.0/identityGovernance/accessReviews';
const GOALS = { firstRowsMs: 1_000, bulkApprove1000Ms: 5_000 };

function argValue(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`;

async function json<T>(url: string, token: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const body = (await res.text()) || 'null';
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 300_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Milliseconds from `act` to the first data row of the items table being visible. */
async function timeToFirstRows(page: Page, act: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await act();
  await page
    .getByRole('checkbox', { name: /^Select Bench / })
    .first()
    .waitFor({ state: 'visible', timeout: 60_000 });
  return performance.now() - started;
}

async function main() {
  const items = Number(argValue('--items') ?? 10_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-bench-'));
  const seed = path.join(dir, 'tenant.json');
  fs.writeFileSync(seed, JSON.stringify(benchTenant(items).tenant));
  process.stdout.write(
    `portal bench: ${items.toLocaleString('en-US')} items for one reviewer; starting the system …\n`,
  );
  const stack = await startPortalStack({
    env: { DIRECTORY_SEED: seed, RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '10000' },
  });
  const browser = await launchBrowser();
  try {
    const admin = await stack.tokenFor(BENCH_ADMIN, { admin: true });
    const owner = await stack.tokenFor(BENCH_OWNER);
    const created = performance.now();
    const definition = await json<{ id: string }>(`${stack.baseUrl}${REVIEWS}/definitions`, admin, {
      method: 'POST',
      body: JSON.stringify({
        displayName: `Portal bench (${items} items)`,
        scope: { query: `/groups/${BENCH_GROUP}/transitiveMembers`, queryType: 'MicrosoftGraph' },
        stageSettings: [
          {
            stageId: '1',
            durationInDays: 7,
            reviewers: [{ query: `/groups/${BENCH_GROUP}/owners`, queryType: 'MicrosoftGraph' }],
            recommendationsEnabled: false,
          },
        ],
        settings: {
          instanceDurationInDays: 7,
          mailNotificationsEnabled: false,
          reminderNotificationsEnabled: false,
        },
      }),
    });
    const instances = `${stack.baseUrl}${REVIEWS}/definitions/${definition.id}/instances`;
    const instance = await until(
      'the instance to start',
      async () => (await json<{ value: { id: string; status: string }[] }>(instances, admin)).value[0],
      (i) => i?.status === 'InProgress',
    );
    const mine = `${instances}/${instance!.id}/decisions/filterByCurrentUser(on='reviewer')`;
    const count = (filter?: string) =>
      json<{ '@odata.count': number }>(
        `${mine}?$count=true&$top=1${filter ? `&$filter=${encodeURIComponent(filter)}` : ''}`,
        owner,
      ).then((r) => r['@odata.count']);
    await until(
      'every item to be assigned',
      () => count(),
      (n) => n === items,
    );
    process.stdout.write(`review ready in ${ms(performance.now() - created)}\n`);

    const { page } = await newPortalPage(browser, stack.baseUrl);
    await page.goto('/portal/reviews');
    await page.locator('select[name="userId"]').selectOption(BENCH_OWNER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/portal/reviews');

    const itemsUrl = `/portal/reviews/${definition.id}/${instance!.id}`;
    const cold = await timeToFirstRows(page, () => page.goto(itemsUrl));
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push(await timeToFirstRows(page, () => page.reload()));
    const firstOfPage = await page
      .getByRole('checkbox', { name: /^Select Bench / })
      .first()
      .getAttribute('aria-label');
    const nextPage = await timeToFirstRows(page, async () => {
      await page.getByRole('button', { name: /next/i }).click();
      await until(
        'the next page',
        () =>
          page
            .getByRole('checkbox', { name: /^Select Bench / })
            .first()
            .getAttribute('aria-label'),
        (label) => label !== firstOfPage,
        60_000,
        10,
      );
    });

    // 1,000 items: the search "u001" matches u001000 … u001999 of the bench tenant.
    const search = page.getByRole('search').getByRole('searchbox');
    await search.fill('u001');
    await page
      .getByRole('button', { name: /^Select all 1,000 matching$/ })
      .waitFor({ state: 'hidden' })
      .catch(() => undefined);
    await page.getByRole('checkbox', { name: 'Select every item on this page' }).check();
    await page.getByRole('button', { name: /^Select all 1,000 matching$/ }).click();
    const bulkStarted = performance.now();
    await page
      .getByRole('toolbar', { name: 'Decide on the selected items' })
      .getByRole('button', { name: 'Approve', exact: true })
      .click();
    await page.getByRole('dialog').getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText(/^Approved: /).waitFor({ state: 'visible', timeout: 120_000 });
    const bulk = performance.now() - bulkStarted;
    const approved = await count("decision eq 'Approve'");

    const rows: [string, number, number | undefined][] = [
      ['items page, first rows (cold)', cold, GOALS.firstRowsMs],
      ['items page, first rows (warm, median of 5)', median(warm), GOALS.firstRowsMs],
      ['next page, first rows', nextPage, GOALS.firstRowsMs],
      ['bulk approve of 1,000 (click to confirmation)', bulk, GOALS.bulkApprove1000Ms],
    ];
    process.stdout.write(`\nPortal (${items.toLocaleString('en-US')} items, Chromium headless)\n`);
    for (const [label, value, goal] of rows) {
      const verdict =
        goal === undefined
          ? ''
          : value <= goal
            ? `  (goal ≤ ${ms(goal)}: met)`
            : `  (goal ≤ ${ms(goal)}: MISSED)`;
      process.stdout.write(`  ${label.padEnd(48)} ${ms(value).padStart(9)}${verdict}\n`);
    }
    process.stdout.write(
      `  approved through the API afterwards: ${approved} of 1,000${approved === 1000 ? '' : '  (WRONG)'}\n`,
    );
    if (approved !== 1000) process.exitCode = 1;
  } finally {
    await browser.close();
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`portal bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
