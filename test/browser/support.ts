import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type ConsoleMessage, type Locator, type Page } from 'playwright-core';
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
    viewport: { width: 1280, height: 900 },
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

/** The widths every step is seen at: a laptop and a phone (iPhone 12–15 class, 390 × 844 CSS px). */
export const WIDTHS = [1280, 390] as const;
export type Width = (typeof WIDTHS)[number];
const HEIGHT: Record<Width, number> = { 1280: 900, 390: 844 };

/** Words a step must show: `locator` is visible, holds `text`, and fits across the viewport. */
export interface Shows {
  locator: Locator;
  text: string | RegExp;
}

/**
 * A named walk through the page. The walk runs at its own `width`; after every step each open tab
 * is seen at both WIDTHS: the step's plain-language texts are asserted there (visible, within the
 * screen's width, and the demo page never scrolls sideways) and a full-page screenshot is written
 * to artifacts/browser/<journey>/NN-<step>-<width>.png. On failure, the failing state is added.
 */
export class Journey {
  private readonly earlier: Set<Page>;
  private readonly dir: string;
  private current = 'start';
  private shots = 0;

  constructor(
    readonly name: string,
    private readonly context: BrowserContext,
    readonly width: Width,
    private readonly demoOrigin: string,
  ) {
    this.earlier = new Set(context.pages());
    this.dir = join(ARTIFACTS, slug(name));
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  /** Tabs opened during this journey (by the test or by the page), still open. */
  pages(): Page[] {
    return this.context.pages().filter((p) => !this.earlier.has(p) && !p.isClosed());
  }

  /** A new tab at this journey's width. */
  async newPage(): Promise<Page> {
    const page = await this.context.newPage();
    await page.setViewportSize({ width: this.width, height: HEIGHT[this.width] });
    return page;
  }

  async step<T>(name: string, action: () => Promise<T>, shows: Shows[] = []): Promise<T> {
    this.current = name;
    const result = await action();
    await this.seeAtEveryWidth(name, shows);
    return result;
  }

  private async seeAtEveryWidth(name: string, shows: Shows[]): Promise<void> {
    const pages = this.pages();
    for (const width of WIDTHS) {
      for (const page of pages) await page.setViewportSize({ width, height: HEIGHT[width] });
      for (const page of pages.filter((p) => this.isDemo(p))) await expectNoSidewaysScroll(page, width, name);
      for (const shown of shows) await expectShown(shown, width, name);
      for (const [i, page] of pages.entries()) await this.screenshot(page, `${name}${pages.length > 1 ? `-tab${i + 1}` : ''}-${width}`);
    }
    for (const page of pages) await page.setViewportSize({ width: this.width, height: HEIGHT[this.width] });
  }

  private isDemo(page: Page): boolean {
    return page.url().startsWith(this.demoOrigin);
  }

  private async screenshot(page: Page, name: string): Promise<void> {
    this.shots += 1;
    // The whole page, except while a modal dialog is open: it is shown where the user sees it.
    const modal =
      (await page
        .locator('dialog[open]')
        .count()
        .catch(() => 0)) > 0;
    const png = await page.screenshot({ fullPage: !modal, animations: 'disabled', timeout: 10_000 }).catch(() => undefined);
    if (png) writeFileSync(join(this.dir, `${String(this.shots).padStart(2, '0')}-${slug(name)}.png`), png);
  }

  async saveFailure(error: unknown): Promise<string> {
    for (const page of this.pages()) await this.screenshot(page, `FAILED-${this.current}`);
    const urls = this.pages().map((p) => p.url());
    writeFileSync(
      join(this.dir, 'failure.txt'),
      `step: ${this.current}\npages: ${urls.join(', ')}\n\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return this.dir;
  }
}

/** The page fits the screen: nothing makes it scroll sideways. */
async function expectNoSidewaysScroll(page: Page, width: number, step: string): Promise<void> {
  // (A string: it runs in the page, where `document` is; this test is compiled without the DOM types.)
  const overflow = (await page.evaluate(`(() => {
    const root = document.documentElement;
    const wide = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1 && el.getClientRects().length > 0);
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide.slice(0, 3).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + [...el.classList].map((c) => '.' + c).join('')) };
  })()`)) as { scrollWidth: number; clientWidth: number; wide: string[] };
  expect({ step, width, overflow: overflow.scrollWidth > overflow.clientWidth ? overflow.wide : [] }).toEqual({ step, width, overflow: [] });
}

async function expectShown({ locator, text }: Shows, width: number, step: string): Promise<void> {
  const target = locator.filter({ hasText: text }).first();
  await target.waitFor({ state: 'visible', timeout: 5_000 }).catch(async () => {
    throw new Error(
      `step "${step}" at ${width} px: expected ${String(locator)} to show ${String(text)} visibly, it holds ${JSON.stringify(await locator.allTextContents())}`,
    );
  });
  // A live update may re-render the element between two looks: measure until it is there to measure.
  let box: { x: number; width: number } | null = null;
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    box = await target.boundingBox({ timeout: 1_000 }).catch(() => null);
    if (box) break;
  }
  const fits = box !== null && box.x >= 0 && box.x + box.width <= width + 1;
  expect({ step, width, text: String(text), fits: fits || box }).toEqual({ step, width, text: String(text), fits: true });
}

/** Runs a journey at `width` (its clicks happen there); on failure the failing state is saved and the error rethrown. Its tabs are closed. */
export async function journey(
  context: BrowserContext,
  name: string,
  options: { width: Width; demoOrigin: string },
  walk: (j: Journey) => Promise<void>,
): Promise<void> {
  const j = new Journey(`${name} ${options.width}`, context, options.width, options.demoOrigin);
  try {
    await walk(j);
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
