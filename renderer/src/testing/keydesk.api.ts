// What the renderer's unit tests see of their Keydesk: contract types only. The implementation, keydesk.node.ts, runs
// main's real services and is type-checked with main (tsconfig.node.json); tests import it as '#keydesk', which the
// test tsconfig maps to this file and vitest to the implementation. So the tests' program (DOM + the contract) never
// type-checks main/ under the DOM library, and main/ is never checked against the DOM's globals.
import type { ChannelInput, ChannelName, ChannelOutput, EventName, KeydeskBridge } from '../../../preload/contract.ts';

export interface StartOptions {
  /**
   * keychain (default): an unlocked vault whose key is in the OS keychain — the private one scripts/with-keyring.js
   * starts (`npm run test:unit` runs in it). passphrase: TEST_PASSPHRASE, derived with the real scrypt cost.
   * none: first run, no vault yet.
   */
  vault?: 'keychain' | 'passphrase' | 'none';
  /** Start with the vault locked (metadata readable, nothing secret). */
  locked?: boolean;
}

export interface TestKeydesk {
  /** What the window's code reaches as `window.keydesk`: the preload's createBridge over main's IPC core. */
  bridge: KeydeskBridge;
  vaultPath: string;
  /** A unique secret for this test: plant it in secret fields. At the end, no answer or event may hold it. */
  canary: string;
  /** The channels the window called, in order. */
  calls: ChannelName[];
  /** Every answer the window got (JSON), in order. */
  answers: string[];
  /** Every event main sent the window, in order. */
  events: { name: EventName; payload: unknown }[];
  /**
   * Calls main directly, not from the window: a test's setup and checks, or a write by the app itself (the scheduler,
   * the agent gateway). Same contract, same input checks; the events it causes reach the window like any other.
   * Throws an Error whose message starts with the error's code.
   */
  call<C extends ChannelName>(channel: C, input?: ChannelInput<C>): Promise<ChannelOutput<C>>;
  /** What the vault holds in one secret field of a credential (by name), or undefined: did a save reach it? */
  storedSecret(credential: string, field: string): string | undefined;
  /** Every action in the audit log, oldest first. */
  auditActions(): string[];
  /** A lock from outside the window (auto-lock after idle, OS suspend). */
  lockFromOutside(): Promise<void>;
  /**
   * `keydesk add` in a terminal: another handle on the vault file, as another process has. The window hears of it
   * only once main notices the write: poll() is that look, which the app runs on a timer (main/electron/ipc.ts).
   */
  addFromCli(input: ChannelInput<'credentials.add'>): Promise<void>;
  poll(): void;
  /**
   * Changes main's real answer on one channel before the window gets it: what a main with another catalog would
   * answer, so a test can tell what the window shows from the answer from what it knows by itself.
   */
  amend<C extends ChannelName>(channel: C, change: (value: ChannelOutput<C>) => ChannelOutput<C>): void;
}

export const TEST_PASSPHRASE = 'correct horse battery staple';

/** Starts one test's Keydesk and installs it as `window.keydesk`; it is torn down when the test ends. */
export declare function startKeydesk(opts?: StartOptions): Promise<TestKeydesk>;
