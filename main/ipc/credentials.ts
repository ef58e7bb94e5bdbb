import type { CredentialView, credentialChannels } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';
import type { AppSession } from '../shell/session.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';
import type { DomainHandlers } from './dispatch.ts';

/** A stored credential as the window gets it: the one credential view (main/credentials/view.ts). */
export function credentialViewOf(session: AppSession, c: CredentialSummary): CredentialView {
  return session.app().credentials.view(c, session.clock.now());
}

export function credentialHandlers(session: AppSession): DomainHandlers<typeof credentialChannels> {
  const view = (c: CredentialSummary) => credentialViewOf(session, c);
  return {
    'credentials.list': () => session.app().credentials.list().map(view),
    'credentials.get': (i) => view(session.app().credentials.get(i.id)),
    'credentials.add': (i) =>
      view(
        session
          .app()
          .credentials.add({ name: i.name, provider: i.provider, mode: i.mode, values: i.values, expiresAt: i.expiresAt ?? null })
      ),
    'credentials.update': (i) => {
      if ((i.values === undefined || Object.keys(i.values).length === 0) && i.expiresAt === undefined) {
        throw new KeydeskError('INPUT_INVALID', 'Nothing to change: give new field values or an expiry date.');
      }
      return view(
        session.app().credentials.update(i.id, {
          ...(i.values ? { values: i.values } : {}),
          ...(i.expiresAt !== undefined ? { expiresAt: i.expiresAt } : {})
        })
      );
    },
    'credentials.rename': (i) => view(session.app().credentials.rename(i.id, i.name)),
    'credentials.rotate': async (i) => view((await session.app().validation.rotateWithSecrets(i.id, i.values)).credential),
    'credentials.remove': (i) => {
      const r = session.app().credentials.remove(i.id);
      return { id: r.id, name: r.name };
    }
  };
}
