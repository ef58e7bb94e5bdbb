// The OAuth commands as a newcomer runs them (docs/oauth.md): the local OpenID Provider started by
// e2e/peers/oidc-dev.ts in its own process, the keydesk commands in this process (runCli, with the environment below
// and nothing else), and a browser the CLI starts as a child process through KEYDESK_BROWSER (e2e/peers/oidc-browser.ts:
// follows the redirects and submits the login and consent pages) — a real child, so the test sees what it inherited.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialViewSchema } from '../../../preload/contract.ts';
import { openApp } from '../../app.ts';
import { ROOT, runCli, type CliResult } from '../../testing/cli.ts';
import { containsAnyEncoding, tempDir } from '../../testing/fixtures.ts';

interface DevPeer {
  info: { issuer: string; discovery_url: string; client_id: string; scopes: string; authorization_url: string; token_url: string };
  command(cmd: string): Promise<Record<string, unknown>>;
  stop(): void;
}

function startDevPeer(): Promise<DevPeer> {
  const proc: ChildProcessWithoutNullStreams = spawn(process.execPath, [resolve(ROOT, 'e2e/peers/oidc-dev.ts'), '--json'], {
    cwd: ROOT,
    env: process.env
  });
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiters.shift()?.(line);
    }
  });
  const next = () => new Promise<string>((r) => waiters.push(r));
  return next().then((first) => ({
    info: JSON.parse(first) as DevPeer['info'],
    command: async (cmd) => {
      const line = next();
      proc.stdin.write(`${cmd}\n`);
      return JSON.parse(await line) as Record<string, unknown>;
    },
    stop: () => void proc.kill('SIGTERM')
  }));
}

let peer: DevPeer;
const dir = tempDir();
const vault = join(dir.dir, 'vault.sqlite');
const envLog = join(dir.dir, 'browser-env.json');
const outputs: CliResult[] = [];
// The vault is a keychain vault: the passphrase below is set only to prove that no child process ever sees it.
// PATH is there as any shell has it: the browser child must get the rest of the environment, less the passphrases.
const env = {
  PATH: process.env.PATH,
  KEYDESK_BROWSER: `${process.execPath} ${resolve(ROOT, 'e2e/peers/oidc-browser.ts')}`,
  KEYDESK_BROWSER_ENV_LOG: envLog,
  KEYDESK_PASSPHRASE: 'canary-passphrase-never-in-a-child-7f3e',
  KEYDESK_NEW_PASSPHRASE: 'canary-new-passphrase-never-in-a-child-91c2'
};

async function keydesk(args: string[], input?: string): Promise<CliResult> {
  const r = await runCli(['--vault', vault, ...args], { env, ...(input !== undefined ? { input } : {}) });
  outputs.push(r);
  return r;
}

async function credentialJson(name: string): Promise<Record<string, unknown>> {
  return (await keydesk(['--json', 'show', name])).json<{ credential: Record<string, unknown> }>().credential;
}

/** What the vault holds, read through a separate handle (as the app would): for canary checks only. */
async function tokensOf(name: string): Promise<{ access: string | null; refresh: string | null }> {
  const app = openApp({ vaultPath: vault, actor: 'analyst:test (test)' });
  try {
    await app.vault.unlock();
    const m = app.credentials.material(name);
    return { access: m.secrets.access_token?.reveal() ?? null, refresh: m.secrets.refresh_token?.reveal() ?? null };
  } finally {
    await app.close();
  }
}

beforeAll(async () => {
  peer = await startDevPeer();
  expect((await keydesk(['init'])).status).toBe(0);
});
afterAll(() => {
  peer?.stop();
  dir.cleanup();
});

