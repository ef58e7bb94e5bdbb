import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Peer, type Ec2Peer } from '../../../e2e/peers/ec2.ts';
import { startHostingerPeer, type HostingerPeer } from '../../../e2e/peers/hostinger.ts';
import { startStsPeer, type StsPeer, type StsUser } from '../../../e2e/peers/sts.ts';
import { runCli } from '../../testing/cli.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';

/**
 * `keydesk readiness`: per credential and capability, what the provider last said the credential may do — read
 * offline, or asked now with --check — against the loopback EC2 (IAM as DryRun answers) and Hostinger peers.
 */
let sts: StsPeer;
let ec2: Ec2Peer;
let hostinger: HostingerPeer;
let user: StsUser;
let v: TempVault;

interface ReadinessJson {
  credentials: {
    name: string;
    checkedAt: string | null;
    readiness: { known: boolean; lines: { capability: string; ready: boolean | null; missing: string[] }[]; note: string | null };
  }[];
}

beforeAll(async () => {
  sts = await startStsPeer();
  [ec2, hostinger] = await Promise.all([startEc2Peer(sts), startHostingerPeer()]);
  user = sts.sts.addUser({ name: 'responder' });
  // Enough to block an IP, not to stop an instance or move its interfaces.
  ec2.iam.allow(user.arn, ['ec2:Describe*', 'ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAclEntry', 'ec2:StartInstances']);
  v = await keychainVault();
  v.app.credentials.add({
    name: 'aws-soc',
    provider: 'aws',
    mode: 'access_key',
    values: {
      access_key_id: user.accessKeyId,
      secret_access_key: user.secretAccessKey,
      region: 'us-east-1',
      sts_endpoint: sts.url,
      ec2_endpoint: ec2.url
    }
  });
  v.app.credentials.add({
    name: 'vps',
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: hostinger.hostinger.addToken(), api_base_url: hostinger.url }
  });
  v.app.credentials.add({
    name: 'generic',
    provider: 'oauth',
    mode: 'authorization_code',
    values: { preset: 'google', client_id: 'app.example', scopes: 'openid' }
  });
  await v.app.close();
});

afterAll(async () => {
  await v.cleanup();
  await Promise.all([ec2.close(), hostinger.close()]);
  await sts.close();
});

const kd = (...args: string[]) => runCli(['--vault', v.path, ...args]);

describe('keydesk readiness', () => {
  it('before any validation: every line unknown, saying how to ask the provider, and no call is made', async () => {
    const r = await kd('readiness');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^CREDENTIAL\s+PROVIDER\s+CAPABILITY\s+READINESS\s+CHECKED\s+DETAIL/);
    expect(r.stdout).toMatch(/aws-soc\s+aws\s+isolate\s+unknown\s+never\s+Not validated yet\./);
    expect(r.stdout).toContain('generic: OAuth (any provider) has no response capabilities in this version of Keydesk');
    expect(r.stdout).toContain('keydesk readiness --check asks it now');
    expect(ec2.calls).toHaveLength(0);
  });

  it('--check asks the providers now: ready, or the missing EC2 action named, from DryRun answers', async () => {
    const r = await kd('--json', 'readiness', '--check');
    expect(r.status).toBe(0);
    const aws = r.json<ReadinessJson>().credentials.find((c) => c.name === 'aws-soc')!;
    expect(aws.checkedAt).toEqual(expect.any(String));
    const lines = Object.fromEntries(aws.readiness.lines.map((l) => [l.capability, [l.ready, l.missing]]));
    expect(lines.block_ip).toEqual([true, []]);
    expect(lines.power).toEqual([false, ['ec2:StopInstances']]);
    expect(lines.isolate![0]).toBe(false);
    expect(lines.isolate![1]).toContain('ec2:ModifyNetworkInterfaceAttribute');
    expect(ec2.calls.length).toBeGreaterThan(0);
    expect(ec2.calls.every((c) => c.dryRun)).toBe(true); // asking changes nothing
  });

  it('offline afterwards (no key, no call): the same answer, one credential or one capability across credentials', async () => {
    const calls = ec2.calls.length;
    const one = await kd('readiness', 'aws-soc');
    expect(one.stdout).toMatch(/aws-soc\s+aws\s+power\s+not ready\s+(just now|\d+ \w+ ago)\s+missing ec2:StopInstances/);
    expect(one.stdout).toMatch(/aws-soc\s+aws\s+block_ip\s+ready/);
    expect(one.stdout).not.toContain('vps');
    const power = (await kd('--json', 'readiness', '--capability', 'power')).json<ReadinessJson>();
    expect(power.credentials.map((c) => [c.name, c.readiness.lines.map((l) => [l.capability, l.ready])])).toEqual([
      ['aws-soc', [['power', false]]],
      ['vps', [['power', true]]]
    ]);
    expect((await kd('readiness', '--capability', 'block_sender')).stdout).toBe('No credential can block_sender.\n');
    expect(ec2.calls.length).toBe(calls);
  });

  it('refuses an unknown capability or credential with a stable code, asking nothing', async () => {
    const calls = ec2.calls.length;
    const bad = await kd('--json', 'readiness', '--capability', 'nuke');
    expect(bad.status).toBe(2);
    expect(bad.json<{ error: { code: string; message: string } }>().error).toEqual({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('one of block_sender, block_email_domain, disable_user, power, block_ip, isolate')
    });
    const missing = await kd('--json', 'readiness', 'nope', '--check');
    expect(missing.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
    expect(ec2.calls.length).toBe(calls);
  });
});

describe('docs/PERMISSIONS.md', () => {
  it('is exactly what keydesk permissions --markdown prints from the provider specs (npm run docs:permissions regenerates it)', async () => {
    const r = await runCli(['permissions', '--markdown']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('### `isolate` — Isolate an EC2 instance');
    expect(r.stdout).toContain('- `compute.networks.updatePolicy`');
    expect(r.stdout).toContain('- `Microsoft.Network/networkSecurityGroups/join/action`');
    expect(readFileSync(new URL('../../../docs/PERMISSIONS.md', import.meta.url), 'utf8')).toBe(r.stdout);
  });
});
