import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { startKeydesk } from '#keydesk';
import { renderHookInWindow } from '../testing/render.tsx';
import { useValidationProgress } from './events.ts';
import { useCapabilities, useCredentials, useExecutions, useProviders, useVaultStatus } from './queries.ts';

// The window never polls its queries (staleTime 30 s, no refetch interval on these): what changes under it reaches it
// as main's events, which useKeydeskEvents (mounted as in App) turns into refreshes.

const hostinger = (name: string, token: string) => ({ name, provider: 'hostinger', mode: 'api_token', values: { api_token: token } });

describe('main’s events refresh the hooks without a reload', () => {
  it('vault.changed: a credential the app adds by itself (not from the window) appears in the list', async () => {
    const kd = await startKeydesk();
    const h = renderHookInWindow(() => useCredentials());
    await waitFor(() => expect(h.result.current.data).toEqual([]));
    await kd.call('credentials.add', hostinger('Added by the app', `tok_${kd.canary}`));
    await waitFor(() => expect(h.result.current.data?.map((c) => c.name)).toEqual(['Added by the app']));
    expect(kd.events.map((e) => e.name)).toContain('vault.changed');
  });

  it('vault.changed: a credential added by the CLI in another process appears once main notices the write', async () => {
    const kd = await startKeydesk();
    const h = renderHookInWindow(() => ({ status: useVaultStatus(), list: useCredentials() }));
    await waitFor(() => expect(h.result.current.list.data).toEqual([]));
    await kd.addFromCli(hostinger('Added from the CLI', `tok_${kd.canary}`));
    // Another process's write makes no event of its own: main's poll of the audit head finds it.
    expect(kd.events.filter((e) => e.name === 'vault.changed')).toEqual([]);
    kd.poll();
    await waitFor(() => expect(h.result.current.list.data?.map((c) => c.name)).toEqual(['Added from the CLI']));
    await waitFor(() => expect(h.result.current.status.data?.credentials).toBe(1));
  });

  it('vault.lock: a lock from outside the window (auto-lock) refreshes everything but the static catalogs', async () => {
    const kd = await startKeydesk();
    const h = renderHookInWindow(() => ({
      status: useVaultStatus(),
      list: useCredentials(),
      providers: useProviders(),
      caps: useCapabilities()
    }));
    await waitFor(() => {
      expect(h.result.current.status.data?.state).toBe('unlocked');
      expect(h.result.current.list.isSuccess && h.result.current.providers.isSuccess && h.result.current.caps.isSuccess).toBe(true);
    });
    const before = kd.calls.length;
    await kd.lockFromOutside();
    await waitFor(() => expect(h.result.current.status.data?.state).toBe('locked'));
    await waitFor(() => expect(kd.calls.slice(before)).toContain('credentials.list'));
    expect(kd.calls.slice(before)).not.toContain('providers.list');
    expect(kd.calls.slice(before)).not.toContain('executions.capabilities');
  });

  it('execution.changed: a run started outside the window shows in the executions hook with its outcome', async () => {
    const kd = await startKeydesk();
    const c = await kd.call('credentials.add', {
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      // Nothing listens there: the run fails at once, without a provider to stand up.
      values: { token: `tok_${kd.canary}`, blocklist_url: 'https://127.0.0.1:9' }
    });
    await kd.call('bindings.bind', { credentialId: c.id, domain: 'corp.example' });
    const h = renderHookInWindow(() => useExecutions());
    await waitFor(() => expect(h.result.current.data).toEqual([]));
    await kd.call('executions.run', {
      capability: 'block_email_domain',
      target: 'evil.example',
      hostDomain: 'corp.example',
      reason: 'INC-7'
    });
    await waitFor(() =>
      expect(h.result.current.data?.map((r) => [r.capability, r.target, r.status, r.failureReason])).toEqual([
        ['block_email_domain', 'evil.example', 'failed', 'cloud_api_error']
      ])
    );
    expect(kd.events.filter((e) => e.name === 'execution.changed').length).toBeGreaterThanOrEqual(2);
  });

  it('validation.progress: the progress hook shows the latest stage, and the list the credential’s new status', async () => {
    const kd = await startKeydesk();
    const c = await kd.call('credentials.add', {
      ...hostinger('VPS', `tok_${kd.canary}`),
      values: { api_token: `tok_${kd.canary}`, api_base_url: 'https://127.0.0.1:9' }
    });
    const h = renderHookInWindow(() => ({ progress: useValidationProgress(), list: useCredentials() }));
    await waitFor(() => expect(h.result.current.list.data?.[0]?.status).toBe('unknown'));
    await act(() => kd.call('validation.validate', { credentialId: c.id }));
    await waitFor(() =>
      expect(h.result.current.progress).toMatchObject({
        total: 1,
        done: 1,
        finished: true,
        credential: { name: 'VPS', status: 'unknown', errorCode: 'PROVIDER_UNREACHABLE' }
      })
    );
    await waitFor(() => expect(h.result.current.list.data?.[0]?.lastError?.code).toBe('PROVIDER_UNREACHABLE'));
  });
});
