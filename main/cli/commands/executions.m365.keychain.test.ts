import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEntraPeer, type EntraApp, type EntraPeer } from '../../../e2e/peers/entra.ts';
import { startExchangePeer, type ExchangePeer } from '../../../e2e/peers/exchange.ts';
import { installGraphActions, type GraphActions } from '../../../e2e/peers/graph-actions.ts';
import { startGraphPeer, type GraphPeer, type GraphTenant } from '../../../e2e/peers/graph.ts';
import { trustTestCa } from '../../../e2e/peers/tls.ts';
import { runCli } from '../../testing/cli.ts';
import { keychainVault, movableClock, type TempVault } from '../../testing/fixtures.ts';

/**
 * Issue 5's "Done when", from the CLI, as separate `keydesk` commands (in this process, each with its own vault handle)
 * against the peers: an analyst binds corp.example to a Microsoft 365 credential, runs disable_user for
 * alice@corp.example and sees it succeed and revert; with the credential's secret expired, the same run waits in
 * awaiting_reauth, `keydesk prompts` shows it, `keydesk reauth` resumes it to succeeded; left alone past the cutoff (the
 * CLI's clock is moved past it) it ends expired_awaiting_reauth. This process trusts the Entra peer's CA as if it were in
 * the OS store; main/providers/azure/extra-ca.cli.test.ts checks the real binary trusting it through NODE_EXTRA_CA_CERTS.
 */

let entra: EntraPeer;
let graph: GraphPeer;
let actions: GraphActions;
let exchange: ExchangePeer;
let gtenant: GraphTenant;
let entraApp: EntraApp;
let v: TempVault;
let restoreTrust: () => void;
const clock = movableClock();

beforeAll(async () => {
  entra = await startEntraPeer();
  graph = await startGraphPeer(entra);
  actions = installGraphActions(graph);
  exchange = await startExchangePeer(entra);
  entra.resources.add(graph.url);
  entra.resources.add(exchange.url);
  const tenant = entra.addTenant({ domains: ['corp.onmicrosoft.com', 'corp.example'] });
  gtenant = graph.addTenant({ id: tenant.id, displayName: 'Corp', domains: ['corp.example', 'corp.onmicrosoft.com'] });
  graph.addUser(tenant.id, { userPrincipalName: 'alice@corp.example' });
  graph.addUser(tenant.id, { userPrincipalName: 'bob@corp.example' });
  entraApp = entra.addApp(tenant.id, {
    roles: {
      [graph.url]: ['Directory.Read.All', 'User.ReadWrite.All', 'MailboxSettings.ReadWrite'],
      [exchange.url]: ['Exchange.ManageAsApp']
    }
  });
  v = await keychainVault();
  await v.app.close();
  restoreTrust = trustTestCa(entra.ca.certPem);
});
afterAll(async () => {
  restoreTrust?.();
  await v.cleanup();
  await Promise.all([entra.close(), graph.close(), exchange.close()]);
});

const kd = (args: string[], env: Record<string, string> = {}) => runCli(['--vault', v.path, '--json', ...args], { env, clock });
const user = (upn: string) => [...gtenant.users.values()].find((u) => u.userPrincipalName === upn)!;
const disables = (upn: string) => actions.calls.filter((c) => c.user === upn && c.what === 'accountEnabled=false').length;

interface Execution {
  id: string;
  status: string;
  deadline: string | null;
  credentialName: string;
  boundDomain: string | null;
}

