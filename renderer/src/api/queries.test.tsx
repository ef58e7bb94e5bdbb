import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { TEST_PASSPHRASE, startKeydesk } from '#keydesk';
import { renderHookInWindow } from '../testing/render.tsx';
import { CallError } from './client.ts';
import {
  useAddCredential,
  useCapabilities,
  useCreateVault,
  useCredential,
  useCredentials,
  useRemoveCredential,
  useUnlock,
  useUpdateCredential,
  useVaultStatus
} from './queries.ts';

const hostinger = (name: string, token: string) => ({ name, provider: 'hostinger', mode: 'api_token', values: { api_token: token } });

/** The CallError a hook ended with (a query's or a mutation's `error`). */
function callError(e: unknown): CallError {
  expect(e).toBeInstanceOf(CallError);
  return e as CallError;
}

describe('query hooks: what main answers, and its errors as the contract gives them', () => {
  it('useCredentials lists what the vault holds, with no secret in the answer', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', hostinger('VPS main', `tok_${kd.canary}`));
    const h = renderHookInWindow(() => useCredentials());
    await waitFor(() => expect(h.result.current.isSuccess).toBe(true));
    expect(h.result.current.data?.map((c) => [c.name, c.provider, c.status, c.secretsSet])).toEqual([
      ['VPS main', 'hostinger', 'unknown', ['api_token']]
    ]);
  });

  it('on first run the list hook fails with VAULT_NOT_FOUND and main’s message', async () => {
    await startKeydesk({ vault: 'none' });
    const h = renderHookInWindow(() => ({ status: useVaultStatus(), list: useCredentials() }));
    await waitFor(() => expect(h.result.current.list.isError).toBe(true));
    const e = callError(h.result.current.list.error);
    expect(e.code).toBe('VAULT_NOT_FOUND');
    expect(e.message).toBe('There is no vault yet. Create one first (the first-run screen, or keydesk init).');
    expect(h.result.current.status.data?.state).toBe('missing');
  });

  it('useCredential of a credential that is not there fails with NOT_FOUND, once (no retries)', async () => {
    const kd = await startKeydesk();
    const h = renderHookInWindow(() => useCredential('3f2504e0-4f89-41d3-9a0c-0305e82c3301'));
    await waitFor(() => expect(h.result.current.isError).toBe(true));
    expect(callError(h.result.current.error).code).toBe('NOT_FOUND');
    expect(kd.calls.filter((c) => c === 'credentials.get')).toEqual(['credentials.get']);
  });

  it('useCapabilities answers the catalog with each capability’s label', async () => {
    const kd = await startKeydesk();
    const h = renderHookInWindow(() => useCapabilities());
    await waitFor(() => expect(h.result.current.isSuccess).toBe(true));
    expect(h.result.current.data).toEqual(await kd.call('executions.capabilities'));
    expect(h.result.current.data?.find((c) => c.id === 'disable_user')).toMatchObject({ label: 'Disable a user', tenant: true });
  });
});

