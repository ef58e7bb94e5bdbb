import { chromium, type Browser } from '@playwright/test';

/**
 * A real browser for sign-in tests: Debian's Chromium through Playwright. `openExternal` is what Keydesk calls to
 * open the authorization URL; the page then goes through oidc-provider's login and consent pages like a person
 * would (typing a login, pressing the buttons), and Chromium itself follows the redirect — or submits the form_post
 * page — to Keydesk's loopback listener. Test support only.
 */

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run'
];

export interface ChromiumSignIn {
  /** Give this to connect(): it opens the URL in a fresh browser context and signs in. */
  openExternal: (url: string) => Promise<void>;
  /** What the last sign-in page showed after the redirect (the loopback's page), once it got there. */
  finished: () => Promise<{ url: string; text: string }>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export function chromiumSignIn(
  browser: Browser,
  opts: { login?: string; decision?: 'approve' | 'deny'; ignoreHttpsErrors?: boolean } = {}
): ChromiumSignIn {
  let done: Promise<{ url: string; text: string }> = Promise.reject(new Error('the browser was never opened'));
  done.catch(() => undefined);
  const contexts: { close(): Promise<void> }[] = [];
  return {
    openExternal: async (url) => {
      const context = await browser.newContext({ ignoreHTTPSErrors: opts.ignoreHttpsErrors ?? false });
      contexts.push(context);
      const page = await context.newPage();
      done = (async () => {
        await page.goto(url);
        await page.locator('input[name="login"]').waitFor();
        if (opts.decision === 'deny') {
          await page.locator('a[href$="/abort"]').click();
        } else {
          await page.locator('input[name="login"]').fill(opts.login ?? 'alice');
          await page.locator('input[name="password"]').fill('any-password');
          await page.locator('button[type="submit"]').click();
          await page.getByRole('button', { name: 'Continue' }).click();
        }
        // Chromium follows the redirect (or submits the form_post page) to the loopback listener.
        const issuer = new URL(url).origin;
        await page.waitForURL((u) => u.origin !== issuer);
        await page.locator('h1').waitFor();
        return { url: page.url(), text: (await page.locator('body').textContent()) ?? '' };
      })();
      done.catch(() => undefined);
    },
    finished: () => done,
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
    }
  };
}
