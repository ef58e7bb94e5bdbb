// "Two processes, one vault": the app and the CLI may refresh the same credential at once. A rotating refresh token
// spent twice makes the provider revoke the whole grant (oidc-provider does, as RFC 9700 recommends), so the lease row
// must let exactly one of them call the token endpoint. Two real child processes, a real provider counting requests.
// The race is forced: the first token request is held at the provider until the other process has said it found the
// lease held and waits (a child prints "waiting" then); only then is the provider let go.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signIn } from '../../e2e/peers/oidc-browser.ts';
import { NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer, type TokenRequestHold } from '../../e2e/peers/oidc.ts';
import { keychainVault, type TempVault } from '../testing/fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let peer: OidcPeer;
const vaults: TempVault[] = [];
beforeAll(async () => {
  peer = await startOidcPeer();
});
afterAll(async () => peer?.close());
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** The next line printed (and not yet taken). */
  next(): Promise<string>;
  /** The first line printed (and not yet taken) that `match` accepts. */
  line(match: (l: string) => boolean): Promise<string>;
  closed: Promise<unknown>;
}

function child(vaultPath: string, op: 'accessToken' | 'refresh'): Child {
  const proc = spawn(process.execPath, [resolve(ROOT, 'e2e/peers/oidc-refresh-child.ts'), vaultPath, 'Shared IdP', op], {
    cwd: ROOT,
    env: process.env
  });
  const closed = new Promise((r) => proc.once('close', r));
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; take: (l: string) => void }[] = [];
  let buf = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.findIndex((x) => x.match(l));
      if (w >= 0) waiters.splice(w, 1)[0]!.take(l);
      else lines.push(l);
    }
  });
  const line = (match: (l: string) => boolean) => {
    const i = lines.findIndex(match);
    if (i >= 0) return Promise.resolve(lines.splice(i, 1)[0]!);
    return new Promise<string>((take) => waiters.push({ match, take }));
  };
  return { proc, closed, line, next: () => line(() => true) };
}

/**
 * Resolves when a child says it waits for the lease. Fails instead, without waiting out the test's timeout, when the
 * race did not happen: a second token request reached the provider (the lease did not hold), or a child exited first.
 */
function oneWaits(hold: TokenRequestHold, children: Child[]): Promise<unknown> {
  const fail = (why: string) => () => {
    throw new Error(why);
  };
  return Promise.race([
    ...children.map((c) => c.line((l) => l === 'waiting')),
    hold.arrived(2).then(fail('A second token request reached the provider while the first was held there: the lease did not hold.')),
    ...children.map((c) => c.closed.then(fail('A child exited before either waited for the lease: the race did not happen.')))
  ]);
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
  // The interleaving: one child's token request is held at the provider while the other finds the lease held and
  // waits for it; only then does the provider answer.
  const hold = peer.holdTokenRequests();
  try {
    a.proc.stdin.write('go\n');
    b.proc.stdin.write('go\n');
    await hold.arrived();
    await oneWaits(hold, [a, b]);
    expect(hold.count()).toBe(1);
  } finally {
    hold.release();
  }
  const result = (c: Child) => c.line((l) => l.startsWith('{'));
  const results = [JSON.parse(await result(a)), JSON.parse(await result(b))] as { ok: boolean; sha256?: string; error?: unknown }[];
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
