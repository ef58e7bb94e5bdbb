import type { bindingChannels } from '../../preload/contract.ts';
import type { AppSession } from '../shell/session.ts';
import type { DomainHandlers } from './dispatch.ts';

export function bindingHandlers(session: AppSession): DomainHandlers<typeof bindingChannels> {
  const routing = () => session.app().routing;
  return {
    'bindings.list': (i) => routing().list(i?.credentialId ? { credential: i.credentialId } : {}),
    'bindings.bind': (i) => routing().bind(i.credentialId, i.domain, { subdomains: i.subdomains ?? false }),
    'bindings.unbind': (i) => {
      const r = routing().unbind(i.credentialId, i.domain);
      return { id: r.id, credentialName: r.credentialName, domain: r.domain };
    },
    'bindings.suggestions': (i) => routing().suggestions(i.credentialId),
    'bindings.acceptSuggestions': (i) =>
      routing().acceptSuggestions(i.credentialId, { subdomains: i.subdomains ?? false, ...(i.domains ? { only: i.domains } : {}) }),
    // Unlocked: verified against the MACs, as an action would be. Locked: an offline preview that says it is unverified.
    'bindings.resolve': (i) =>
      routing().resolve(
        i.capability,
        { hostEmail: i.hostEmail ?? null, hostDomain: i.hostDomain ?? null },
        { verify: session.isUnlocked() }
      )
  };
}
