/** react-query keys, in one place so events can invalidate exactly what changed. */
export const keys = {
  vault: ['vault'] as const,
  providers: ['providers'] as const,
  credentials: ['credentials'] as const,
  credential: (id: string) => ['credentials', id] as const,
  audit: (credentialId?: string) => (credentialId ? (['audit', credentialId] as const) : (['audit'] as const)),
  bindings: (credentialId?: string) => (credentialId ? (['bindings', credentialId] as const) : (['bindings'] as const)),
  suggestions: (credentialId: string) => ['suggestions', credentialId] as const,
  executions: (credentialId?: string) => (credentialId ? (['executions', credentialId] as const) : (['executions'] as const)),
  execution: (id: string) => ['execution', id] as const,
  capabilities: ['capabilities'] as const,
  /** Under credentials: a credential added, removed or re-checked changes which one a target picks. */
  pick: (capability: string, target: string) => ['credentials', 'pick', capability, target] as const,
  prompts: ['prompts'] as const
};
