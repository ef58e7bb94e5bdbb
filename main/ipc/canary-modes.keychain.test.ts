import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialView, EventName, FieldView, ProviderView, Result } from '../../preload/contract.ts';
import { createClientCertificate } from '../../e2e/peers/tls.ts';
import { AppSession } from '../shell/session.ts';
import { tempDir, TEST_ACTOR } from '../testing/fixtures.ts';
import { createIpcCore, type IpcCore } from './index.ts';

// Guards: "secret fields are write-only" for every provider mode, at the IPC boundary. One credential per mode is
// added through IPC with a planted secret in every secret field — inside JSON key files and PEM bundles too, where
// readable members (client email, thumbprint, last four of a key id) are derived from the same value — and then every
// read channel, validation (against an endpoint that refuses connections), a refused update and the audit log are
// asked. No answer, error or event may hold any of the planted secrets.

const NOWHERE = 'http://127.0.0.1:9';
let dir: { dir: string; cleanup: () => void };
let session: AppSession;
let core: IpcCore;
const answers: string[] = [];
const events: { name: EventName; payload: unknown }[] = [];
/** Substrings that must never come back: each one is only in a secret field. */
const needles: { what: string; needle: string }[] = [];

async function call<T>(channel: string, input?: unknown): Promise<Result<T>> {
  const r = (await core.dispatch(channel, input)) as Result<T>;
  answers.push(JSON.stringify(r));
  return r;
}

/** The middle line of a PEM block's base64 body: key material and nothing else. */
function pemBodyLine(pem: string): string {
  const lines = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
  return lines[Math.floor(lines.length / 2)]!;
}

function secretValue(provider: string, mode: string, f: FieldView): string {
  const tag = `${provider}.${mode}.${f.name}`;
  const canary = `CANARY${randomBytes(8).toString('hex')}`;
  const plant = (needle: string, value: string) => {
    needles.push({ what: tag, needle });
    return value;
  };
  if (f.name === 'access_key_id') return plant(canary.toUpperCase(), `${canary.toUpperCase()}WXYZ`); // last four are shown
  if (f.name === 'client_id') {
    const guid = randomUUID();
    return plant(guid.slice(0, 28), guid); // a secret client id: only its last four are readable
  }
  if (f.name === 'certificate_pem') {
    const cert = createClientCertificate();
    return plant(pemBodyLine(cert.keyPem), cert.bundle);
  }
  if (f.name === 'service_account_json') {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    plant(pemBodyLine(key), '');
    return plant(
      canary,
      JSON.stringify({
        type: 'service_account',
        project_id: 'corp-prod',
        private_key_id: `${randomBytes(16).toString('hex')}`,
        private_key: key,
        client_email: 'keydesk@corp-prod.iam.gserviceaccount.com',
        client_id: '1234567890',
        token_uri: `${NOWHERE}/token`,
        keydesk_note: canary
      })
    );
  }
  if (f.name === 'external_account_json') {
    return plant(
      canary,
      JSON.stringify({
        type: 'external_account',
        audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q',
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: `${NOWHERE}/v1/token`,
        credential_source: { url: `${NOWHERE}/idp`, headers: { Authorization: `Bearer ${canary}` } }
      })
    );
  }
  return plant(canary, `${canary}-${f.name}`);
}

function readableValue(f: FieldView): string | null {
  if (f.endpoint && f.kind === 'url') return f.name === 'discovery_url' ? null : `${NOWHERE}/${f.name}`;
  const fixed: Record<string, string> = {
    tenant_id: 'corp.example',
    subscription_id: randomUUID(),
    region: 'us-east-1',
    role_arn: 'arn:aws:iam::123456789012:role/KeydeskResponder',
    session_policy: '{"Version":"2012-10-17","Statement":[]}',
    duration_seconds: '3600',
    delegated_admin_email: 'admin@corp.example',
    customer_id: 'C0corp123',
    client_id: randomUUID(),
    scopes: 'openid email offline_access'
  };
  return fixed[f.name] ?? (f.required ? `value-${f.name}` : null);
}

beforeAll(async () => {
  dir = tempDir();
  session = new AppSession({ vaultPath: join(dir.dir, 'vault.sqlite'), actor: TEST_ACTOR });
  core = createIpcCore(session);
  core.forward((name, payload) => events.push({ name, payload }));
  await session.create('keychain');
});

afterAll(async () => {
  await session.close();
  dir.cleanup();
});

describe('canary: secret fields of every provider mode are write-only over IPC', () => {
  it('no answer, error or event holds a planted secret, whatever is asked', { timeout: 120_000 }, async () => {
    const providers = await call<ProviderView[]>('providers.list');
    if (!providers.ok) throw new Error(providers.error.message);
    const added: CredentialView[] = [];
    for (const p of providers.value) {
      for (const m of p.modes) {
        const values: Record<string, string> = {};
        for (const f of m.fields) {
          const v = f.secret ? secretValue(p.id, m.id, f) : readableValue(f);
          if (v !== null) values[f.name] = v;
        }
        const r = await call<CredentialView>('credentials.add', { name: `${p.id} ${m.id}`, provider: p.id, mode: m.id, values });
        expect(r.ok ? null : r.error, `${p.id} ${m.id}`).toBeNull();
        if (r.ok) added.push(r.value);
      }
    }
    expect(added.length).toBe(providers.value.reduce((n, p) => n + p.modes.length, 0));

    for (const c of added) {
      await call('credentials.get', { id: c.id });
      await call('validation.validate', { credentialId: c.id });
      await call('bindings.suggestions', { credentialId: c.id });
      // A refused update: main merges the stored secrets with the new values before the schema says no.
      await call('credentials.update', { id: c.id, values: { [Object.keys(c.metadata)[0] ?? 'nope']: 'ftp://not valid' } });
      await call('audit.list', { credentialId: c.id });
    }
    await call('validation.validateAll');
    await call('credentials.list');
    await call('bindings.list');
    await call('executions.list');
    await call('prompts.list');
    await call('audit.list', { limit: 1000 });
    await call('audit.verify');
    await call('vault.lock');
    await call('credentials.list');

    const everything = JSON.stringify({ answers, events });
    expect(needles.length).toBeGreaterThan(added.length);
    for (const { what, needle } of needles) expect(everything.includes(needle), `${what}: a planted secret came back`).toBe(false);
  });
});
