import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBlocklistPeer, type BlocklistPeer } from '../../../e2e/peers/blocklist.ts';
import { runCli } from '../../testing/cli.ts';
import { SAMPLE, containsAnyEncoding, keychainVault, movableClock, vaultFilesBytes, type TempVault } from '../../testing/fixtures.ts';

// The keydesk commands run in this process (runCli), on the system clock until a test moves it past a deadline.
let tv: TempVault;
let peer: BlocklistPeer;
let token: string;
let clock: ReturnType<typeof movableClock>;

beforeEach(async () => {
  clock = movableClock();
  peer = await startBlocklistPeer();
  token = peer.blocklist.addToken();
  tv = await keychainVault();
  tv.app.credentials.add({ name: 'Blocklist', ...SAMPLE.blocklist(token, peer.url) });
  await tv.app.close();
});
afterEach(async () => {
  await tv.cleanup();
  await peer.close();
});

const kd = (args: string[], env: Record<string, string> = {}) => runCli(['--vault', tv.path, ...args], { env, clock });
const posts = () => peer.control.requests.filter((r) => r.method === 'POST').length;

describe('keydesk bind / bindings / resolve', () => {
  it('binds, lists and resolves; bad input exits 2 with INPUT_INVALID and changes nothing', async () => {
    const bound = await kd(['--json', 'bind', 'Blocklist', 'Corp.Example.', '--subdomains']);
    expect(bound.status).toBe(0);
    expect(bound.json()).toMatchObject({
      binding: { domain: 'corp.example', subdomains: true, credentialName: 'Blocklist', change: 'added' }
    });

    const list = await kd(['--json', 'bindings']);
    expect(list.json()).toEqual({ bindings: [expect.objectContaining({ domain: 'corp.example', intact: null })] });
    expect((await kd(['--json', 'bindings', '--verify'])).json()).toEqual({ bindings: [expect.objectContaining({ intact: true })] });
    expect((await kd(['bindings'])).stdout).toMatch(
      /corp\.example\s+and its subdomains\s+Blocklist\s+agentsoc_mail_block\/bearer_token\s+unchecked/
    );

    const r = await kd(['--json', 'resolve', 'block_email_domain', 'soc@mail.corp.example']);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({
      resolution: { credentialName: 'Blocklist', domain: 'corp.example', matched: 'parent', verified: true }
    });
    expect((await kd(['resolve', 'block_email_domain', 'corp.example'])).stdout).toBe(
      'block_email_domain for corp.example → "Blocklist" (agentsoc_mail_block/bearer_token), bound to corp.example.\n'
    );

    for (const args of [
      ['bind', 'Blocklist', 'not a domain'],
      ['bind', 'Blocklist'],
      ['resolve', 'nuke', 'corp.example'],
      ['resolve', 'block_email_domain', 'alice@']
    ]) {
      const bad = await kd(['--json', ...args]);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.json()).toMatchObject({ error: { code: 'INPUT_INVALID' } });
    }
    const none = await kd(['--json', 'resolve', 'disable_user', 'other.example']);
    expect(none.status).toBe(1);
    expect(none.json()).toMatchObject({ error: { code: 'NO_BINDING' } });
    expect((await kd(['--json', 'bindings'])).json<{ bindings: unknown[] }>().bindings).toHaveLength(1);

    expect((await kd(['unbind', 'Blocklist', 'corp.example'])).stdout).toBe('Unbound corp.example from "Blocklist".\n');
  });
});

