// Test support for the renderer's unit tests, never imported by the app: `window.keydesk` over the real main-process
// side, as e2e/harness/fixtures.ts builds it for Playwright — the preload's createBridge over
// createIpcCore(new AppSession(...)) on a temporary vault. Runs in vitest's jsdom environment, under Node; checked
// with main (tsconfig.node.json). Tests see it through keydesk.api.ts (see there why).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { openApp } from '../../../main/app.ts';
import { toErrorShape } from '../../../main/errors.ts';
import { createIpcCore } from '../../../main/ipc/index.ts';
import { AppSession } from '../../../main/shell/session.ts';
import { createBridge } from '../../../preload/bridge.ts';
import type { ChannelName, EventName, Result } from '../../../preload/contract.ts';
import { TEST_PASSPHRASE, type TestKeydesk } from './keydesk.api.ts';
import type * as Api from './keydesk.api.ts';

// Every value keydesk.api.ts declares, for the tests that import '#keydesk'.
export { TEST_PASSPHRASE };

const ACTOR = 'analyst:unit (app)';

/** The jsdom window the components run in (vitest's jsdom environment). */
const win = (globalThis as unknown as { window: object }).window;

export const startKeydesk: typeof Api.startKeydesk = async (opts = {}) => {
  const vault = opts.vault ?? 'keychain';
  if (vault === 'keychain' && process.env.KEYDESK_TEST_KEYRING !== '1') {
    // Never the developer's own keyring.
    throw new Error('A keychain vault needs the private keyring: run the tests with `node scripts/with-keyring.js npx vitest …`.');
  }
  const dir = mkdtempSync(join(tmpdir(), 'keydesk-renderer-'));
  const vaultPath = join(dir, 'vault.sqlite');
  const session = new AppSession({ vaultPath, actor: ACTOR });
  try {
    if (vault !== 'none') await session.create(vault, vault === 'passphrase' ? TEST_PASSPHRASE : undefined);
    if (opts.locked) await session.lock();
  } catch (e) {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const core = createIpcCore(session);
  // The app's first poll tick (main/electron/ipc.ts): main's watch for other processes' writes starts from here.
  core.pollExternalChanges();
  const calls: ChannelName[] = [];
  const answers: string[] = [];
  const events: TestKeydesk['events'] = [];
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const amendments = new Map<string, (value: never) => unknown>();
  const canary = `CANARY${randomBytes(9).toString('hex')}`;
  let closed = false;

  // Events cross to the window asynchronously, as webContents.send does, and as copies (structured clone).
  const stopForwarding = core.forward((name, payload) => {
    const copy: unknown = structuredClone(payload);
    events.push({ name, payload: copy });
    setTimeout(() => {
      if (closed) return;
      for (const fn of listeners.get(name) ?? []) fn(copy);
    }, 0);
  });
  const bridge = createBridge(
    async (channel, input) => {
      // The same dispatcher as ipcMain.handle (input checks, envelopes), with IPC's copy on both sides.
      calls.push(channel);
      let r = (await core.dispatch(channel, structuredClone(input))) as Result<unknown>;
      const amend = amendments.get(channel);
      if (amend && r.ok) r = { ok: true, value: amend(r.value as never) };
      answers.push(JSON.stringify(r));
      return structuredClone(r);
    },
    (event, fn) => {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn);
      return () => void set.delete(fn);
    }
  );
  Object.defineProperty(win, 'keydesk', { value: bridge, writable: false, configurable: true });

  // After the afterEach hooks, so Testing Library has unmounted the window (renderer/src/testing/setup.ts) and
  // nothing asks a closed vault.
  onTestFinished(async () => {
    closed = true;
    stopForwarding();
    Reflect.deleteProperty(win, 'keydesk');
    await session.close();
    rmSync(dir, { recursive: true, force: true });
    // Booleans, so a failure does not print what it found.
    expect(
      answers.some((a) => a.includes(canary)),
      'an answer to the window holds the canary'
    ).toBe(false);
    expect(JSON.stringify(events).includes(canary), 'an event holds the canary').toBe(false);
  });

  return {
    bridge,
    vaultPath,
    canary,
    calls,
    answers,
    events,
    async call(channel, input) {
      const r = await core.dispatch(channel, input);
      if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
      return r.value as never;
    },
    storedSecret: (credential, field) => session.app().credentials.material(credential).secrets[field]?.reveal(),
    auditActions: () =>
      session
        .app()
        .audit.list()
        .map((e) => e.action),
    async lockFromOutside() {
      await session.lock();
    },
    async addFromCli(input) {
      const cli = openApp({ vaultPath, actor: 'analyst:unit (cli)' });
      try {
        await cli.vault.unlock(vault === 'passphrase' ? { passphrase: () => Promise.resolve(TEST_PASSPHRASE) } : {});
        cli.credentials.add({ ...input, expiresAt: input.expiresAt ?? null });
      } catch (e) {
        const shape = toErrorShape(e);
        throw new Error(`${shape.code}: ${shape.message}`, { cause: e });
      } finally {
        await cli.close();
      }
    },
    poll: () => core.pollExternalChanges(),
    amend: (channel, change) => void amendments.set(channel, change as (value: never) => unknown)
  };
};
