// Guided rotation (keydesk rotate): the new secret is proven at the provider before it replaces the old one; a new
// secret the provider rejects, or cannot be asked about, changes nothing. Against the loopback Hostinger peer.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHostingerPeer, type HostingerPeer } from '../../e2e/peers/hostinger.ts';
import { runCli } from '../testing/cli.ts';
import { containsAnyEncoding, keychainVault, type TempVault } from '../testing/fixtures.ts';

let peer: HostingerPeer;
let tv: TempVault;
let oldToken: string;

beforeEach(async () => {
  peer = await startHostingerPeer();
  tv = await keychainVault();
  oldToken = peer.hostinger.addToken();
  tv.app.credentials.add({
    name: 'Hostinger prod',
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: oldToken, api_base_url: peer.url }
  });
});
afterEach(async () => {
  await tv.cleanup();
  await peer.close();
});

const stored = () => tv.app.credentials.material('Hostinger prod').secrets.api_token?.reveal();
const rotations = () => tv.app.audit.list().filter((e) => e.action === 'credential.rotate_secret').length;

describe('guided rotation', () => {
  it('a new token the provider accepts replaces the old one, validated and audited', async () => {
    const fresh = peer.hostinger.addToken();
    const r = await tv.app.validation.rotateWithSecrets('Hostinger prod', { api_token: fresh });
    expect(r.credential).toMatchObject({ status: 'ok' });
    expect(stored()).toBe(fresh);
    expect(rotations()).toBe(1);
    // The provider was asked (the rejection test below shows nothing is stored without its yes).
    expect(peer.control.requests.length).toBeGreaterThan(0);
  });

  it('a new token the provider rejects, or cannot be asked about, changes nothing', async () => {
    const before = tv.app.credentials.get('Hostinger prod');
    await expect(
      tv.app.validation.rotateWithSecrets('Hostinger prod', { api_token: 'hst_not_a_token_at_this_provider' })
    ).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED',
      message: expect.stringContaining('Nothing was changed')
    });
    peer.setFault('server_error');
    await expect(tv.app.validation.rotateWithSecrets('Hostinger prod', { api_token: peer.hostinger.addToken() })).rejects.toMatchObject({
      code: 'PROVIDER_UNREACHABLE'
    });
    peer.setFault('none');
    expect(stored()).toBe(oldToken);
    expect(rotations()).toBe(0);
    expect(tv.app.credentials.get('Hostinger prod')).toMatchObject({ status: before.status, checkedAt: before.checkedAt });
  });

  it('refuses a field that is not a secret (rotation never moves where a secret goes), and nothing at all', async () => {
    await expect(
      tv.app.validation.rotateWithSecrets('Hostinger prod', { api_token: peer.hostinger.addToken(), api_base_url: 'https://evil.example' })
    ).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringContaining('api_base_url') });
    await expect(tv.app.validation.rotateWithSecrets('Hostinger prod', {})).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(peer.control.requests).toHaveLength(0);
    expect(stored()).toBe(oldToken);
  });

  it('through the CLI: keydesk rotate NAME --secrets-from -, with neither token in its output', async () => {
    await tv.app.close();
    const fresh = peer.hostinger.addToken();
    const ok = await runCli(['--vault', tv.path, 'rotate', 'Hostinger prod', '--secrets-from', '-'], {
      input: JSON.stringify({ api_token: fresh })
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Rotated Hostinger prod: the provider accepted the new secret');
    const bad = await runCli(['--vault', tv.path, '--json', 'rotate', 'Hostinger prod', '--secrets-from', '-'], {
      input: JSON.stringify({ api_token: 'hst_rejected_token_0123456789' })
    });
    expect(bad.status).toBe(1);
    expect(bad.json<{ error: { code: string } }>().error.code).toBe('PROVIDER_REJECTED');
    for (const out of [ok, bad])
      for (const t of [oldToken, fresh, 'hst_rejected_token_0123456789'])
        expect(containsAnyEncoding(out.stdout + out.stderr, t)).toBeNull();
    const app = tv.reopen();
    await app.vault.unlock();
    expect(app.credentials.material('Hostinger prod').secrets.api_token?.reveal()).toBe(fresh);
    await app.close();
  });
});
