import type { ResourcePickView } from '../../preload/contract.ts';
import type { CredentialService } from '../credentials/service.ts';
import { KeydeskError } from '../errors.ts';
import type { CapabilityId } from '../providers/capabilities.ts';
import type { CapabilityHandler } from '../providers/plugin.ts';
import { printable } from '../text.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';

export type { ResourcePickView };

/**
 * Routing a resource capability (isolate, block_ip, power) that names no credential: the one credential that can run
 * it and acts in the account / project / subscription the target names. A target that names none (a bare EC2 instance
 * id) goes to the one credential of a provider that accepts its shape. None, or more than one, is refused with the
 * candidates named, as domain bindings are: Keydesk never guesses which cloud account a response action lands in.
 *
 * The credential's account comes from its readable fields where they say (a role ARN, a subscription id: covered by
 * the header MAC) and otherwise from what validation observed; the pick is shown before Run and recorded as a step.
 */
export async function pickResourceCredential(
  credentials: CredentialService,
  capability: CapabilityId,
  target: string
): Promise<ResourcePickView> {
  const registry = credentials.registry;
  const capable = credentials.list().filter((c) => registry.supports(c.provider, c.mode, capability));
  const handlers = new Map<string, CapabilityHandler | null>();
  const accepting: CredentialSummary[] = [];
  for (const c of capable) {
    if (!handlers.has(c.provider)) handlers.set(c.provider, (await registry.capabilityHandlers(c.provider))[capability] ?? null);
    const h = handlers.get(c.provider);
    if (h && !h.checkInput?.({ capability, target, host: null, reason: '-', scope: null, options: {} }, { mode: c.mode }))
      accepting.push(c);
  }
  const label = (c: CredentialSummary) => `"${printable(c.name)}" (${c.provider}/${c.mode})`;
  if (accepting.length === 0) {
    throw new KeydeskError(
      'NO_BINDING',
      capable.length === 0
        ? `No credential can run ${capability}: add an AWS, Google Cloud or Azure credential (or one whose provider can), then run again.`
        : `None of the credentials that can run ${capability} (${capable.map(label).join(', ')}) takes a target like "${printable(target)}". Check the target's format, or name the credential (--credential).`
    );
  }
  const provider = accepting[0]!.provider;
  const account = accepting.every((c) => c.provider === provider) ? (registry.spec(provider).accounts?.ofTarget(target) ?? null) : null;
  const accountOf = (c: CredentialSummary): string | null => {
    const accounts = registry.spec(c.provider).accounts;
    if (!accounts) return null;
    const seen = c.observed.identity;
    return accounts.ofCredential(c.metadata, seen && typeof seen === 'object' ? (seen as Record<string, string>) : {});
  };
  const matching = account === null ? accepting : accepting.filter((c) => accountOf(c) === account);
  const pick = (c: CredentialSummary, why: string): ResourcePickView => ({
    credentialId: c.id,
    credentialName: c.name,
    provider: c.provider,
    mode: c.mode,
    status: c.status,
    account,
    why
  });
  if (matching.length === 1) {
    const c = matching[0]!;
    return pick(
      c,
      account === null ? `the only ${c.provider} credential that can run ${capability}` : `the only ${c.provider} credential for ${account}`
    );
  }
  if (matching.length === 0) {
    const unknown = accepting.filter((c) => accountOf(c) === null);
    throw new KeydeskError(
      'NO_BINDING',
      `No credential that can run ${capability} acts in ${account}: ${accepting.map((c) => `${label(c)} is ${accountOf(c) ?? 'of an unknown account'}`).join(', ')}.${unknown.length ? ' Validate the credentials whose account is unknown, or name one (--credential).' : ' Add a credential for that account, or name one (--credential).'}`
    );
  }
  throw new KeydeskError(
    'AMBIGUOUS_BINDING',
    `${matching.length} credentials can run ${capability} on ${printable(target)}${account ? ` (${account})` : ''}: ${matching.map(label).join(', ')}. Name the one to use (--credential).`
  );
}
