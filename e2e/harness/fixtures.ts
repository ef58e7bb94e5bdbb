import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import type { EventName, Result } from '../../preload/contract.ts';
import { createIpcCore, type IpcCore } from '../../main/ipc/index.ts';
import { isAppSender } from '../../main/ipc/sender.ts';
import { AppSession } from '../../main/shell/session.ts';
import { chromiumSignIn, type ChromiumSignIn } from '../peers/oidc-chromium.ts';
import { BRIDGE_SCRIPT, RENDERER_DIR, ROOT } from './build.ts';
import { serveRenderer } from './server.ts';

export const E2E_ACTOR = 'analyst:e2e (app)';
const FORBIDDEN: Result<never> = { ok: false, error: { code: 'FORBIDDEN_SENDER', message: 'Only the Keydesk window may call the app.' } };

/**
 * One test's Keydesk: its own vault (a temp dir), the real AppSession and IPC core, and the page wired to them
 * through the same createBridge the preload uses. Every IPC answer and event is recorded; at the end of the test
 * the fixture asserts that no canary secret appears in any of them or in the final DOM.
 */
export interface Keydesk {
  dir: string;
  vaultPath: string;
  session: AppSession;
  core: IpcCore;
  /** A unique secret for this test: plant it in secret fields; it must never come back. */
  canary: string;
  /** Answers (JSON) of every IPC call the page made, in order. */
  answers: string[];
  events: { name: EventName; payload: unknown }[];
  /** Opens the app in the page. */
  open(): Promise<void>;
  /** Axe on the current screen: no serious or critical violations. */
  axe(screen: string): Promise<void>;
  /** A screenshot of the screen: into test-results/, or docs/screenshots/ (the README's) with KEYDESK_SCREENSHOTS=1. */
  screenshot(name: string): Promise<void>;
  /** More secrets the test planted (peer-issued tokens…): checked like the canary at the end. */
  secrets: string[];
  /**
   * The "system browser" main opens sign-in pages in: a second page in the test's browser that signs in on the
   * OpenID Provider's real login and consent pages (or refuses). `lastSignIn()` is where it ended.
   */
  browserDecision: 'approve' | 'deny';
  lastSignIn(): Promise<{ url: string; text: string }>;
  /** Console errors matching this are expected by the test (a CSP test provokes violations on purpose). */
  expectConsoleErrors(re: RegExp): void;
}

export const test = base.extend<
  { kd: Keydesk; vaultKind: 'none' | 'keychain' | 'passphrase'; passphrase: string },
  { rendererUrl: string }
