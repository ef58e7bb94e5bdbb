import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBlocklistPeer, type BlocklistPeer } from '../../../e2e/peers/blocklist.ts';
import { startHostingerPeer, type HostingerPeer } from '../../../e2e/peers/hostinger.ts';
import { startStsPeer, type StsPeer } from '../../../e2e/peers/sts.ts';
import { runCli } from '../../testing/cli.ts';
import { containsAnyEncoding, keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { progressPrinter } from './providers.ts';

/**
 * The `keydesk` CLI in this process (runCli: no terminal, an explicit environment), on a real keychain vault, against
 * the loopback peers: what an analyst sees from `validate`, `list`, `show`, `permissions` and `providers`.
 */
let hostinger: HostingerPeer;
let blocklist: BlocklistPeer;
let sts: StsPeer;
let v: TempVault;
const hostingerCanary = `hst_canary_${crypto.randomUUID()}`;
const blocklistCanary = `blk_canary_${crypto.randomUUID()}`;

beforeAll(async () => {
  [hostinger, blocklist, sts] = await Promise.all([startHostingerPeer(), startBlocklistPeer(), startStsPeer()]);
  v = await keychainVault();
  const add = v.app.credentials.add.bind(v.app.credentials);
  add({
    name: 'vps-ok',
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: hostinger.hostinger.addToken(), api_base_url: hostinger.url }
  });
  add({
    name: 'vps-no-plan',
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: hostinger.hostinger.addToken({ vpsAccess: false }), api_base_url: hostinger.url }
  });
  // A revoked token on an API that echoes it back in its error body.
  hostinger.hostinger.addToken({ token: hostingerCanary });
  hostinger.hostinger.revoke(hostingerCanary);
  hostinger.hostinger.echoSecrets = true;
  add({ name: 'vps-echo', provider: 'hostinger', mode: 'api_token', values: { api_token: hostingerCanary, api_base_url: hostinger.url } });
  blocklist.blocklist.addToken({ token: blocklistCanary, expired: true });
  blocklist.blocklist.echoSecrets = true;
  add({
    name: 'blocklist-expired',
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    values: { token: blocklistCanary, blocklist_url: blocklist.url }
  });
  const u = sts.sts.addUser({ name: 'soc' });
  add({
    name: 'aws-ok',
    provider: 'aws',
    mode: 'access_key',
    values: { access_key_id: u.accessKeyId, secret_access_key: u.secretAccessKey, region: 'us-east-1', sts_endpoint: sts.url }
  });
  // Close the test's handle so the CLI's own handle is the only writer (it would wait on the lock otherwise).
  await v.app.close();
});

afterAll(async () => {
  await v.cleanup();
  await Promise.all([hostinger.close(), blocklist.close(), sts.close()]);
});

const kd = (...args: string[]) => runCli(['--vault', v.path, ...args]);

interface RunJson {
  results: {
    name: string;
    status: string;
    lastError: { code: string; message: string } | null;
    recorded: boolean;
    readiness: { lines: { capability: string; ready: boolean | null; missing: string[] }[] };
  }[];
  summary: Record<string, number>;
  stopped: unknown;
}

describe('keydesk validate', () => {
  it('--all --json: every credential’s honest status, exit 0 because the run completed, nothing on stderr', async () => {
    const r = await kd('--json', 'validate', '--all');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const run = r.json<RunJson>();
    const byName = Object.fromEntries(run.results.map((x) => [x.name, [x.status, x.lastError?.code ?? null]]));
    expect(byName).toEqual({
      'aws-ok': ['ok', null],
      'blocklist-expired': ['expired', 'token_expired'],
      'vps-echo': ['failed', 'HTTP_401'],
      'vps-no-plan': ['failed', 'HTTP_403'],
      'vps-ok': ['ok', null]
    });
    expect(run.summary).toEqual({ total: 5, ok: 2, failed: 2, expired: 1, unknown: 0, skipped: 0 });
    expect(run.results.find((x) => x.name === 'vps-no-plan')?.readiness.lines[0]).toEqual(
      expect.objectContaining({ capability: 'power', ready: false, missing: ['API token with VPS access on an account with a VPS plan'] })
    );
  });

  it('without --json: plain progress lines on stderr (no terminal), the final table on stdout; --strict exits 1', async () => {
    const r = await kd('validate', '--all', '--strict');
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => /^validated [1-5]\/5: \S+ \(\w+\) (ok|failed|expired|unknown)/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/^NAME\s+PROVIDER\s+STATUS\s+EXPIRY\s+DETAIL/);
    expect(r.stdout).toMatch(
      /vps-no-plan\s+hostinger\s+failed\s+HTTP_403: Hostinger refused the VPS list \(403\): the token lacks VPS API access or the account has no VPS plan/
    );
    expect(r.stdout).toContain('5 checked: 2 ok, 2 failed, 1 expired, 0 unknown');
  });

  it('one credential by name; a hang with --timeout 0.3 is unknown with a clear message', async () => {
    hostinger.setFault('hang');
    try {
      const r = await kd('--json', 'validate', 'vps-ok', '--timeout', '0.3');
      expect(r.status).toBe(0);
      const [only] = r.json<RunJson>().results;
      expect(only).toMatchObject({
        name: 'vps-ok',
        status: 'unknown',
        lastError: { code: 'PROVIDER_UNREACHABLE', message: expect.stringContaining('did not answer within 0.3 s') }
      });
    } finally {
      hostinger.reset();
    }
  });

  it('refuses bad arguments with exit 2 and INPUT_INVALID, checking nothing', async () => {
    const before = hostinger.control.requests.length;
    for (const args of [
      ['validate'],
      ['validate', 'vps-ok', '--all'],
      ['validate', '--all', '--timeout', 'soon'],
      ['validate', '--all', '--concurrency', '0']
    ]) {
      const r = await kd('--json', ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.json<{ error: { code: string } }>().error.code).toBe('INPUT_INVALID');
    }
    expect((await kd('--json', 'validate', 'no-such-credential')).json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
    expect(hostinger.control.requests.length).toBe(before);
  });
});

