import type { ChannelInput } from '../../../preload/contract.ts';

type AddInput = ChannelInput<'credentials.add'>;

/** A Hostinger API-token credential to add in a test: `values` and `more` override the defaults. */
export function hostinger(name: string, values: Record<string, string> = {}, more: Partial<AddInput> = {}): AddInput {
  return { name, provider: 'hostinger', mode: 'api_token', values: { api_token: 'abcdefghijklmnop1', ...values }, ...more };
}
