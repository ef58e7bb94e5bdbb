import { KeydeskError } from '../errors.ts';

/** The OS keychain, narrowed to what Keydesk stores there (per-vault KEKs and the audit anchor). */
export interface KeychainClient {
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

export const KEYCHAIN_SERVICE = 'Keydesk';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

const UNAVAILABLE_HINT =
  process.platform === 'linux'
    ? 'Keydesk needs a running Secret Service (GNOME Keyring or KWallet) on the D-Bus session bus. Use a passphrase vault (keydesk init --key-source passphrase) on machines without one.'
    : 'Use a passphrase vault (keydesk init --key-source passphrase) on machines without a keychain.';

/** Maps keytar/libsecret failures to Keydesk errors. Messages carry no key material (keytar's never do either). */
export function classifyKeychainError(e: unknown): KeydeskError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/locked collection|collection\/login|No such secret collection|prompt|dismissed/i.test(msg)) {
    return new KeydeskError(
      'KEYCHAIN_LOCKED',
      'The OS keychain is locked (or has no default keyring). Unlock it — usually by logging in to the desktop session — and try again.',
      { cause: e }
    );
  }
  return new KeydeskError('KEYCHAIN_UNAVAILABLE', `The OS keychain is not available. ${UNAVAILABLE_HINT}`, { cause: e });
}

let keytarModule: Promise<Keytar> | null = null;

async function loadKeytar(): Promise<Keytar> {
  keytarModule ??= import('keytar').then((m) => (m as unknown as { default?: Keytar }).default ?? (m as unknown as Keytar));
  try {
    return await keytarModule;
  } catch (e) {
    keytarModule = null;
    throw new KeydeskError('KEYCHAIN_UNAVAILABLE', `The keychain module could not load. ${UNAVAILABLE_HINT}`, { cause: e });
  }
}

const PROBE_ACCOUNT = 'keydesk-probe';

/** The real OS keychain through keytar (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows). */
export function osKeychain(service: string = KEYCHAIN_SERVICE): KeychainClient {
  return {
    async get(account) {
      const kt = await loadKeytar();
      let value: string | null;
      try {
        value = await kt.getPassword(service, account);
      } catch (e) {
        throw classifyKeychainError(e);
      }
      if (value !== null) return value;
      // libsecret answers "nothing" both for a missing item and for a locked collection. A write tells them apart:
      // a locked (or absent) collection refuses it.
      try {
        await kt.setPassword(service, PROBE_ACCOUNT, 'probe');
        await kt.deletePassword(service, PROBE_ACCOUNT);
      } catch (e) {
        throw classifyKeychainError(e);
      }
      return null;
    },
    async set(account, value) {
      const kt = await loadKeytar();
      try {
        await kt.setPassword(service, account, value);
      } catch (e) {
        throw classifyKeychainError(e);
      }
    },
    async delete(account) {
      const kt = await loadKeytar();
      try {
        return await kt.deletePassword(service, account);
      } catch (e) {
        throw classifyKeychainError(e);
      }
    }
  };
}

export const keychainAccounts = {
  kek: (vaultId: string, version: number) => `vault/${vaultId}/kek/v${version}`,
  auditAnchor: (vaultId: string) => `vault/${vaultId}/audit-head`
} as const;
