import type { BindingView, ResolutionView, bindingChannels } from '../../preload/contract.ts';
import type { BindingView as ServiceBinding, Resolution } from '../routing/service.ts';
import type { AppSession } from '../shell/session.ts';
import type { DomainHandlers } from './dispatch.ts';

function bindingView(b: ServiceBinding): BindingView {
  return {
    id: b.id,
    credentialId: b.credentialId,
    credentialName: b.credentialName,
    provider: b.provider,
    mode: b.mode,
    domain: b.domain,
    domainDisplay: b.domainDisplay,
    subdomains: b.subdomains,
    createdAt: b.createdAt,
    intact: b.intact
  };
}

function resolutionView(r: Resolution): ResolutionView {
  return {
    capability: r.capability,
    host: { kind: r.host.kind, value: r.host.value, domain: r.host.domain },
    credentialId: r.credentialId,
    credentialName: r.credentialName,
    provider: r.provider,
    mode: r.mode,
    bindingId: r.bindingId,
    domain: r.domain,
    subdomains: r.subdomains,
    matched: r.matched,
    verified: r.verified
  };
}

export function bindingHandlers(session: AppSession): DomainHandlers<typeof bindingChannels> {
  const routing = () => session.app().routing;
  return {
    'bindings.list': (i) =>
      routing()
        .list(i?.credentialId ? { credential: i.credentialId } : {})
        .map(bindingView),
    'bindings.bind': (i) => {
      const b = routing().bind(i.credentialId, i.domain, { subdomains: i.subdomains ?? false });
      return { ...bindingView(b), change: b.change };
    },
    'bindings.unbind': (i) => {
      const r = routing().unbind(i.credentialId, i.domain);
      return { id: r.id, credentialName: r.credentialName, domain: r.domain };
    },
    'bindings.suggestions': (i) => routing().suggestions(i.credentialId),
    'bindings.acceptSuggestions': (i) =>
      routing()
        .acceptSuggestions(i.credentialId, { subdomains: i.subdomains ?? false, ...(i.domains ? { only: i.domains } : {}) })
        .map(bindingView),
    // Unlocked: verified against the MACs, as an action would be. Locked: an offline preview that says it is unverified.
    'bindings.resolve': (i) =>
      resolutionView(
        routing().resolve(
          i.capability,
          { hostEmail: i.hostEmail ?? null, hostDomain: i.hostDomain ?? null },
          { verify: session.isUnlocked() }
        )
      )
  };
}
