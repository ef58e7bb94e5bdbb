import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ChannelInput } from '../../../preload/contract.ts';
import { call } from './client.ts';
import { keys } from './keys.ts';

export function useVaultStatus() {
  return useQuery({ queryKey: keys.vault, queryFn: () => call('vault.status') });
}

export function useProviders() {
  return useQuery({ queryKey: keys.providers, queryFn: () => call('providers.list'), staleTime: Number.POSITIVE_INFINITY });
}

export function useCredentials(enabled = true) {
  return useQuery({ queryKey: keys.credentials, queryFn: () => call('credentials.list'), enabled });
}

export function useCredential(id: string) {
  return useQuery({ queryKey: keys.credential(id), queryFn: () => call('credentials.get', { id }) });
}

export function useAudit(credentialId?: string, limit = 200) {
  return useQuery({ queryKey: keys.audit(credentialId), queryFn: () => call('audit.list', credentialId ? { credentialId, limit } : { limit }) });
}

/** After any write: the vault counts, the credential list and the audit log are stale. */
function useInvalidateAll() {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'providers' });
}

export function useCreateVault() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'vault.create'>) => call('vault.create', i), onSuccess: invalidate });
}

export function useUnlock() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (passphrase?: string) => call('vault.unlock', passphrase === undefined ? {} : { passphrase }), onSuccess: invalidate });
}

export function useLock() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: () => call('vault.lock'), onSuccess: invalidate });
}

export function useAddCredential() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'credentials.add'>) => call('credentials.add', i), onSuccess: invalidate });
}

export function useUpdateCredential() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: async (i: { id: string; name?: string; update?: Omit<ChannelInput<'credentials.update'>, 'id'> }) => {
      let result = i.name !== undefined ? await call('credentials.rename', { id: i.id, name: i.name }) : null;
      if (i.update) result = await call('credentials.update', { id: i.id, ...i.update });
      return result;
    },
    onSettled: invalidate
  });
}

export function useRemoveCredential() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (id: string) => call('credentials.remove', { id }), onSuccess: invalidate });
}

export function useVerifyAudit() {
  return useMutation({ mutationFn: () => call('audit.verify') });
}
