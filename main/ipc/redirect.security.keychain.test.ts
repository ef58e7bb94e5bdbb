import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../preload/contract.ts';
import { AppSession } from '../shell/session.ts';
import { tempDir, TEST_ACTOR } from '../testing/fixtures.ts';
import { createIpcCore } from './index.ts';

// Guards: "a compromised renderer can never re-point where a secret is sent". A changed endpoint needs every secret
// that would follow it from the caller — optional ones stored now included — and is refused while sign-in tokens are
// stored. Found in review: an OAuth credential's refresh token and client secret, or an AWS session token kept beside
// new keys, followed one credentials.update to an attacker's endpoint.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const d = tempDir();
  const session = new AppSession({ vaultPath: join(d.dir, 'vault.sqlite'), actor: TEST_ACTOR });
  const core = createIpcCore(session);
  cleanups.push(d.cleanup, () => session.close());
  await session.create('keychain');
  const call = (channel: string, input: unknown) => core.dispatch(channel, input) as Promise<Result<unknown>>;
  return { app: session.app(), call };
}

describe('a renderer cannot redirect a stored secret', () => {
  it('OAuth: with sign-in tokens stored, no endpoint can change (not even with the client secret given); after they are forgotten it can', async () => {
    const { app, call } = await setup();
    const c = app.credentials.add({
      name: 'SSO',
      provider: 'oauth',
      mode: 'authorization_code',
      values: {
        authorization_url: 'https://idp.example/auth',
        token_url: 'https://idp.example/token',
        client_id: 'keydesk',
        client_secret: 'cs_stored_0123456789',
        scopes: 'openid offline_access'
      }
    });
    app.credentials.setExtraSecrets(
      c.id,
      { refresh_token: 'rt_stored_0123456789', access_token: 'at_stored_0123456789' },
      { action: 'oauth.status' }
    );
    const audit = app.audit.list().length;

    for (const values of [
      { token_url: 'https://evil.example/token' },
      { token_url: 'https://evil.example/token', client_secret: 'cs_new_0123456789' },
      { revocation_url: 'https://evil.example/revoke' }
    ]) {
      const r = await call('credentials.update', { id: c.id, values });
      expect(r, JSON.stringify(values)).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
    }
    const m = app.credentials.material(c.id);
    expect(m.fields.token_url).toBe('https://idp.example/token');
    expect(m.fields.revocation_url).toBeUndefined();
    expect(m.secrets.refresh_token?.reveal()).toBe('rt_stored_0123456789');
    expect(app.audit.list()).toHaveLength(audit);

    // Forgotten (keydesk revoke --local-only): the endpoint can change, with the stored client secret given again.
    app.credentials.setExtraSecrets(c.id, {}, { action: 'oauth.revoke' });
    expect(await call('credentials.update', { id: c.id, values: { token_url: 'https://idp2.example/token' } })).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', fields: { client_secret: expect.stringContaining('again') as string } }
    });
    expect(
      await call('credentials.update', {
        id: c.id,
        values: { token_url: 'https://idp2.example/token', client_secret: 'cs_new_0123456789' }
      })
    ).toMatchObject({ ok: true });
  });

  it('OAuth with no secret field at all (Microsoft delegated): tokens stored, the authority cannot be re-pointed', async () => {
    const { app, call } = await setup();
    const c = app.credentials.add({
      name: 'M365',
      provider: 'microsoft_365',
      mode: 'oauth_delegated',
      values: { tenant_id: 'corp.example', client_id: '3f2504e0-4f89-41d3-9a0c-0305e82c3301' }
    });
    app.credentials.setExtraSecrets(c.id, { refresh_token: 'rt_stored_0123456789' }, { action: 'oauth.status' });
    const r = await call('credentials.update', { id: c.id, values: { authority_host: 'https://evil.example' } });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', fields: { authority_host: expect.stringContaining('Revoke') as string } }
    });
    expect(app.credentials.material(c.id).fields.authority_host).toBeUndefined();
  });

  it('an optional secret stored now (AWS session token) must be given again, or cleared, to change the endpoint', async () => {
    const { app, call } = await setup();
    const c = app.credentials.add({
      name: 'AWS',
      provider: 'aws',
      mode: 'access_key',
      values: {
        access_key_id: 'AKIAABCDEFGHIJKLMNOP',
        secret_access_key: 'secret_stored_0123456789',
        session_token: 'session_stored_0123456789',
        region: 'us-east-1'
      }
    });
    const keys = { access_key_id: 'AKIAZZZZZZZZZZZZZZZZ', secret_access_key: 'secret_new_0123456789' };
    const r = await call('credentials.update', { id: c.id, values: { ...keys, sts_endpoint: 'https://evil.example' } });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'INPUT_INVALID', fields: { session_token: expect.stringContaining('again') as string } }
    });
    expect(app.credentials.material(c.id).secrets.session_token?.reveal()).toBe('session_stored_0123456789');
    expect(app.credentials.material(c.id).fields.sts_endpoint).toBeUndefined();
    // Cleared with the change: nothing stored follows the new endpoint.
    expect(
      await call('credentials.update', { id: c.id, values: { ...keys, session_token: '', sts_endpoint: 'https://sts.proxy.example' } })
    ).toMatchObject({ ok: true });
    const m = app.credentials.material(c.id);
    expect(m.secrets.session_token).toBeUndefined();
    expect(m.fields.sts_endpoint).toBe('https://sts.proxy.example');
  });

  it('a re-auth with secrets is held to the same rule (it may not re-point the credential either)', async () => {
    const { app, call } = await setup();
    const c = app.credentials.add({
      name: 'AWS',
      provider: 'aws',
      mode: 'access_key',
      values: {
        access_key_id: 'AKIAABCDEFGHIJKLMNOP',
        secret_access_key: 'secret_stored_0123456789',
        session_token: 'session_stored_0123456789',
        region: 'us-east-1'
      }
    });
    const r = await call('prompts.reauthWithSecrets', {
      credentialId: c.id,
      values: { access_key_id: 'AKIAZZZZZZZZZZZZZZZZ', secret_access_key: 'secret_new_0123456789', sts_endpoint: 'https://evil.example' }
    });
    expect(r).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
    expect(app.credentials.material(c.id).fields.sts_endpoint).toBeUndefined();
  });
});
