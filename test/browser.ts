// Headless Chromium for tests that look at a page the way a user would:
// Debian's chromium (installed by the test command), driven by playwright-core.
// The flags keep it from reaching for the network it does not have.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/lib/chromium/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** A page that records every console error and uncaught exception, for a test to assert there were none. */
export async function watchedPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}
