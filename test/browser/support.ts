import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import type { SandboxOptions } from '../../src/sandbox/config.js';
import { startBankWorld, type BankWorld } from '../support/bank-world.js';

/** Debian's Chromium (`apt-get install chromium`), never a browser downloaded by Playwright. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/browser/', import.meta.url));

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A Chromium with its own fresh profile (`--user-data-dir` in a new temp folder), removed on close. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'tpp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Console messages of this page that report a Content-Security-Policy violation (collected from now on). */
export function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.text().includes('Content Security Policy')) seen.push(m.text());
  });
  return seen;
}

export type DemoStack = BankWorld;

/**
 * The sandbox ASPSP and the real BFF in this process, each on its own loopback port, the BFF on a
 * fresh database. PUBLIC_URL is the URL the browser uses, so the demo page is an allowed return URL.
 */
export function startDemoStack(env: Record<string, string> = {}, sandboxOptions: SandboxOptions = {}): Promise<DemoStack> {
  return startBankWorld({ env, sandbox: sandboxOptions });
}

/**
 * A named walk through the page: every step ends with a screenshot of each open tab, kept in memory
 * and written to artifacts/browser/<journey>/ only when the walk fails (with the failing state).
 */
export class Journey {
  private readonly shots: { name: string; png: Buffer }[] = [];
  private readonly earlier: Set<Page>;
  private current = 'start';

  constructor(
    readonly name: string,
    private readonly context: BrowserContext,
  ) {
    this.earlier = new Set(context.pages());
  }

  /** Tabs opened during this journey (by the test or by the page), still open. */
  pages(): Page[] {
    return this.context.pages().filter((p) => !this.earlier.has(p) && !p.isClosed());
  }

  async step<T>(name: string, action: () => Promise<T>): Promise<T> {
    this.current = name;
    const result = await action();
    await this.snapshot(name);
    return result;
  }

  /** Steps keep what is in view (where Playwright just acted, ~4× cheaper); the failure the whole page. */
  private async snapshot(name: string, fullPage = false): Promise<void> {
    const pages = this.pages();
    for (const [i, page] of pages.entries()) {
      const png = await page.screenshot({ fullPage, timeout: 5_000 }).catch(() => undefined);
      if (png) this.shots.push({ name: pages.length > 1 ? `${name}-tab${i + 1}` : name, png });
    }
  }

  async saveFailure(error: unknown): Promise<string> {
    await this.snapshot(`FAILED-${this.current}`, true);
    const dir = this.save();
    const urls = this.pages().map((p) => p.url());
    writeFileSync(join(dir, 'failure.txt'), `step: ${this.current}\npages: ${urls.join(', ')}\n\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return dir;
  }

  /** Writes the screenshots to artifacts/browser/<journey>/ (replacing an earlier run's). */
  save(): string {
    const dir = join(ARTIFACTS, slug(this.name));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    this.shots.forEach((shot, i) => writeFileSync(join(dir, `${String(i + 1).padStart(2, '0')}-${slug(shot.name)}.png`), shot.png));
    return dir;
  }
}

/** `BROWSER_SCREENSHOTS=always npm run test:browser` keeps the screenshots of passing journeys too. */
const KEEP_ALL_SCREENSHOTS = process.env.BROWSER_SCREENSHOTS === 'always';

/** Runs a journey; on failure its screenshots are saved and the error is rethrown. Its tabs are closed. */
export async function journey(context: BrowserContext, name: string, walk: (j: Journey) => Promise<void>): Promise<void> {
  const j = new Journey(name, context);
  try {
    await walk(j);
    if (KEEP_ALL_SCREENSHOTS) j.save();
  } catch (error) {
    const dir = await j.saveFailure(error);
    if (error instanceof Error) error.message += `\n(screenshots: ${dir})`;
    throw error;
  } finally {
    await Promise.all(j.pages().map((p) => p.close()));
  }
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}