describe('keydesk list and show after validation', () => {
  beforeAll(async () => {
    expect((await kd('validate', '--all')).status).toBe(0);
  });

  it('list --json keeps the stored fields and adds lifecycle, readiness and suggestions', async () => {
    const r = await kd('--json', 'list');
    expect(r.status).toBe(0);
    const list = r.json<{ credentials: Record<string, unknown>[] }>().credentials;
    const ok = list.find((c) => c.name === 'vps-ok');
    expect(ok).toEqual(
      expect.objectContaining({
        id: expect.any(String),
        provider: 'hostinger',
        mode: 'api_token',
        status: expect.any(String),
        lastError: null,
        checkedAt: expect.any(String),
        expiresAt: null,
        rotatedAt: expect.any(String),
        lifecycle: expect.objectContaining({ expiry: null, rotation: expect.objectContaining({ policyDays: 90, due: false }) }),
        readiness: { known: true, lines: [expect.objectContaining({ capability: 'power', ready: true })], note: null },
        suggestions: []
      })
    );
  });

  it('list prints status, last error, checked-at, rotation due and readiness; notes name the missing permission', async () => {
    const app = v.reopen();
    app.vault.db.prepare("UPDATE credentials SET rotated_at = '2025-01-01T00:00:00.000Z' WHERE name = 'vps-ok'").run();
    app.vault.close();
    const r = await kd('list');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+PROVIDER\s+MODE\s+STATUS\s+CHECKED\s+EXPIRY\s+ROTATION\s+READY/);
    expect(r.stdout).toMatch(/vps-ok\s+hostinger\s+api_token\s+ok\s+(just now|\d+ \w+ ago)\s+rotation due\s+power\n/);
    expect(r.stdout).toMatch(/vps-no-plan\s+hostinger\s+api_token\s+failed: HTTP_403/);
    expect(r.stdout).toContain('vps-no-plan: power is missing API token with VPS access on an account with a VPS plan');
    expect(r.stdout).toContain('blocklist-expired: token_expired: The blocklist service says the token has expired');
  });

  it('show prints identity, readiness with what each capability needs, rotation and expiry', async () => {
    const aws = await kd('show', 'aws-ok');
    expect(aws.status).toBe(0);
    expect(aws.stdout).toMatch(/identity:\n\s+account_id:\s+123456789012\n\s+arn:\s+arn:aws:iam::123456789012:user\/soc/);
    // STS is the peer but no EC2 endpoint is set: readiness says why it cannot ask EC2, and what each capability needs.
    expect(aws.stdout).toMatch(/readiness:\n\s+isolate: unknown \(sts_endpoint is overridden but ec2_endpoint is not/);
    expect(aws.stdout).toMatch(/power: unknown .*\n\s+needs: ec2:DescribeInstances; ec2:StopInstances; ec2:StartInstances/);
    const vps = await kd('show', 'vps-no-plan');
    expect(vps.stdout).toContain('power: not ready');
    expect(vps.stdout).toContain('needs: API token with VPS access on an account with a VPS plan');
    expect(vps.stdout).toMatch(/rotation:\s+next rotation in/);
  });
});

