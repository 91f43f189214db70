import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, BrowserContext, LaunchOptions, Page, ViewportSize } from 'playwright-core';
import { chromium } from 'playwright-core';

// Headless Chromium for the web portal's browser tests: Debian's chromium package
// (scripts/install-browser.sh), driven by playwright-core, whose own browser downloads are not used.

const projectRoot = path.resolve(__dirname, '..', '..');

/** Where screenshot() writes, for the README. */
export const SCREENSHOT_DIR = path.join(projectRoot, 'docs', 'screenshots');

/** A phone (iPhone 12 to 15 in CSS pixels), for the portal's narrow layout. */
export const PHONE_VIEWPORT: ViewportSize = { width: 390, height: 844 };
/** A laptop screen. */
export const DESKTOP_VIEWPORT: ViewportSize = { width: 1280, height: 800 };

/**
 * Launches headless Chromium: CHROMIUM_PATH, else Debian's /usr/bin/chromium. `--no-sandbox` because the
 * tests run as root, where Chromium's sandbox refuses to start.
 */
export function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    ...options,
    args: ['--no-sandbox', ...(options.args ?? [])],
  });
}

/** A Content-Security-Policy violation the page reported (its `securitypolicyviolation` event). */
export interface CspViolation {
  /** The directive that refused, e.g. `script-src-elem`. */
  directive: string;
  /** What was refused: a URL, or `inline` / `eval`. */
  blockedURI: string;
  /** The page (document) it happened on. */
  documentURI: string;
  sourceFile: string;
  lineNumber: number;
  sample: string;
}

/** What went wrong on a page since it opened, one readable line per problem (CSP violations as reported). */
export interface PageProblems {
  /** `console.error` calls, Chromium's own error messages included ("Failed to load resource: …"). */
  consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections. */
  pageErrors: string[];
  /** Requests that got no answer (network error, aborted) or an HTTP status of 400 or more. */
  failedRequests: string[];
  cspViolations: CspViolation[];
}

export interface PortalPageOptions {
  /** Default DESKTOP_VIEWPORT; PHONE_VIEWPORT for the phone layout. */
  viewport?: ViewportSize;
  /** Touch events and a mobile user agent's meta viewport handling (with a phone viewport). */
  isMobile?: boolean;
  /** Default en-US, so that dates and numbers render the same everywhere. */
  locale?: string;
}

export interface PortalPage {
  context: BrowserContext;
  page: Page;
  /** Filled as the page runs (CSP violations arrive asynchronously: expectNoProblems waits for them). */
  problems: PageProblems;
  /**
   * Throws, listing them all, when any console error, page error, failed request or CSP violation has
   * happened so far. `ignore`: lines (a CSP violation as `CSP <directive> blocked <uri> …`) a test expects,
   * e.g. the 404 of a request it makes on purpose.
   */
  expectNoProblems(options?: { ignore?: RegExp[] }): Promise<void>;
  /** Closes the context and with it the page. */
  close(): Promise<void>;
}

/** Called by the init script in the page for every CSP violation. */
const CSP_BINDING = '__stagecoachCspViolation';

/**
 * Runs in every document before its own scripts: reports CSP violations to the test process (through the
 * binding, so none is lost when the page navigates away right after) and keeps them in
 * `window.__cspViolations` for a test that looks from inside the page. A string: the tests are compiled
 * without the DOM's types.
 */
const LISTEN_FOR_CSP_VIOLATIONS = `(() => {
  const seen = [];
  window.__cspViolations = seen;
  document.addEventListener('securitypolicyviolation', (e) => {
    const violation = {
      directive: e.effectiveDirective || e.violatedDirective,
      blockedURI: e.blockedURI,
      documentURI: e.documentURI,
      sourceFile: e.sourceFile,
      lineNumber: e.lineNumber,
      sample: e.sample,
    };
    seen.push(violation);
    if (typeof window.${CSP_BINDING} === 'function') void window.${CSP_BINDING}(violation);
  }, true);
})();`;