describe('Done when: bind, disable_user, revert, wait for re-auth, resume, expire (CLI commands, --json)', () => {
  it('walks the whole lifecycle', async () => {
    // The analyst adds the credential (secret fields from a file, never argv) and binds the domain it protects.
    const secretsFile = join(v.dir, 'm365-secrets.json');
    writeFileSync(secretsFile, JSON.stringify({ client_id: entraApp.appId, client_secret: entra.addSecret(entraApp).value }));
    const added = await kd([
      'add',
      '--provider',
      'microsoft_365',
      '--mode',
      'client_secret',
      '--name',
      'Corp M365',
      '--secrets-from',
      secretsFile,
      '--field',
      'tenant_id=corp.onmicrosoft.com',
      '--field',
      `authority_host=${entra.url}`,
      '--field',
      `graph_endpoint=${graph.url}`,
      '--field',
      `exchange_endpoint=${exchange.url}`
    ]);
    expect(added.status, added.stdout + added.stderr).toBe(0);
    expect((await kd(['bind', 'Corp M365', 'corp.example'])).json()).toMatchObject({
      binding: { domain: 'corp.example', credentialName: 'Corp M365' }
    });

    // disable_user for alice: succeeds, then reverts.
    const ran = await kd(['run', 'disable_user', '--target', 'alice@corp.example', '--reason', 'BEC: mailbox rule exfiltration (INC-100)']);
    expect(ran.status, ran.stdout).toBe(0);
    const first = ran.json<{ execution: Execution }>().execution;
    expect(first).toMatchObject({ status: 'succeeded', credentialName: 'Corp M365', boundDomain: 'corp.example' });
    expect(user('alice@corp.example').accountEnabled).toBe(false);
    const reverted = await kd(['revert', first.id]);
    expect(reverted.status).toBe(0);
    expect(reverted.json()).toMatchObject({ execution: { id: first.id, status: 'reverted' } });
    expect(user('alice@corp.example').accountEnabled).toBe(true);

    // The client secret has expired: the same run waits for re-authentication, no Graph call.
    entra.setFault('expired');
    const waitingRun = await kd([
      'run',
      'disable_user',
      '--target',
      'alice@corp.example',
      '--reason',
      'BEC: mailbox rule exfiltration (INC-100)'
    ]);
    expect(waitingRun.status).toBe(1);
    const waiting = waitingRun.json<{ execution: Execution }>().execution;
    expect(waiting).toMatchObject({ status: 'awaiting_reauth', deadline: expect.any(String) });
    expect(disables('alice@corp.example')).toBe(1); // only the first run's

    const prompts = await kd(['prompts']);
    expect(prompts.status).toBe(0);
    expect(prompts.json()).toEqual({
      prompts: [
        expect.objectContaining({
          credentialName: 'Corp M365',
          method: 'secret',
          waiting: [expect.objectContaining({ id: waiting.id, capability: 'disable_user', target: 'alice@corp.example' })]
        })
      ]
    });

    // keydesk reauth with a new secret: it validates, and the waiting run resumes — same execution id, one disable.
    entra.setFault('none');
    const fresh = join(v.dir, 'new-secret.json');
    writeFileSync(fresh, JSON.stringify({ client_secret: entra.addSecret(entraApp).value }));
    const reauth = await kd(['reauth', 'Corp M365', '--secrets-from', fresh]);
    expect(reauth.status, reauth.stdout + reauth.stderr).toBe(0);
    const after = (await kd(['executions', waiting.id])).json<{ execution: Execution }>().execution;
    expect(after).toMatchObject({ id: waiting.id, status: 'succeeded' });
    expect(disables('alice@corp.example')).toBe(2);
    expect(user('alice@corp.example').accountEnabled).toBe(false);
    expect((await kd(['prompts'])).json()).toEqual({ prompts: [] });

    // Left alone past the cutoff (2 s here; 1 h by default), a waiting run ends expired_awaiting_reauth.
    entra.setFault('expired');
    const lonely = await kd(['run', 'disable_user', '--target', 'bob@corp.example', '--reason', 'INC-101'], {
      KEYDESK_REAUTH_CUTOFF: '2s'
    });
    const left = lonely.json<{ execution: Execution }>().execution;
    expect(left.status).toBe('awaiting_reauth');
    clock.passDeadline(left.deadline!);
    expect((await kd(['executions', left.id])).json()).toMatchObject({ execution: { id: left.id, status: 'expired_awaiting_reauth' } });
    expect((await kd(['prompts'])).json()).toEqual({ prompts: [] });
    expect(
      (await kd(['executions', '--status', 'expired_awaiting_reauth'])).json<{ executions: Execution[] }>().executions.map((e) => e.id)
    ).toEqual([left.id]);
    expect(disables('bob@corp.example')).toBe(0);
    entra.setFault('none');

    // Everything above is in the audit log, and the chain verifies.
    const verify = await kd(['audit', 'verify']);
    expect(verify.status, verify.stdout).toBe(0);
  });
});
