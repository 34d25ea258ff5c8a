/**
 * Headless Chromium for the browser tests, driven by playwright-core — never a browser downloaded
 * by a test tool. `/usr/bin/chromium` (Debian's package) when the machine has it, otherwise the
 * Chromium that ships inside the `@sparticuz/chromium` dev dependency, so `npm ci && npm test` needs
 * no system package. Playwright gives every launch a fresh temporary profile (`--user-data-dir`;
 * it refuses that flag in `args`) and removes it on close; tests close the Browser in afterAll.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../helpers/samples.js';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for a closed network and a root user (the machine notes in toolchain.md): without the
 * network ones Chromium keeps trying Google services and logs refused connections. Playwright adds
 * some of them itself; repeating them is harmless.
 *
 * `@sparticuz/chromium`'s own `args` are deliberately not used: they are made for AWS Lambda and
 * include `--disable-web-security`, `--allow-running-insecure-content` and
 * `--disable-site-isolation-trials` (a browser test could no longer fail on a CORS or mixed-content
 * defect) and `--single-process`/`--no-zygote` (Lambda's sandbox workaround; Chromium calls
 * single-process unsupported, and the tests open several contexts). Its binary runs headless with
 * the flags below (verified: Chromium 143 on Debian 12).
 */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(): Promise<Browser> {
  // CONFLUO_CHROMIUM names another browser explicitly (and fails the launch when it is missing).
  const executablePath = process.env.CONFLUO_CHROMIUM ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : await packagedChromium());
  return chromium.launch({ executablePath, headless: true, args: FLAGS, timeout: 30_000 });
}

/**
 * The packaged Chromium, unpacked once per version and user into the temp directory.
 *
 * Why not call `chromium.executablePath()` in this process: it unpacks into `os.tmpdir()` itself
 * (`/tmp/chromium`, `/tmp/fonts`, SwiftShader libraries loose in `/tmp`) and reuses whatever
 * `/tmp/chromium` already exists — a binary of another version, one another local user planted,
 * or one still being written by a parallel test run (it checks only that the file exists). So the
 * library unpacks in a child process whose TMPDIR is a private staging directory (mkdtemp: mode
 * 0700, ours), which is then renamed into place in one step; a run that loses the rename race uses
 * the winner's copy. Nothing is downloaded: `executablePath()` fetches only when given a URL, and
 * it is called without one (it inflates the brotli files inside node_modules, about 2 s).
 */
async function packagedChromium(): Promise<string> {
  const dir = join(tmpdir(), `confluo-chromium-${packagedVersion()}-${process.getuid?.() ?? 'user'}`);
  const executable = join(dir, 'chromium');
  if (!existsSync(executable)) {
    const staging = mkdtempSync(join(tmpdir(), 'confluo-chromium-unpack-'));
    try {
      const unpack = "const { default: c } = await import('@sparticuz/chromium'); process.stdout.write(await c.executablePath());";
      await promisify(execFile)(process.execPath, ['--input-type=module', '-e', unpack], { cwd: REPO_ROOT, env: { ...process.env, TMPDIR: staging } });
      renameSync(staging, dir);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      // Another run renamed its copy into place first (rename onto a non-empty directory fails).
      const code = (err as NodeJS.ErrnoException).code;
      if (!(code === 'ENOTEMPTY' || code === 'EEXIST') || !existsSync(executable)) throw new Error(`tests/web/browser: unpacking @sparticuz/chromium into ${dir} failed`, { cause: err });
    }
  }
  const owner = lstatSync(dir);
  if (!owner.isDirectory() || (process.getuid && owner.uid !== process.getuid()) || (owner.mode & 0o022) !== 0) {
    throw new Error(`tests/web/browser: ${dir} is not a private directory of this user; remove it`);
  }
  return executable;
}

function packagedVersion(): string {
  // The package's exports map hides package.json; find it from the entry point (build/cjs/index.cjs).
  const entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  return (JSON.parse(readFileSync(join(dirname(entry), '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Where screenshots go (test artifacts, not committed). */
export function screenshotPath(name: string): string {
  const dir = join(REPO_ROOT, 'test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
