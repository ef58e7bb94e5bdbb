import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationProgress } from '../../preload/contract.ts';
import { startHostingerPeer, type HostingerPeer } from '../../e2e/peers/hostinger.ts';
import { containsAnyEncoding, keychainVault, manualClock, type TempVault } from '../testing/fixtures.ts';
import type { KeydeskApp } from '../app.ts';
import { isKeydeskError } from '../errors.ts';
import { providerHttp, RetryAfterGate } from '../providers/http.ts';
import { reconcileWithKnownExpiry, sanitizeOutcome } from './validation-run.ts';
import { makeScrubber } from '../providers/scrub.ts';
import { watchForLeaks } from '../../e2e/peers/leaks.ts';

let peer: HostingerPeer;
beforeAll(async () => {
  peer = await startHostingerPeer();
});
afterAll(async () => {
  await peer.close();
});

const vaults: TempVault[] = [];
afterEach(async () => {
  peer.reset();
  peer.control.latencyMs = 0;
  peer.hostinger.echoSecrets = false;
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function vault(clock = manualClock()): Promise<{ app: KeydeskApp; v: TempVault; clock: ReturnType<typeof manualClock> }> {
  const v = await keychainVault({ clock });
  vaults.push(v);
  return { app: v.app, v, clock };
}

function addHostinger(app: KeydeskApp, name: string, token: string, extra: { expiresAt?: string } = {}) {
  return app.credentials.add({
    name,
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: token, api_base_url: peer.url },
    ...extra
  });
}

describe('ValidationService.validate', () => {
  it('records ok, checked-at from the injected clock, the observed identity and readiness, and audits it', async () => {
    const { app } = await vault(manualClock('2026-11-21T12:00:00.000Z'));
    const c = addHostinger(app, 'vps', peer.hostinger.addToken());
    const r = await app.validation.validate('vps');
    expect(r.recorded).toBe(true);
    expect(r.credential).toMatchObject({ status: 'ok', lastError: null, checkedAt: '2026-11-21T12:00:00.000Z' });
    expect(r.credential.observed).toMatchObject({
      identity: { vps_instances: '1' },
      readiness: [{ capability: 'power', ready: true, missing: [] }]
    });
    expect(app.credentials.get(c.id).status).toBe('ok');
    const audit = app.audit.list().filter((e) => e.action === 'credential.validate');
    expect(audit).toEqual([expect.objectContaining({ credentialId: c.id, outcome: 'ok', detail: { status: 'ok' } })]);
  });

  it('a hang becomes unknown with a clear timeout message, within the configured per-request timeout', async () => {
    const { app } = await vault();
    addHostinger(app, 'slow', peer.hostinger.addToken());
    peer.setFault('hang');
    const r = await app.validation.validate('slow', { timeoutMs: 300 });
    expect(r.credential.status).toBe('unknown');
    expect(r.credential.lastError).toEqual({
      code: 'PROVIDER_UNREACHABLE',
      message: `${new URL(peer.url).host} did not answer within 0.3 s. The credential may be fine; validate again when the provider is reachable.`
    });
  });

  it('honours 429 Retry-After: waits the advertised time, then records the real answer', async () => {
    const { app } = await vault();
    addHostinger(app, 'busy', peer.hostinger.addToken());
    peer.setFault('rate_limited', { retryAfterSeconds: 1, count: 1 });
    const r = await app.validation.validate('busy');
    expect(r.credential.status).toBe('ok');
    const [first, second] = peer.control.requests;
    expect(peer.control.requests).toHaveLength(2);
    // The retry went no earlier than Retry-After allowed (a lower bound: correctness, not speed).
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it('a Retry-After beyond what one validation waits is unknown ("validate again in 120 s"), after one request', async () => {
    const { app } = await vault();
    addHostinger(app, 'throttled', peer.hostinger.addToken());
    peer.setFault('rate_limited', { retryAfterSeconds: 120 });
    const r = await app.validation.validate('throttled');
    expect(r.credential.status).toBe('unknown');
    expect(r.credential.lastError).toEqual({
      code: 'HTTP_429',
      message: 'Hostinger is rate-limiting requests (429 Too Many Requests); validate again in 120 s.'
    });
    expect(peer.control.requests).toHaveLength(1);
  });

  it('5xx and malformed answers are unknown, never failed', async () => {
    const { app } = await vault();
    addHostinger(app, 'flaky', peer.hostinger.addToken());
    peer.setFault('server_error');
    expect((await app.validation.validate('flaky')).credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_500' } });
    peer.reset();
    peer.setFault('malformed');
    expect((await app.validation.validate('flaky')).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'MALFORMED_RESPONSE' }
    });
  });

  it('a rejected token after its recorded expiry is expired; before it, failed', async () => {
    const { app } = await vault(manualClock('2026-11-21T12:00:00.000Z'));
    const t1 = peer.hostinger.addToken();
    const t2 = peer.hostinger.addToken();
    peer.hostinger.revoke(t1);
    peer.hostinger.revoke(t2);
    addHostinger(app, 'lapsed', t1, { expiresAt: '2026-11-20' });
    addHostinger(app, 'revoked', t2, { expiresAt: '2027-01-01' });
    const lapsed = (await app.validation.validate('lapsed')).credential;
    expect(lapsed.status).toBe('expired');
    expect(lapsed.lastError?.message).toContain('Its recorded expiry (2026-11-20) has passed');
    expect((await app.validation.validate('revoked')).credential.status).toBe('failed');
  });

  it('on a locked vault fails with VAULT_LOCKED and changes nothing (no call, no audit entry, same status)', async () => {
    const { app } = await vault();
    const c = addHostinger(app, 'locked', peer.hostinger.addToken());
    const auditBefore = app.audit.list().length;
    app.vault.lock();
    const e1 = await app.validation.validate('locked').catch((e: unknown) => e);
    const e2 = await app.validation.validateAll().catch((e: unknown) => e);
    expect(isKeydeskError(e1, 'VAULT_LOCKED')).toBe(true);
    expect(isKeydeskError(e2, 'VAULT_LOCKED')).toBe(true);
    expect(peer.control.requests).toHaveLength(0);
    expect(app.audit.list()).toHaveLength(auditBefore);
    expect(app.credentials.get(c.id)).toMatchObject({ status: 'unknown', checkedAt: null });
  });

  it('a credential whose header was tampered with is recorded failed and never sent to the provider', async () => {
    const { app } = await vault();
    const c = addHostinger(app, 'tampered', peer.hostinger.addToken());
    // Someone with the file renames it behind the vault's back: the header MAC no longer verifies.
    app.vault.db.prepare("UPDATE credentials SET name = 'renamed' WHERE id = ?").run(c.id);
    const run = await app.validation.validateAll();
    expect(run.results[0]?.credential).toMatchObject({ status: 'failed', lastError: { code: 'HEADER_TAMPERED' } });
    expect(peer.control.requests).toHaveLength(0);
  });

  it('refuses a nonsense timeout or concurrency with INPUT_INVALID', async () => {
    const { app } = await vault();
    addHostinger(app, 'x', peer.hostinger.addToken());
    await expect(app.validation.validate('x', { timeoutMs: 5 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(app.validation.validateAll({ concurrency: 0 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(peer.control.requests).toHaveLength(0);
  });
});

describe('ValidationService.validateAll', () => {
  it('never has more than the concurrency limit in flight, and checks them all', async () => {
    const { app } = await vault();
    for (let i = 0; i < 40; i++) addHostinger(app, `vps-${i}`, peer.hostinger.addToken());
    peer.control.latencyMs = 40;
    const run = await app.validation.validateAll({ concurrency: 8 });
    expect(run.summary).toMatchObject({ total: 40, ok: 40 });
    expect(peer.control.maxInFlight).toBeLessThanOrEqual(8);
    expect(peer.control.maxInFlight).toBeGreaterThan(1);
    peer.reset();
    const run3 = await app.validation.validateAll({ concurrency: 3 });
    expect(run3.summary.ok).toBe(40);
    expect(peer.control.maxInFlight).toBeLessThanOrEqual(3);
  });

  it('reports progress to the callback and as validation.progress events: counts, names and statuses', async () => {
    const { app } = await vault();
    const good = peer.hostinger.addToken();
    const bad = peer.hostinger.addToken();
    peer.hostinger.revoke(bad);
    addHostinger(app, 'a-good', good);
    addHostinger(app, 'b-bad', bad);
    addHostinger(app, 'c-good', good);
    const seen: ValidationProgress[] = [];
    const events: ValidationProgress[] = [];
    const off = app.vault.events.on('validation.progress', (p) => events.push(p));
    const run = await app.validation.validateAll({ concurrency: 2, onProgress: (p) => seen.push(p) });
    off();
    expect(seen).toEqual(events);
    expect(seen[0]).toMatchObject({ runId: run.runId, total: 3, done: 0, credential: null, finished: false });
    expect(seen.map((p) => p.done)).toEqual([0, 1, 2, 3]);
    expect(seen.at(-1)?.finished).toBe(true);
    expect(seen.every((p) => p.inFlight <= 2)).toBe(true);
    const byName = Object.fromEntries(
      seen.filter((p) => p.credential).map((p) => [p.credential?.name, [p.credential?.status, p.credential?.errorCode]])
    );
    expect(byName).toEqual({ 'a-good': ['ok', null], 'b-bad': ['failed', 'HTTP_401'], 'c-good': ['ok', null] });
    expect(run.summary).toEqual({ total: 3, ok: 2, failed: 1, expired: 0, unknown: 0, skipped: 0 });
  });

  it('a cancelled run stops starting credentials and records none it had not finished', async () => {
    const { app } = await vault();
    for (let i = 0; i < 4; i++) addHostinger(app, `h-${i}`, peer.hostinger.addToken());
    peer.setFault('hang');
    const ac = new AbortController();
    const p = app.validation.validateAll({ concurrency: 2, signal: ac.signal, timeoutMs: 30_000 });
    while (peer.control.requests.length < 2) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    const run = await p;
    expect(run.stopped?.code).toBe('CANCELLED');
    expect(run.summary.skipped).toBe(4);
    expect(app.credentials.list().every((c) => c.checkedAt === null)).toBe(true);
    expect(peer.control.requests).toHaveLength(2);
  });

  it('a generic OAuth credential is skipped with the way to check it (a refresh), its status untouched', async () => {
    const { app } = await vault();
    addHostinger(app, 'vps', peer.hostinger.addToken());
    app.credentials.add({
      name: 'Okta',
      provider: 'oauth',
      mode: 'authorization_code',
      values: {
        authorization_url: 'https://idp.example/auth',
        token_url: 'https://idp.example/token',
        client_id: 'keydesk',
        scopes: 'openid'
      }
    });
    const run = await app.validation.validateAll();
    expect(run.summary).toMatchObject({ total: 2, ok: 1, skipped: 1 });
    expect(run.results.find((r) => r.credential.name === 'Okta')).toMatchObject({
      recorded: false,
      skipped: {
        code: 'UNSUPPORTED',
        message: 'oauth/authorization_code is an OAuth credential: a token refresh checks it (keydesk refresh Okta).'
      }
    });
    expect(app.credentials.get('Okta')).toMatchObject({ status: 'unknown', checkedAt: null });
  });
});

describe('canary: a secret never reaches a stored error, an answer, an event or the audit log', () => {
  it('even when the provider echoes the token back in its error body', async () => {
    const { app } = await vault();
    const canary = `canary-${crypto.randomUUID()}-hostinger-token`;
    peer.hostinger.addToken({ token: canary });
    peer.hostinger.revoke(canary);
    peer.hostinger.echoSecrets = true;
    addHostinger(app, 'echoed', canary);
    const events: unknown[] = [];
    const offProgress = app.vault.events.on('validation.progress', (p) => events.push(p));
    const offChanged = app.vault.events.on('vault.changed', (p) => events.push(p));
    const run = await app.validation.validateAll();
    offProgress();
    offChanged();
    // The echo did happen: the peer's answer quoted the token.
    const stored = app.credentials.get('echoed');
    expect(stored.status).toBe('failed');
    expect(stored.lastError?.message).toContain('[redacted]');
    for (const [what, text] of [
      ['stored summary', JSON.stringify(stored)],
      ['run result', JSON.stringify(run)],
      ['events', JSON.stringify(events)],
      ['audit export', JSON.stringify([...app.audit.export()])]
    ] as const) {
      expect(containsAnyEncoding(text, canary), what).toBeNull();
    }
  });
});

/**
 * Whether `text` gives `secret` away in a form a reader could undo: as is, with invisible characters or whitespace
 * taken out, form-decoded, or as hex or base64 (any alignment) of any 12 characters of it.
 */
function revealsSecret(text: string, secret: string): boolean {
  const pieces = Array.from({ length: secret.length - 11 }, (_, i) => secret.slice(i, i + 12));
  // eslint-disable-next-line no-control-regex
  const forms = [text, text.replace(/[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2060-\u2069\ufeff]/g, '')];
  try {
    forms.push(new URLSearchParams(`x=${text}`).get('x') ?? '');
  } catch {
    /* not form-encoded */
  }
  for (const run of text.match(/[0-9a-fA-F]{24,}/g) ?? [])
    forms.push(Buffer.from(run.length % 2 ? run.slice(1) : run, 'hex').toString('latin1'));
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    for (let shift = 0; shift < 4; shift++)
      forms.push(Buffer.from(run.slice(shift).replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1'));
  }
  return forms.some((f) => pieces.some((p) => f.includes(p)));
}

describe('canary: a secret echoed in an encoding never reaches a stored error, an answer, an event or the audit log', () => {
  const encodings: [string, (t: string) => string][] = [
    ['UTF-16 (NUL between characters)', (t) => [...t].map((c) => `${c}\u0000`).join('')],
    ['zero-width spaces between characters', (t) => [...t].join('\u200b')],
    ['base64 in a Basic header dump, offset 0', (t) => `Authorization: Basic ${Buffer.from(`ab:${t}`).toString('base64')}`],
    ['base64 in a Basic header dump, offset 1', (t) => `Authorization: Basic ${Buffer.from(`abc:${t}`).toString('base64')}`],
    ['base64 in a Basic header dump, offset 2', (t) => `Authorization: Basic ${Buffer.from(`abcd:${t}`).toString('base64')}`],
    ['hex', (t) => Buffer.from(t).toString('hex')],
    ['form-encoded (URLSearchParams escapes ~)', (t) => new URLSearchParams({ token: t }).toString()]
  ];
  for (const [how, encode] of encodings) {
    it(`${how}`, async () => {
      const { app } = await vault();
      const canary = `hst~canary.${crypto.randomUUID()}`;
      peer.hostinger.addToken({ token: canary });
      peer.hostinger.revoke(canary);
      peer.hostinger.echoSecrets = true;
      peer.hostinger.echoAs = encode;
      try {
        addHostinger(app, 'echoed', canary);
        const watch = watchForLeaks(app);
        const run = await app.validation.validateAll();
        expect(app.credentials.get('echoed').status).toBe('failed');
        for (const [what, text] of watch.surfaces(run)) {
          const s = typeof text === 'string' ? text : text.toString('latin1');
          expect(revealsSecret(s, canary), `${what} gives the token away`).toBe(false);
        }
      } finally {
        peer.hostinger.echoAs = null;
      }
    });
  }
});

describe('sanitizeOutcome (the boundary with provider answers)', () => {
  const scrub = makeScrubber(['s3cr3t-value-123']);
  it('turns an unknown status into unknown and a missing reason into a plain one', () => {
    expect(sanitizeOutcome({ status: 'great' as never, error: null }, scrub)).toMatchObject({
      status: 'unknown',
      error: { code: 'PROVIDER_ERROR', message: 'The provider gave no reason.' }
    });
  });
  it('drops an expiry that is not a date, keeps a real one as ISO', () => {
    expect(sanitizeOutcome({ status: 'ok', error: null, expiresAt: 'soon' }, scrub)).not.toHaveProperty('expiresAt');
    expect(sanitizeOutcome({ status: 'ok', error: null, expiresAt: '2027-01-01' }, scrub).expiresAt).toBe('2027-01-01T00:00:00.000Z');
  });
  it('scrubs the code, the message and observed strings', () => {
    const o = sanitizeOutcome(
      {
        status: 'failed',
        error: { code: 's3cr3t-value-123', message: 'bad s3cr3t-value-123' },
        observed: { identity: { who: 's3cr3t-value-123' } }
      },
      scrub
    );
    expect(JSON.stringify(o)).not.toContain('s3cr3t-value-123');
  });
  it('reconcileWithKnownExpiry leaves ok, unknown and undated credentials alone', () => {
    const now = new Date('2026-11-21T00:00:00Z');
    const failed = { status: 'failed' as const, error: { code: 'HTTP_401', message: 'no' } };
    expect(reconcileWithKnownExpiry(failed, null, now).status).toBe('failed');
    expect(reconcileWithKnownExpiry({ ...failed, status: 'unknown' }, '2020-01-01', now).status).toBe('unknown');
    expect(reconcileWithKnownExpiry(failed, '2020-01-01', now).status).toBe('expired');
  });
});

describe('RetryAfterGate: one 429 slows every request of the run to that host', () => {
  it('holds the later of two answers and counts down with the clock', async () => {
    let t = 1000;
    const gate = new RetryAfterGate(() => t);
    gate.hold('h', 500);
    gate.hold('h', 200);
    expect(gate.remaining('h')).toBe(500);
    t += 300;
    expect(gate.remaining('h')).toBe(200);
    expect(gate.remaining('other')).toBe(0);
    const waited: number[] = [];
    await gate.wait('h', undefined, async (ms) => {
      waited.push(ms);
      t += ms;
    });
    expect(waited).toEqual([200]);
  });

  it('a request that starts while another waits out a Retry-After goes no earlier than that', async () => {
    const token = peer.hostinger.addToken();
    const url = `${peer.url}/api/vps/v1/virtual-machines`;
    const gate = new RetryAfterGate();
    const http = providerHttp({ timeoutMs: 5000, gate });
    peer.setFault('rate_limited', { retryAfterSeconds: 1, count: 1 });
    const a = http(url, { headers: { authorization: `Bearer ${token}` } });
    while (gate.remaining(new URL(peer.url).host) === 0) await new Promise((r) => setTimeout(r, 5));
    const b = http(url, { headers: { authorization: `Bearer ${token}` } });
    expect([(await a).status, (await b).status]).toEqual([200, 200]);
    const [first, ...rest] = peer.control.requests;
    expect(rest).toHaveLength(2);
    for (const r of rest) expect(r.at - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
  });
});