/**
 * A fresh browser context (no cookies or storage from other tests) with `baseUrl` as its base URL, so
 * `page.goto('/portal/')` works, and one page whose problems are recorded (see PageProblems).
 */
export async function newPortalPage(
  browser: Browser,
  baseUrl: string,
  options: PortalPageOptions = {},
): Promise<PortalPage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: options.viewport ?? DESKTOP_VIEWPORT,
    isMobile: options.isMobile,
    hasTouch: options.isMobile,
    locale: options.locale ?? 'en-US',
  });
  const problems: PageProblems = { consoleErrors: [], pageErrors: [], failedRequests: [], cspViolations: [] };
  await context.exposeBinding(CSP_BINDING, (_source, violation: CspViolation) => {
    problems.cspViolations.push(violation);
  });
  await context.addInitScript({ content: LISTEN_FOR_CSP_VIOLATIONS });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const { url, lineNumber } = message.location();
    problems.consoleErrors.push(`${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
  });
  page.on('pageerror', (error) => {
    problems.pageErrors.push(error.stack ?? `${error.name}: ${error.message}`);
  });
  page.on('requestfailed', (request) => {
    problems.failedRequests.push(
      `${request.method()} ${request.url()}: ${request.failure()?.errorText ?? 'failed'}`,
    );
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.failedRequests.push(
        `${response.request().method()} ${response.url()}: HTTP ${response.status()}`,
      );
    }
  });
  return {
    context,
    page,
    problems,
    async expectNoProblems({ ignore = [] } = {}) {
      // A round trip to the page: a violation reported just before has reached the binding by then.
      if (!page.isClosed()) await page.evaluate(() => undefined).catch(() => undefined);
      const lines = [
        ...problems.consoleErrors.map((p) => `console error: ${p}`),
        ...problems.pageErrors.map((p) => `page error: ${p}`),
        ...problems.failedRequests.map((p) => `failed request: ${p}`),
        ...problems.cspViolations.map(
          (v) =>
            `CSP ${v.directive} blocked ${v.blockedURI || '(unknown)'} on ${v.documentURI}` +
            `${v.sourceFile ? ` at ${v.sourceFile}:${v.lineNumber}` : ''}${v.sample ? ` (${v.sample})` : ''}`,
        ),
      ].filter((line) => !ignore.some((pattern) => pattern.test(line)));
      if (lines.length) {
        throw new Error(
          `${lines.length} problem(s) on the page:\n${lines.map((l) => `  - ${l}`).join('\n')}`,
        );
      }
    },
    close: () => context.close(),
  };
}

/** What axe-core found on a page. */
export type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;

/** The WCAG 2.0 and 2.1 A and AA rules. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** The impacts that fail expectAccessible; minor and moderate ones are returned, not thrown. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

/**
 * Runs axe-core's WCAG 2.0 / 2.1 A and AA rules on the page as it is now and throws, listing them (rule,
 * impact, help, the first elements), when any violation is serious or critical. `label` names the page or
 * state in the message. Returns axe's results for further checks.
 */
export async function expectAccessible(
  page: Page,
  label: string,
  options: { exclude?: string[]; disableRules?: string[] } = {},
): Promise<AxeResults> {
  let builder = new AxeBuilder({ page }).withTags(WCAG_TAGS);
  for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
  if (options.disableRules?.length) builder = builder.disableRules(options.disableRules);
  const results = await builder.analyze();
  const failing = results.violations.filter((v) => FAILING_IMPACTS.has(v.impact ?? ''));
  if (failing.length) {
    const lines = failing.map((v) => {
      const targets = v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target.join(' ')));
      const more = v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : '';
      return `  - ${v.id} (${v.impact}): ${v.help} [${targets.join(', ')}${more}] ${v.helpUrl}`;
    });
    throw new Error(
      `${label}: ${failing.length} serious or critical accessibility violation(s) (${results.url}):\n${lines.join('\n')}`,
    );
  }
  return results;
}

/** Writes a full-page PNG of the page to docs/screenshots/<name>.png (for the README); returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/i.test(name)) {
    throw new Error(`screenshot name ${JSON.stringify(name)}: letters, digits and dashes only`);
  }
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}
