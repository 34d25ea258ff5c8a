/**
 * What every browser test file sets up the same way: the local runtime and one Chromium for the
 * file, started side by side in beforeAll and stopped in afterAll (by this file, by reference —
 * never by name), one page, and the inbox's development sign-in form.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { testRuntime } from '../helpers/runtime.js';
import { launchBrowser } from './browser.js';

export type Rt = Awaited<ReturnType<typeof testRuntime>>;

export interface SuiteParts {
  readonly rt: Rt;
  readonly browser: Browser;
  /** A page with the suite's `page` options. */
  readonly page: Page;
}

export interface SuiteOptions {
  /** The runtime's queue visibility timeout on the virtual clock. @default 5000 */
  readonly visibilityTimeoutMs?: number;
  readonly page?: BrowserContextOptions;
  /** The page's default action timeout (Playwright's own, 30 s, when not given). */
  readonly actionTimeoutMs?: number;
  /** beforeAll's timeout, for files whose `ready` does a lot. */
  readonly timeoutMs?: number;
}

/**
 * Registers beforeAll/afterAll for a runtime with `env` and a browser; `ready` receives the parts
 * (assign them to the file's variables there, and do the file's own setup).
 */
export function browserSuite(env: Record<string, string>, opts: SuiteOptions, ready: (parts: SuiteParts) => void | Promise<void>): void {
  let started: Partial<SuiteParts> = {};
  beforeAll(async () => {
    const [rt, browser] = await Promise.all([testRuntime(env, { visibilityTimeoutMs: opts.visibilityTimeoutMs ?? 5000 }), launchBrowser()]);
    started = { rt, browser };
    const page = await browser.newPage(opts.page);
    if (opts.actionTimeoutMs !== undefined) page.setDefaultTimeout(opts.actionTimeoutMs);
    await ready({ rt, browser, page });
  }, opts.timeoutMs);
  afterAll(async () => {
    await started.browser?.close();
    await started.rt?.stop();
  });
}

/**
 * Signs in through the inbox's development form (no Cognito configured) — at `url`, if given. By
 * the form's ids, not its words: pages in another language sign in the same way.
 */
export async function signIn(page: Page, agent: string, opts: { url?: string; role?: string } = {}): Promise<void> {
  if (opts.url) await page.goto(opts.url);
  await page.locator('.signin #agent').fill(agent);
  if (opts.role) await page.locator('.signin #role').selectOption(opts.role);
  await page.locator('.signin button[type=submit]').click();
}