>({
  vaultKind: ['keychain', { option: true }],
  passphrase: ['correct horse battery staple', { option: true }],
  rendererUrl: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture dependencies from this destructuring.
    async ({}, use) => {
      const server = await serveRenderer(RENDERER_DIR);
      await use(server.url);
      await server.close();
    },
    { scope: 'worker' }
  ],
  kd: async ({ page, rendererUrl, vaultKind, passphrase }, use, testInfo) => {
    const dir = mkdtempSync(join(tmpdir(), 'keydesk-e2e-'));
    const vaultPath = join(dir, 'vault.sqlite');
    const signIns: ChromiumSignIn[] = [];
    // Sign-ins the "system browser" has opened, in order; lastSignIn() takes the next one, waiting for it if need be.
    const external = {
      decision: 'approve' as 'approve' | 'deny',
      opened: [] as ChromiumSignIn[],
      taken: 0,
      notify: null as (() => void) | null
    };
    const browser = page.context().browser();
    const session = new AppSession({
      vaultPath,
      actor: E2E_ACTOR,
      // main's checked openExternal hands the URL to "the system browser": here a second page in the same Chromium.
      openExternal: async (url) => {
        if (!browser) throw new Error('no browser');
        const s = chromiumSignIn(browser, { decision: external.decision });
        signIns.push(s);
        await s.openExternal(url);
        external.opened.push(s);
        external.notify?.();
      }
    });
    if (vaultKind !== 'none') {
      await session.create(vaultKind, vaultKind === 'passphrase' ? passphrase : undefined);
      if (vaultKind === 'passphrase') await session.lock();
    }
    const core = createIpcCore(session, { log: (l) => testInfo.annotations.push({ type: 'main-log', description: l }) });
    const canary = `CANARY${randomBytes(9).toString('hex')}`;
    const answers: string[] = [];
    const events: Keydesk['events'] = [];
    const queue: Keydesk['events'] = [];
    const waiter: { wake: (() => void) | null } = { wake: null };
    let closed = false;

    core.forward((name, payload) => {
      events.push({ name, payload });
      queue.push({ name, payload });
      waiter.wake?.();
    });
    await page.exposeBinding('__keydeskInvoke', async (source, channel: unknown, input: unknown) => {
      // The same pure sender check as main/electron/ipc.ts: the page's main frame, on the app's origin.
      const r = isAppSender({ frame: source.frame, url: source.frame.url() }, { mainFrame: page.mainFrame(), appUrl: rendererUrl })
        ? await core.dispatch(channel, input)
        : FORBIDDEN;
      answers.push(JSON.stringify(r));
      return r;
    });
    await page.exposeBinding('__keydeskNextEvents', async () => {
      while (queue.length === 0 && !closed) await new Promise<void>((r) => (waiter.wake = r));
      waiter.wake = null;
      return closed ? null : queue.splice(0);
    });
    await page.addInitScript({ path: BRIDGE_SCRIPT });
    // Script errors and console errors (a CSP violation is one) fail the test: the app must run under its own policy.
    const pageErrors: string[] = [];
    const expectedErrors: RegExp[] = [];
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !expectedErrors.some((re) => re.test(m.text()))) pageErrors.push(`console: ${m.text()}`);
    });
    // Writes by other processes (the CLI) reach the page through the audit-head poll, as in the app.
    const poll = setInterval(() => core.pollExternalChanges(), 300);

    const secrets: string[] = [];
    const kd: Keydesk = {
      expectConsoleErrors: (re) => void expectedErrors.push(re),
      secrets,
      get browserDecision() {
        return external.decision;
      },
      set browserDecision(d) {
        external.decision = d;
      },
      async lastSignIn() {
        const deadline = Date.now() + 30_000;
        while (external.opened.length <= external.taken) {
          if (Date.now() > deadline) throw new Error('main never opened a sign-in page');
          await new Promise<void>((r) => {
            external.notify = r;
            setTimeout(r, 200);
          });
        }
        return external.opened[external.taken++]!.finished();
      },
      dir,
      vaultPath,
      session,
      core,
      canary,
      answers,
      events,
      async open() {
        await page.goto(rendererUrl);
      },
      async axe(screen) {
        const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
        const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        expect(
          bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
          `axe on ${screen}`
        ).toEqual([]);
      },
      async screenshot(name) {
        // Every run takes them (into test-results/); `npm run screenshots` writes the README's copies.
        const dir = process.env.KEYDESK_SCREENSHOTS === '1' ? join(ROOT, 'docs/screenshots') : testInfo.outputPath('screenshots');
        await page.screenshot({ path: join(dir, `${name}.png`), animations: 'disabled' });
      }
    };

    await use(kd);

    // Canary: never in an IPC answer, an event, a main-process log line, or the final DOM — its HTML and what its
    // form fields hold (an uncontrolled input's value is not in the HTML).
    const dom = page.isClosed() ? '' : `${await page.content()}\n${(await finalFieldValues(page)).join('\n')}`;
    const logs = testInfo.annotations
      .filter((a) => a.type === 'main-log')
      .map((a) => a.description ?? '')
      .join('\n');
    expect(answers.join('\n'), 'IPC answers hold the canary').not.toContain(canary);
    expect(JSON.stringify(events), 'events hold the canary').not.toContain(canary);
    expect(logs, 'main-process log lines hold the canary').not.toContain(canary);
    expect(dom, 'the final DOM holds the canary').not.toContain(canary);
    for (const secret of secrets.filter((x) => x.length >= 8)) {
      expect(answers.join('\n').includes(secret), 'IPC answers hold a planted secret').toBe(false);
      expect(JSON.stringify(events).includes(secret), 'events hold a planted secret').toBe(false);
      expect(logs.includes(secret), 'main-process log lines hold a planted secret').toBe(false);
      expect(dom.includes(secret), 'the final DOM holds a planted secret').toBe(false);
    }
    expect(answers.length, 'the page talked to main').toBeGreaterThan(0);
    expect(pageErrors, 'errors in the page (script errors, CSP violations)').toEqual([]);

    closed = true;
    waiter.wake?.();
    clearInterval(poll);
    for (const si of signIns) await si.close();
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

export { expect };

/** What every input and text area of the page holds now (values typed into uncontrolled fields are not in the HTML). */
export function finalFieldValues(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    // Typed without the DOM library (e2e/ is checked with the Node tsconfig).
    const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ value: string }> } }).document;
    return Array.from(d.querySelectorAll('input, textarea'), (e) => e.value);
  });
}

/** Waits until the table shows a row for the credential, and returns that row. */
export function credentialRow(page: Page, name: string) {
  return page.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
}
