/**
 * Headless Chromium for the browser tests: Debian's `chromium` (/usr/bin/chromium, installed by
 * `.ci/run` when missing) driven by playwright-core — never a downloaded browser. Playwright gives
 * every launch a fresh temporary profile (user-data-dir) and removes it on close.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../helpers/samples.js';

export const CHROMIUM = process.env.CONFLUO_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a closed network and a root user (the machine notes in toolchain.md). */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (see README prerequisites)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
}

/** Where screenshots go (test artifacts, not committed). */
export function screenshotPath(name: string): string {
  const dir = join(REPO_ROOT, 'test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