describe('mutation hooks: a write, then what the window shows', () => {
  it('useCreateVault on first run: the status turns unlocked and the empty list loads', async () => {
    await startKeydesk({ vault: 'none' });
    const h = renderHookInWindow(() => ({ status: useVaultStatus(), create: useCreateVault() }));
    await waitFor(() => expect(h.result.current.status.data?.state).toBe('missing'));
    act(() => h.result.current.create.mutate({ keySource: 'keychain' }));
    await waitFor(() => expect(h.result.current.status.data?.state).toBe('unlocked'));
    expect(h.result.current.status.data?.keySource).toBe('keychain');
  });

  it('useAddCredential: the list and the vault’s count show the new credential', async () => {
    const kd = await startKeydesk();
    const h = renderHookInWindow(() => ({ status: useVaultStatus(), list: useCredentials(), add: useAddCredential() }));
    await waitFor(() => expect(h.result.current.list.data).toEqual([]));
    act(() => h.result.current.add.mutate(hostinger('VPS main', `tok_${kd.canary}`)));
    await waitFor(() => expect(h.result.current.list.data?.map((c) => c.name)).toEqual(['VPS main']));
    await waitFor(() => expect(h.result.current.status.data?.credentials).toBe(1));
    expect(kd.storedSecret('VPS main', 'api_token')).toBe(`tok_${kd.canary}`);
  });

  it('useAddCredential on a locked vault fails with VAULT_LOCKED and stores nothing', async () => {
    const kd = await startKeydesk({ locked: true });
    const h = renderHookInWindow(() => useAddCredential());
    act(() => h.result.current.mutate(hostinger('VPS main', `tok_${kd.canary}`)));
    await waitFor(() => expect(h.result.current.isError).toBe(true));
    expect(callError(h.result.current.error).code).toBe('VAULT_LOCKED');
    expect(await kd.call('credentials.list')).toEqual([]);
  });

  it('useUpdateCredential renames and replaces a secret in one gesture', async () => {
    const kd = await startKeydesk();
    const c = await kd.call('credentials.add', hostinger('VPS', 'abcdefghijklmnop1'));
    const h = renderHookInWindow(() => ({ list: useCredentials(), update: useUpdateCredential() }));
    await waitFor(() => expect(h.result.current.list.isSuccess).toBe(true));
    act(() => h.result.current.update.mutate({ id: c.id, name: 'VPS main', update: { values: { api_token: `new_${kd.canary}` } } }));
    await waitFor(() => expect(h.result.current.update.isSuccess).toBe(true));
    expect(kd.calls.filter((x) => x.startsWith('credentials.') && x !== 'credentials.list')).toEqual([
      'credentials.rename',
      'credentials.update'
    ]);
    await waitFor(() => expect(h.result.current.list.data?.map((x) => x.name)).toEqual(['VPS main']));
    expect(kd.storedSecret('VPS main', 'api_token')).toBe(`new_${kd.canary}`);
  });

  it('useUpdateCredential: when the update is refused after the rename, the rename stays and the list shows it', async () => {
    const kd = await startKeydesk();
    const c = await kd.call('credentials.add', hostinger('VPS', 'abcdefghijklmnop1'));
    const h = renderHookInWindow(() => ({ list: useCredentials(), update: useUpdateCredential() }));
    await waitFor(() => expect(h.result.current.list.isSuccess).toBe(true));
    act(() => h.result.current.update.mutate({ id: c.id, name: 'VPS main', update: { values: { api_base_url: 'ftp://api.example' } } }));
    await waitFor(() => expect(h.result.current.update.isError).toBe(true));
    const e = callError(h.result.current.update.error);
    expect(e.code).toBe('INPUT_INVALID');
    expect(Object.keys(e.fields)).toContain('api_base_url');
    await waitFor(() => expect(h.result.current.list.data?.map((x) => x.name)).toEqual(['VPS main']));
    expect(kd.storedSecret('VPS main', 'api_token')).toBe('abcdefghijklmnop1');
  });

  it('useRemoveCredential: the list no longer shows it', async () => {
    const kd = await startKeydesk();
    const c = await kd.call('credentials.add', hostinger('VPS', 'abcdefghijklmnop1'));
    const h = renderHookInWindow(() => ({ list: useCredentials(), remove: useRemoveCredential() }));
    await waitFor(() => expect(h.result.current.list.data).toHaveLength(1));
    act(() => h.result.current.remove.mutate(c.id));
    await waitFor(() => expect(h.result.current.list.data).toEqual([]));
    expect(kd.auditActions().at(-1)).toBe('credential.remove');
  });

  it('useUnlock on a passphrase vault: a wrong passphrase is WRONG_PASSPHRASE and it stays locked; the right one unlocks', async () => {
    await startKeydesk({ vault: 'passphrase', locked: true });
    const h = renderHookInWindow(() => ({ status: useVaultStatus(), unlock: useUnlock() }));
    await waitFor(() => expect(h.result.current.status.data?.state).toBe('locked'));
    act(() => h.result.current.unlock.mutate('not the passphrase'));
    await waitFor(() => expect(h.result.current.unlock.isError).toBe(true));
    expect(callError(h.result.current.unlock.error).code).toBe('WRONG_PASSPHRASE');
    expect(h.result.current.status.data?.state).toBe('locked');
    act(() => h.result.current.unlock.mutate(TEST_PASSPHRASE));
    await waitFor(() => expect(h.result.current.status.data?.state).toBe('unlocked'));
  });
});