describe('keydesk run / executions / revert / prompts', () => {
  beforeEach(async () => {
    expect((await kd(['bind', 'Blocklist', 'corp.example'])).status).toBe(0);
  });

  it('runs, lists, shows the step log and reverts, with exit codes scripts can branch on', async () => {
    const run = await kd([
      '--json',
      'run',
      'block_email_domain',
      '--target',
      'phish.example',
      '--host-domain',
      'corp.example',
      '--reason',
      'INC-9 phishing'
    ]);
    expect(run.status).toBe(0);
    const v = run.json<{ execution: { id: string; status: string; actor: string } }>().execution;
    expect(v).toMatchObject({ status: 'succeeded', actor: expect.stringMatching(/^analyst:.* \(cli\)$/) });
    expect(peer.blocklist.entries.size).toBe(1);

    const human = await kd([
      'run',
      'block_email_domain',
      '--target',
      'phish.example',
      '--host-domain',
      'corp.example',
      '--reason',
      'again'
    ]);
    expect(human.status).toBe(1);
    expect(human.stdout).toContain(`was not run: An identical run is already in effect: execution ${v.id}`);
    expect(posts()).toBe(1);

    const list = await kd(['--json', 'executions', '--status', 'succeeded']);
    expect(list.json<{ executions: { id: string }[] }>().executions.map((e) => e.id)).toEqual([v.id]);
    const shown = await kd(['executions', v.id.slice(0, 8)]);
    expect(shown.stdout).toMatch(/status:\s+succeeded/);
    expect(shown.stdout).toMatch(/steps:\n.*Routed corp\.example to "Blocklist"/);

    const reverted = await kd(['--json', 'revert', v.id.slice(0, 8)]);
    expect(reverted.status).toBe(0);
    expect(reverted.json()).toMatchObject({ execution: { id: v.id, status: 'reverted' } });
    expect(peer.blocklist.entries.size).toBe(0);
    const again = await kd(['--json', 'revert', v.id]);
    expect(again.status).toBe(1);
    expect(again.json()).toMatchObject({ error: { code: 'EXECUTION_CONFLICT' } });
  });

  it('an agent run is recorded as the agent’s', async () => {
    const run = await kd(
      ['--json', 'run', 'block_email_domain', '--target', 'phish.example', '--host-domain', 'corp.example', '--reason', 'auto-triage'],
      { KEYDESK_ACTOR: 'agent:triage-bot' }
    );
    expect(run.json()).toMatchObject({ execution: { actor: 'agent:triage-bot (cli)', actorKind: 'agent' } });
  });

  it('bad run input exits 2, calls no provider and records nothing', async () => {
    for (const args of [
      ['run', 'block_email_domain', '--target', 'not_a_domain!', '--host-domain', 'corp.example', '--reason', 'x'],
      ['run', 'block_sender', '--target', 'a@@b', '--host-email', 'ceo@corp.example', '--reason', 'x'],
      ['run', 'teleport', '--target', 'x', '--host-domain', 'corp.example', '--reason', 'x'],
      ['run', 'power', '--target', '1234', '--credential', 'Blocklist', '--reason', 'x'],
      ['run', 'block_email_domain', '--target', 'phish.example', '--host-domain', 'corp.example', '--reason', 'x', '--cutoff', 'forever'],
      ['executions', '--status', 'done'],
      ['executions', '--limit', '0'],
      ['revert', '%']
    ]) {
      const r = await kd(['--json', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.json()).toMatchObject({ error: { code: 'INPUT_INVALID' } });
    }
    expect(peer.control.requests).toHaveLength(0);
    expect((await kd(['--json', 'executions'])).json()).toEqual({ executions: [] });
  });

  it('a rejected token: the run waits, keydesk prompts shows it, and it ends expired past the cutoff', async () => {
    peer.blocklist.expire(token);
    const run = await kd([
      '--json',
      'run',
      'block_email_domain',
      '--target',
      'phish.example',
      '--host-domain',
      'corp.example',
      '--reason',
      'r'
    ]);
    expect(run.status).toBe(1);
    const v = run.json<{ execution: { id: string; status: string; deadline: string } }>().execution;
    expect(v.status).toBe('awaiting_reauth');
    const prompts = await kd(['--json', 'prompts']);
    expect(prompts.json()).toEqual({
      prompts: [
        expect.objectContaining({ credentialName: 'Blocklist', method: 'secret', waiting: [expect.objectContaining({ id: v.id })] })
      ]
    });
    expect((await kd(['prompts'])).stdout).toContain('keydesk reauth "Blocklist" --secrets-from FILE');

    // Another run, left alone past its 2 s cutoff: the CLI's clock moves past the deadline (no waiting in real time).
    const short = await kd([
      '--json',
      'run',
      'block_email_domain',
      '--target',
      'other.example',
      '--host-domain',
      'corp.example',
      '--reason',
      'r',
      '--cutoff',
      '2s'
    ]);
    const s = short.json<{ execution: { id: string; status: string; deadline: string } }>().execution;
    expect(s.status).toBe('awaiting_reauth');
    clock.passDeadline(s.deadline);
    expect((await kd(['--json', 'executions', s.id])).json()).toMatchObject({ execution: { status: 'expired_awaiting_reauth' } });
    // The prompt now lists only the run that still waits.
    expect((await kd(['--json', 'prompts'])).json()).toEqual({
      prompts: [expect.objectContaining({ waiting: [expect.objectContaining({ id: v.id })] })]
    });
    // The next unlock writes it, with its audit entry.
    await kd(['bindings', '--verify']);
    expect((await kd(['--json', 'executions', s.id])).json()).toMatchObject({
      execution: { status: 'expired_awaiting_reauth', statusRecorded: true }
    });
    expect(posts()).toBe(1); // the first run's; the credential was expired by then, so the second made no call
  });
});

describe('security: the credential’s secret never reaches CLI output, step logs, results, errors or the audit log', () => {
  it('canary token through a run the provider rejects while echoing the token, a success and a revert', async () => {
    const canary = `blk_CANARY_${Date.now()}_9f8e7d6c5b4a39281706`;
    peer.blocklist.addToken({ token: canary });
    const setup = tv.reopen();
    await setup.vault.unlock();
    setup.credentials.update('Blocklist', { values: { token: canary } });
    await setup.close();
    peer.blocklist.echoSecrets = true;
    peer.blocklist.expire(canary);
    const outputs: string[] = [];
    const run = async (args: string[]) => {
      const r = await kd(args);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    await run(['bind', 'Blocklist', 'corp.example']);
    const waiting = await run([
      '--json',
      'run',
      'block_email_domain',
      '--target',
      'phish.example',
      '--host-domain',
      'corp.example',
      '--reason',
      'r'
    ]);
    expect(waiting.json()).toMatchObject({ execution: { status: 'awaiting_reauth', error: { code: 'token_expired' } } });
    expect(waiting.stdout).toContain('[redacted]'); // the provider did quote it, and it was scrubbed
    peer.blocklist.addToken({ token: canary }); // valid again
    const s = await kd(['--vault', tv.path, 'show', 'Blocklist']);
    expect(s.status).toBe(0);
    const app = tv.reopen();
    await app.vault.unlock();
    app.credentials.recordHealth('Blocklist', { status: 'ok', lastError: null, checkedAt: new Date().toISOString() });
    const report = await app.executions.resumeWaiting('Blocklist');
    expect(report.resumed[0]?.status).toBe('succeeded');
    await app.close();
    const id = report.resumed[0]!.id;
    await run(['executions', id]);
    await run(['--json', 'executions']);
    await run(['--json', 'revert', id]);
    await run(['prompts']);
    await run(['--json', 'audit', 'export']);
    for (const out of outputs) expect(containsAnyEncoding(out, canary)).toBeNull();
    // Nothing in the vault file outside the encrypted payload either.
    expect(containsAnyEncoding(vaultFilesBytes(tv.path), canary)).toBeNull();
  });
});
