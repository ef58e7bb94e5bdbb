import type { oauthChannels } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';
import type { AppSession } from '../shell/session.ts';
import { credentialViewOf } from './credentials.ts';
import type { DomainHandlers } from './dispatch.ts';

/**
 * Sign-ins started from the window. The browser opens through the session's openExternal (the checked wrapper);
 * each flow can be cancelled from the window (`oauth.cancel`).
 */
export function oauthHandlers(session: AppSession): DomainHandlers<typeof oauthChannels> {
  const flows = new Set<AbortController>();
  const opener = () => {
    const open = session.config.openExternal;
    if (!open)
      throw new KeydeskError(
        'UNSUPPORTED',
        'This Keydesk process cannot open a browser for a sign-in. Use keydesk connect from a terminal.'
      );
    return open;
  };
  const withFlow = async <T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    flows.add(controller);
    try {
      return await run(controller.signal);
    } finally {
      flows.delete(controller);
    }
  };
  return {
    'oauth.connect': async (i) => {
      const openExternal = opener();
      await session.ensureUnlocked(i.passphrase);
      const c = await withFlow((signal) => session.app().oauth.connect(i.credentialId, { openExternal, signal }));
      return credentialViewOf(session, c);
    },
    'oauth.connectNew': async (i) => {
      const openExternal = opener();
      session.app().vault.requireUnlocked();
      const c = await withFlow((signal) =>
        session.app().oauth.connectNew({ name: i.name, provider: i.provider, mode: i.mode, values: i.values }, { openExternal, signal })
      );
      return credentialViewOf(session, c);
    },
    'oauth.cancel': () => {
      const n = flows.size;
      for (const f of flows) f.abort(new DOMException('Cancelled from the Keydesk window.', 'AbortError'));
      return { cancelled: n };
    }
  };
}
