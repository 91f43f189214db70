import type { Browser } from 'playwright-core';
import type { PortalPage } from '../helpers/browser';
import { expectAccessible, launchBrowser, newPortalPage, PHONE_VIEWPORT } from '../helpers/browser';
import { DEMO, REVIEWS } from '../helpers/demo-ids';
import type { PortalStack } from '../helpers/portal-stack';
import { startPortalStack } from '../helpers/portal-stack';

// The browser test harness end to end: the whole system started as `npm start` does (portal-stack.ts)
// and headless Chromium (browser.ts) on the pages the API serves today.

let stack: PortalStack | undefined;
let browser: Browser | undefined;
const pages: PortalPage[] = [];

beforeAll(async () => {
  const [started, launched] = await Promise.allSettled([startPortalStack(), launchBrowser()]);
  if (started.status === 'fulfilled') stack = started.value;
  if (launched.status === 'fulfilled') browser = launched.value;
  if (started.status === 'rejected') throw started.reason;
  if (launched.status === 'rejected') throw launched.reason;
}, 120_000);

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  expect(await stack?.stop()).toBe(0);
}, 60_000);

async function open(options?: Parameters<typeof newPortalPage>[2]): Promise<PortalPage> {
  const opened = await newPortalPage(browser!, stack!.baseUrl, options);
  pages.push(opened);
  return opened;
}

it('runs the whole system: the demo admin reads the definitions with the token it gets', async () => {
  const res = await fetch(`${stack!.baseUrl}${REVIEWS}/definitions`, {
    headers: { authorization: `Bearer ${await stack!.adminToken()}` },
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ value: [] });
  const lee = await stack!.tokenFor(DEMO.lee);
  expect(lee.split('.')).toHaveLength(3);
  expect(stack!.output.stdout).toContain(`  API          ${stack!.baseUrl}/v1.0/`);
  expect(stack!.output.stderr).toBe('');
});

it('shows Swagger UI at /docs/ with the API title, and nothing goes wrong on the page', async () => {
  const { page, expectNoProblems } = await open();
  await page.goto('/docs/');
  const title = page.locator('.swagger-ui .info .title');
  await title.waitFor({ timeout: 30_000 });
  expect(await title.textContent()).toContain('Stagecoach');
  await expectNoProblems();
});

it('reports a CSP violation, an uncaught error and a failed request on the page', async () => {
  const { page, expectNoProblems, problems } = await open();
  await page.goto('/docs/');
  await page.locator('.swagger-ui .info .title').waitFor({ timeout: 30_000 });
  await expectNoProblems();
  // The API's CSP allows same-origin scripts only: an inline one is refused.
  await page.evaluate(`(() => {
    const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true';
    document.body.append(script);
    setTimeout(() => { throw new Error('thrown by the page'); });
  })()`);
  await page.evaluate("fetch('/no-such-page').then((res) => res.status)");
  await expect(expectNoProblems()).rejects.toThrow(
    /CSP script-src-elem blocked inline on http:\/\/localhost:\d+\/docs\//,
  );
  expect(await page.evaluate('window.inlineRan')).toBeUndefined();
  expect(problems.pageErrors.join('\n')).toContain('thrown by the page');
  expect(problems.failedRequests).toEqual([
    expect.stringMatching(/^GET http:\/\/localhost:\d+\/no-such-page: HTTP 404$/),
  ]);
  await expect(
    expectNoProblems({
      ignore: [/CSP/, /Content Security Policy/, /thrown by the page/, /no-such-page/, /status of 404/],
    }),
  ).resolves.toBeUndefined();
});

it('expectAccessible passes an accessible form and lists what fails on one without a label', async () => {
  const { page } = await open();
  const form = (input: string) =>
    `<!doctype html><html lang="en"><head><title>Sign in</title></head><body><main><h1>Sign in</h1>` +
    `<form>${input}<button type="submit">Sign in</button></form></main></body></html>`;
  await page.setContent(form('<label for="user">User name</label><input id="user" name="user">'));
  const results = await expectAccessible(page, 'accessible form');
  expect(results.passes.map((r) => r.id)).toContain('label');
  await page.setContent(form('<input id="user" name="user">'));
  await expect(expectAccessible(page, 'form without a label')).rejects.toThrow(
    /^form without a label: 1 serious or critical accessibility violation\(s\) .*\n {2}- label \(critical\): Form elements must have labels \["#user"\] https:\/\/dequeuniversity\.com\//,
  );
});

it('runs axe on a page the API serves: Swagger UI', async () => {
  const { page } = await open();
  await page.goto('/docs/');
  await page.locator('.swagger-ui .info .title').waitFor({ timeout: 30_000 });
  // Swagger UI is not ours and has violations of its own (contrast, nested controls, an unnamed select);
  // what counts here is that axe ran on the served page and the failure lists them readably.
  const outcome = await expectAccessible(page, 'Swagger UI').then(
    () => 'accessible',
    (err: Error) => err.message,
  );
  expect(outcome).toMatch(
    /^(accessible|Swagger UI: \d+ serious or critical accessibility violation\(s\) \(http:\/\/localhost:\d+\/docs\/\):\n {2}- [a-z-]+ \((serious|critical)\): )/,
  );
});

describe('at the phone viewport', () => {
  it('lays a page out 390 pixels wide', async () => {
    const { page, expectNoProblems } = await open({ viewport: PHONE_VIEWPORT });
    await page.goto('/docs/');
    await page.locator('.swagger-ui .info .title').waitFor({ timeout: 30_000 });
    expect(page.viewportSize()).toEqual({ width: 390, height: 844 });
    expect(await page.evaluate('[window.innerWidth, document.documentElement.clientWidth]')).toEqual([
      390, 390,
    ]);
    await expectNoProblems();
  });

  it('with mobile emulation, a page with a device-width meta viewport is 390 wide too', async () => {
    // Like a phone, a mobile context lays out a page without a meta viewport (Swagger UI) 980 wide.
    const { page } = await open({ viewport: PHONE_VIEWPORT, isMobile: true });
    await page.setContent(
      '<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1">' +
        '<title>Phone</title></head><body><main><h1>Phone</h1></main></body></html>',
    );
    expect(await page.evaluate('[window.innerWidth, navigator.maxTouchPoints > 0]')).toEqual([390, true]);
  });
});