describe('keydesk OAuth commands against the local OpenID Provider', () => {
  const seen: string[] = [];

  it('connect creates and signs in a new generic credential; show has its expiry; refresh; revoke; reauth', async () => {
    const connect = await keydesk([
      'connect',
      'Local IdP',
      '--provider',
      'oauth',
      '--mode',
      'authorization_code',
      '--field',
      `discovery_url=${peer.info.discovery_url}`,
      '--field',
      `client_id=${peer.info.client_id}`,
      '--field',
      `scopes=${peer.info.scopes}`
    ]);
    expect(connect.stderr).toContain(`${peer.info.authorization_url}?`); // the URL is always printed (headless machines)
    expect(connect.status).toBe(0);
    expect(connect.stdout).toContain('Created and connected Local IdP (oauth/authorization_code) as alice@peer.example. Status: ok.');
    expect(connect.stdout).toMatch(/Access token expires in (59 min|1 h)/);
    const first = await tokensOf('Local IdP');
    seen.push(first.access!, first.refresh!);

    // The browser child the CLI started had the vault passphrase scrubbed from its environment.
    const childEnv = JSON.parse(readFileSync(envLog, 'utf8')) as string[];
    expect(childEnv).toContain('PATH');
    expect(childEnv).not.toContain('KEYDESK_PASSPHRASE');
    expect(childEnv).not.toContain('KEYDESK_NEW_PASSPHRASE');

    const show = await keydesk(['show', 'Local IdP']);
    expect(show.stdout).toMatch(/status:\s+ok/);
    expect(show.stdout).toMatch(/^expir\w*:.*in (59 min|1 h).*from provider/m);

    const json = await keydesk(['--json', 'show', 'Local IdP']);
    // The one credential view (the contract's schema), as for every other provider.
    CredentialViewSchema.parse(json.json<{ credential: unknown }>().credential);
    expect(json.json<{ credential: { observed: { granted: string[] } } }>().credential.observed.granted).toEqual([
      'api.read',
      'email',
      'offline_access',
      'openid'
    ]);

    const refresh = await keydesk(['refresh', 'Local IdP']);
    expect(refresh.status).toBe(0);
    expect(refresh.stdout).toMatch(/^Refreshed Local IdP\. Access token expires in/);
    expect(await peer.command('stats')).toEqual({ token_requests: { authorization_code: 1, refresh_token: 1 } });
    const second = await tokensOf('Local IdP');
    expect(second.refresh).not.toBe(first.refresh);
    seen.push(second.access!, second.refresh!);

    const revoke = await keydesk(['revoke', 'Local IdP']);
    expect(revoke.status).toBe(0);
    expect(revoke.stdout).toContain('Revoked Local IdP');
    expect(await credentialJson('Local IdP')).toMatchObject({ status: 'expired', lastError: { code: 'revoked' }, expiresAt: null });

    const reauth = await keydesk(['reauth', 'Local IdP']);
    expect(reauth.status).toBe(0);
    expect(reauth.stdout).toContain('Re-authenticated Local IdP');
    const third = await tokensOf('Local IdP');
    seen.push(third.access!, third.refresh!);
  });

  it('a grant revoked at the provider: refresh fails clearly (exit 1), the credential is expired, reauth fixes it', async () => {
    await peer.command('revoke-all');
    const refresh = await keydesk(['refresh', 'Local IdP']);
    expect(refresh.status).toBe(1);
    expect(refresh.stderr).toMatch(/no longer accepts the refresh token \(invalid_grant.*\[PROVIDER_EXPIRED\]/);
    expect(await credentialJson('Local IdP')).toMatchObject({ status: 'expired', lastError: { code: 'invalid_grant' } });
    expect((await keydesk(['reauth', 'Local IdP'])).status).toBe(0);
    const t = await tokensOf('Local IdP');
    seen.push(t.access!, t.refresh!);
  });

  it('add --paste-tokens stores a credential only after its refresh token proved itself', async () => {
    const file = join(dir.dir, 'pasted.json');
    writeFileSync(file, JSON.stringify({ access_token: 'pasted-access-canary-3b7d', refresh_token: 'pasted-refresh-canary-c40e' }), {
      mode: 0o600
    });
    const fields = [
      '--field',
      `discovery_url=${peer.info.discovery_url}`,
      '--field',
      `client_id=${peer.info.client_id}`,
      '--field',
      `scopes=${peer.info.scopes}`
    ];
    const bad = await keydesk([
      'add',
      '--provider',
      'oauth',
      '--mode',
      'authorization_code',
      '--name',
      'Pasted',
      ...fields,
      '--paste-tokens',
      '--secrets-from',
      file
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/The pasted refresh token was not accepted: .*invalid_grant.*Nothing was stored\. \[PROVIDER_REJECTED\]/);
    expect((await keydesk(['list'])).stdout).not.toContain('Pasted');
    seen.push('pasted-access-canary-3b7d', 'pasted-refresh-canary-c40e');

    const real = await tokensOf('Local IdP');
    const good = await keydesk(
      [
        '--json',
        'add',
        '--provider',
        'oauth',
        '--mode',
        'authorization_code',
        '--name',
        'Pasted',
        ...fields,
        '--paste-tokens',
        '--secrets-from',
        '-'
      ],
      JSON.stringify({ access_token: real.access, refresh_token: real.refresh })
    );
    expect(good.status).toBe(0);
    CredentialViewSchema.parse(good.json<{ credential: unknown }>().credential);
    expect(good.json<{ credential: { name: string; status: string } }>().credential).toMatchObject({ name: 'Pasted', status: 'ok' });
    const pasted = await tokensOf('Pasted');
    seen.push(pasted.access!, pasted.refresh!);

    const wrongKey = await keydesk(['paste-tokens', 'Pasted', '--secrets-from', '-'], JSON.stringify({ id_token: 'x' }));
    expect(wrongKey.status).toBe(2);
    expect(wrongKey.stderr).toContain('[INPUT_INVALID]');
  });

  it('refuses what it cannot do, with the way forward', async () => {
    const missing = await keydesk(['connect', 'Nobody']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('keydesk connect "Nobody" --provider oauth --mode authorization_code');
    const timeout = await keydesk(['--json', 'connect', 'Local IdP', '--no-browser', '--timeout', '1']);
    expect(timeout.status).toBe(1);
    expect(timeout.stderr).toContain(peer.info.authorization_url);
    expect(timeout.json<{ error: { code: string } }>().error.code).toBe('OAUTH_TIMEOUT');
    expect((await keydesk(['connect', 'Local IdP', '--timeout', 'soon'])).status).toBe(2);
    const hostinger = join(dir.dir, 'h.json');
    writeFileSync(hostinger, JSON.stringify({ api_token: 'hst_static_token_0123456789' }));
    await keydesk(['add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'Static', '--secrets-from', hostinger]);
    const notOauth = await keydesk(['refresh', 'Static']);
    expect(notOauth.status).toBe(1);
    expect(notOauth.stderr).toContain('[UNSUPPORTED]');
  });

  it('canary: no token, pasted token or passphrase appears in any CLI output', () => {
    expect(seen.length).toBeGreaterThan(8);
    for (const r of outputs) {
      for (const secret of [...seen, env.KEYDESK_PASSPHRASE, env.KEYDESK_NEW_PASSPHRASE]) {
        expect(containsAnyEncoding(r.stdout + r.stderr, secret)).toBeNull();
      }
    }
  });
});
