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
  return useQuery({
    queryKey: keys.audit(credentialId),
    queryFn: () => call('audit.list', credentialId ? { credentialId, limit } : { limit })
  });
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
  return useMutation({
    mutationFn: (passphrase?: string) => call('vault.unlock', passphrase === undefined ? {} : { passphrase }),
    onSuccess: invalidate
  });
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

/** Guided rotation: the new secret replaces the old one only once the provider accepts it (credentials.rotate). */
export function useRotateCredential() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'credentials.rotate'>) => call('credentials.rotate', i), onSettled: invalidate });
}

export function useRemoveCredential() {
  const invalidate = useInvalidateAll();
  // Not awaited: the caller leaves the deleted credential's page first, so the refresh does not ask for it again.
  return useMutation({ mutationFn: (id: string) => call('credentials.remove', { id }), onSuccess: () => void invalidate() });
}

export function useVerifyAudit() {
  return useMutation({ mutationFn: () => call('audit.verify') });
}

// ---- domain bindings ---------------------------------------------------------------------------

export function useBindings(credentialId?: string) {
  return useQuery({ queryKey: keys.bindings(credentialId), queryFn: () => call('bindings.list', credentialId ? { credentialId } : {}) });
}

export function useSuggestions(credentialId: string, enabled = true) {
  return useQuery({ queryKey: keys.suggestions(credentialId), queryFn: () => call('bindings.suggestions', { credentialId }), enabled });
}

export function useBind() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'bindings.bind'>) => call('bindings.bind', i), onSuccess: invalidate });
}

export function useUnbind() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'bindings.unbind'>) => call('bindings.unbind', i), onSuccess: invalidate });
}

export function useAcceptSuggestions() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: (i: ChannelInput<'bindings.acceptSuggestions'>) => call('bindings.acceptSuggestions', i),
    onSuccess: invalidate
  });
}

export function useResolvePreview() {
  return useMutation({ mutationFn: (i: ChannelInput<'bindings.resolve'>) => call('bindings.resolve', i) });
}

// ---- executions and re-auth prompts -------------------------------------------------------------

export function useCapabilities() {
  return useQuery({ queryKey: keys.capabilities, queryFn: () => call('executions.capabilities'), staleTime: Number.POSITIVE_INFINITY });
}

export function useExecutions(credentialId?: string, limit = 200) {
  return useQuery({
    queryKey: keys.executions(credentialId),
    queryFn: () => call('executions.list', credentialId ? { credentialId, limit } : { limit })
  });
}

export function useRun() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'executions.run'>) => call('executions.run', i), onSettled: invalidate });
}

export function useRevert() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'executions.revert'>) => call('executions.revert', i), onSettled: invalidate });
}

/** Which credential a resource capability would run with on `target` (null: nothing to ask yet). */
export function usePickCredential(capability: string, target: string | null) {
  return useQuery({
    queryKey: keys.pick(capability, target ?? ''),
    queryFn: () => call('executions.pickCredential', { capability, target: target ?? '' }),
    enabled: target !== null,
    retry: false,
    staleTime: 5_000
  });
}

export function usePrompts() {
  return useQuery({ queryKey: keys.prompts, queryFn: () => call('prompts.list'), refetchInterval: 30_000 });
}

export function useReauthWithSecrets() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: (i: ChannelInput<'prompts.reauthWithSecrets'>) => call('prompts.reauthWithSecrets', i),
    onSettled: invalidate
  });
}

// ---- OAuth sign-in ------------------------------------------------------------------------------

export function useOAuthConnect() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'oauth.connect'>) => call('oauth.connect', i), onSettled: invalidate });
}

export function useOAuthConnectNew() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (i: ChannelInput<'oauth.connectNew'>) => call('oauth.connectNew', i), onSettled: invalidate });
}

export function useOAuthCancel() {
  return useMutation({ mutationFn: () => call('oauth.cancel') });
}

// ---- validation ---------------------------------------------------------------------------------

export function useValidate() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: (credentialId: string) => call('validation.validate', { credentialId }), onSettled: invalidate });
}

export function useValidateAll() {
  const invalidate = useInvalidateAll();
  return useMutation({ mutationFn: () => call('validation.validateAll'), onSettled: invalidate });
}

export function useCancelValidation() {
  return useMutation({ mutationFn: () => call('validation.cancel') });
}
