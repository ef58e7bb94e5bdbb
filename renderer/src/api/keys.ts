/** react-query keys, in one place so events can invalidate exactly what changed. */
export const keys = {
  vault: ['vault'] as const,
  providers: ['providers'] as const,
  credentials: ['credentials'] as const,
  credential: (id: string) => ['credentials', id] as const,
  audit: (credentialId?: string) => (credentialId ? (['audit', credentialId] as const) : (['audit'] as const))
};
