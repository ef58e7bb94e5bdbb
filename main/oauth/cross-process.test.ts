// "Two processes, one vault": the app and the CLI may refresh the same credential at once. A rotating refresh token
// spent twice makes the provider revoke the whole grant (oidc-provider does, as RFC 9700 recommends), so the lease row
// must let exactly one of them call the token endpoint. Two real child processes, a real provider counting requests.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signIn } from '../../e2e/peers/oidc-browser.ts';
import { NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer } from '../../e2e/peers/oidc.ts';
import { keychainVault, type TempVault } from '../testing/fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let peer: OidcPeer;
const vaults: TempVault[] = [];
beforeAll(async () => {
  peer = await startOidcPeer();
});
afterAll(async () => peer?.close());
afterEach(async () => {
  peer.control.tokenLatencyMs = 0;
  for (const v of vaults.splice(0)) await v.cleanup();
});

interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  next(): Promise<string>;
  closed: Promise<unknown>;
}

function child(vaultPath: string, op: 'accessToken' | 'refresh'): Child {
  const proc = spawn(process.execPath, [resolve(ROOT, 'e2e/peers/oidc-refresh-child.ts'), vaultPath, 'Shared IdP', op], {
    cwd: ROOT,
    env: process.env
  });
  const closed = new Promise((r) => proc.once('close', r));
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  return { proc, lines, closed, next: () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((r) => waiters.push(r))) };
}

async function connectedVault(): Promise<TempVault> {
  const v = await keychainVault();
  vaults.push(v);
  v.app.credentials.add({
    name: 'Shared IdP',
    provider: 'oauth',
    mode: 'authorization_code',
    values: { discovery_url: peer.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid offline_access api.read' }
  });
  await v.app.oauth.connect('Shared IdP', { openExternal: async (u) => void signIn(u).catch(() => undefined) });
  return v;
}

async function race(v: TempVault, op: 'accessToken' | 'refresh') {
  const a = child(v.path, op);
  const b = child(v.path, op);
  expect(await a.next()).toBe('ready');
  expect(await b.next()).toBe('ready');
  // Hold token requests long enough that the two refreshes would overlap without the lease.
  peer.control.tokenLatencyMs = 800;
  a.proc.stdin.write('go\n');
  b.proc.stdin.write('go\n');
  const results = [JSON.parse(await a.next()), JSON.parse(await b.next())] as { ok: boolean; sha256?: string; error?: unknown }[];
  await Promise.all([a.closed, b.closed]);
  return results;
}

describe('refresh across processes', () => {
  it('two processes needing a fresh access token at once: one token request, both get the same new token', async () => {
    const v = await connectedVault();
    // The stored access token expires within the 5-minute margin (real time: the children use the system clock).
    v.app.credentials.recordHealth('Shared IdP', {
      status: 'ok',
      lastError: null,
      checkedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      expirySource: 'provider'
    });
    const before = peer.refreshCount();
    const [a, b] = await race(v, 'accessToken');
    expect(a).toMatchObject({ ok: true });
    expect(b).toMatchObject({ ok: true });
    expect(a!.sha256).toBe(b!.sha256);
    expect(peer.refreshCount()).toBe(before + 1);
    expect(v.app.credentials.get('Shared IdP').status).toBe('ok');
  });

  it('two processes forcing a refresh at once: the second uses the first one’s result instead of spending the refresh token again', async () => {
    const v = await connectedVault();
    const before = peer.refreshCount();
    const [a, b] = await race(v, 'refresh');
    expect([a!.ok, b!.ok]).toEqual([true, true]);
    expect(a!.sha256).toBe(b!.sha256);
    expect(peer.refreshCount()).toBe(before + 1);
    // Had the old refresh token been spent twice, the provider would have revoked the grant: it still works.
    await expect(v.app.oauth.refresh('Shared IdP')).resolves.toMatchObject({ status: 'ok' });
  });
});