describe('canary: echoed tokens never reach CLI output or the audit export', () => {
  it('in --json and human output of validate, list and show, on stdout and stderr, and in audit export', async () => {
    const outputs = [
      await kd('--json', 'validate', '--all'),
      await kd('validate', '--all'),
      await kd('--json', 'list'),
      await kd('list'),
      await kd('show', 'vps-echo'),
      await kd('--json', 'show', 'blocklist-expired'),
      await kd('audit', 'export')
    ];
    // The providers did echo: the stored messages show where Keydesk redacted them.
    expect(outputs[3]?.stdout).toContain('[redacted]');
    for (const o of outputs) {
      for (const canary of [hostingerCanary, blocklistCanary]) {
        expect(containsAnyEncoding(o.stdout, canary)).toBeNull();
        expect(containsAnyEncoding(o.stderr, canary)).toBeNull();
      }
    }
  });
});

describe('keydesk permissions and providers', () => {
  it('permissions PROVIDER prints validation’s and each capability’s exact permissions', async () => {
    const r = await kd('permissions', 'microsoft_365');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Microsoft 365 \(microsoft_365\) — permissions Keydesk needs\n\nValidation\n {2}- /);
    expect(r.stdout).toContain('disable_user — Disable a user');
    expect(r.stdout).toContain('  - User.ReadWrite.All');
    expect(r.stdout).toContain('  modes: client_secret, certificate only');
    const aws = (await kd('--json', 'permissions', 'aws')).json<{
      validation: { permissions: string[] };
      capabilities: unknown[];
      note: string;
    }>();
    expect(aws.validation.permissions).toEqual([
      'sts:GetCallerIdentity (needs no IAM permission)',
      'sts:AssumeRole on the role (assume_role mode)',
      'readiness: each capability’s EC2 actions are checked with DryRun'
    ]);
    expect(aws.capabilities).toEqual([
      expect.objectContaining({ id: 'isolate', permissions: expect.arrayContaining(['ec2:ModifyNetworkInterfaceAttribute']) }),
      expect.objectContaining({ id: 'block_ip', permissions: expect.arrayContaining(['ec2:CreateNetworkAclEntry']) }),
      expect.objectContaining({ id: 'power', permissions: ['ec2:DescribeInstances', 'ec2:StopInstances', 'ec2:StartInstances'] })
    ]);
    const oauth = (await kd('--json', 'permissions', 'oauth')).json<{ capabilities: unknown[]; note: string }>();
    expect(oauth.capabilities).toEqual([]);
    expect(oauth.note).toMatch(/validated only/);
  });

  it('an unknown provider is exit 2 with INPUT_INVALID', async () => {
    const r = await kd('--json', 'permissions', 'nope');
    expect(r.status).toBe(2);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('INPUT_INVALID');
    expect((await kd('permissions', 'nope')).stderr).toMatch(/Unknown provider "nope"/);
  });

  it('providers lists every provider’s modes and fields with their secret and required flags', async () => {
    const list = (await kd('--json', 'providers')).json<{
      providers: { id: string; modes: { id: string; fields: { name: string; secret: boolean; required: boolean }[] }[] }[];
    }>().providers;
    const hostingerFields = list.find((p) => p.id === 'hostinger')?.modes[0]?.fields;
    expect(hostingerFields).toEqual([
      expect.objectContaining({ name: 'api_token', secret: true, required: true }),
      expect.objectContaining({ name: 'api_base_url', secret: false, required: false })
    ]);
    expect((await kd('providers')).stdout).toMatch(/ {4}secret_access_key\s+required, secret\n/);
  });
});

describe('progressPrinter', () => {
  it('draws a bar that it redraws in place on a terminal, and ends the line when finished', async () => {
    let out = '';
    const print = progressPrinter((s) => (out += s), true);
    print({ runId: 'r', total: 4, done: 0, inFlight: 0, credential: null, finished: false });
    print({
      runId: 'r',
      total: 4,
      done: 2,
      inFlight: 2,
      credential: { id: 'x', name: 'vps', provider: 'hostinger', status: 'ok', errorCode: null },
      finished: false
    });
    expect(out).toContain('\r\u001b[2K[------------------------] 0/4');
    expect(out).toContain('\r\u001b[2K[############------------] 2/4 vps: ok');
    expect(out.endsWith('\n')).toBe(false);
    print({
      runId: 'r',
      total: 4,
      done: 4,
      inFlight: 0,
      credential: { id: 'y', name: 'blk', provider: 'agentsoc_mail_block', status: 'failed', errorCode: 'HTTP_401' },
      finished: true
    });
    expect(out.endsWith('[########################] 4/4 blk: failed\n')).toBe(true);
  });
});
