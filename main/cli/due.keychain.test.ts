// keydesk due: what a script asks every morning — which credentials rotate or expire within the window, or are past.
import { afterEach, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { SAMPLE, keychainVault, manualClock, type TempVault } from '../testing/fixtures.ts';

const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

interface Due {
  within_days: number;
  due: { credential: string; kind: string; at: string; overdue: boolean }[];
}

it('lists rotations and expiries inside the window, oldest first, overdue marked; refuses a window it cannot read', async () => {
  const clock = manualClock('2026-12-01T09:00:00.000Z');
  const v = await keychainVault({ clock });
  vaults.push(v);
  v.app.credentials.add({ name: 'Hostinger prod', ...SAMPLE.hostinger() }); // 90-day rotation policy: due 2027-03-01
  v.app.credentials.add({ name: 'Blocklist', ...SAMPLE.blocklist(), expiresAt: '2026-12-04' });
  await v.app.close();
  const due = async (...args: string[]) => {
    const r = await runCli(['--vault', v.path, '--json', 'due', ...args], { clock });
    expect(r.status, r.stderr).toBe(0);
    return r.json<Due>();
  };

  expect((await due()).due.map((d) => [d.credential, d.kind, d.overdue])).toEqual([['Blocklist', 'expiry', false]]);
  expect((await due('--within', '0d')).due).toEqual([]);
  clock.set('2027-02-20T09:00:00.000Z'); // the rotation is 9 days away; the expiry long past
  expect((await due()).due.map((d) => [d.credential, d.kind, d.overdue])).toEqual([
    ['Blocklist', 'expiry', true],
    ['Blocklist', 'rotation', false],
    ['Hostinger prod', 'rotation', false]
  ]);
  expect((await due('--within', '0d')).due.map((d) => d.kind)).toEqual(['expiry']);
  const human = await runCli(['--vault', v.path, 'due', '--within', '30d'], { clock });
  expect(human.stdout).toMatch(/^NAME\s+PROVIDER\s+WHAT\s+WHEN/m);
  expect(human.stdout).toMatch(/Blocklist\s+agentsoc_mail_block\s+expiry\s+\S.*overdue/);

  for (const bad of ['14', '2w', '-1d', '99999d']) {
    const r = await runCli(['--vault', v.path, '--json', 'due', '--within', bad], { clock });
    expect(r.status, bad).toBe(2);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('INPUT_INVALID');
  }
});
