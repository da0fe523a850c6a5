/**
 * A real headless Chromium for the Mini App's browser tests: Debian's `chromium` (or CHROMIUM_PATH)
 * driven by playwright-core — never a downloaded browser. Pages are phone-sized (390×844, touch), and
 * screenshots go to test-results/screenshots/ (git-ignored) to be looked at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { inject } from 'vitest';
import { buildWebapp } from '../../scripts/build-webapp.js';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium binary to drive, or undefined when the machine has none (the tests then skip, saying so). */
export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p): p is string => Boolean(p) && existsSync(p as string));
}

let built: Promise<unknown> | undefined;

/**
 * The Mini App built (dist/webapp, what the web server serves) from the current source: by the
 * run's globalSetup, once for every worker; built here only when a test runs without it.
 */
export function ensureWebapp(): Promise<unknown> {
  built ??= inject('webappBuilt') ? Promise.resolve() : buildWebapp({ quiet: true });
  return built;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium binary: install Debian\'s chromium or set CHROMIUM_PATH');
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export const PHONE = { width: 390, height: 844 };

/** A page the size of a mid-range phone, with touch, in `locale`. Console errors are collected. */
export async function phonePage(browser: Browser, locale = 'ru-RU'): Promise<Page & { errors: string[] }> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true, locale });
  const page = (await context.newPage()) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push(msg.text());
  });
  return page;
}

export const SCREENSHOTS = path.resolve('test-results/screenshots');

export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The URL a Telegram client opens: the app with the signed init data in the hash. */
export function appUrl(base: string, initData: string, extra: Record<string, string> = {}) {
  const hash = new URLSearchParams({ tgWebAppData: initData, tgWebAppVersion: '8.0', tgWebAppPlatform: 'web', ...extra });
  return `${base}/app/#${hash.toString()}`;
}
