import { X509Certificate } from 'node:crypto';
import { getCACertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { mergeCaLists, trustSystemStore } from './trust.ts';

describe('provider calls trust the OS trust store as well as Node’s roots and NODE_EXTRA_CA_CERTS', () => {
  it('mergeCaLists keeps every certificate of both lists once, defaults first', () => {
    expect(mergeCaLists(['a', 'b'], ['b', 'c'])).toEqual(['a', 'b', 'c']);
  });

  it('sets Node’s default trust to the defaults (bundled roots + NODE_EXTRA_CA_CERTS) plus the system store', () => {
    const set: string[][] = [];
    const api = {
      getCACertificates: (kind?: string) => (kind === 'system' ? ['SYS-1', 'BOTH'] : ['BUNDLED', 'EXTRA', 'BOTH']),
      setDefaultCACertificates: (c: readonly string[]) => void set.push([...c])
    };
    expect(trustSystemStore(api as never)).toBe(true);
    expect(set).toEqual([['BUNDLED', 'EXTRA', 'BOTH', 'SYS-1']]);
  });

  it('on this Node it applies for real, keeping every certificate trusted before', () => {
    // Compared by certificate (Node normalises the PEM text of a certificate held twice).
    const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
    const before = getCACertificates('default').map(fp);
    const system = getCACertificates('system').map(fp);
    expect(trustSystemStore()).toBe(true);
    const after = new Set(getCACertificates('default').map(fp));
    expect(before.every((c) => after.has(c))).toBe(true);
    expect(system.every((c) => after.has(c))).toBe(true);
  });

  it('without the Node API (older runtimes) it reports false and changes nothing; a failing API is not fatal', () => {
    expect(trustSystemStore({})).toBe(false);
    const set: unknown[][] = [];
    expect(
      trustSystemStore({
        getCACertificates: () => {
          throw new Error('no store');
        },
        setDefaultCACertificates: (c) => void set.push([...c])
      })
    ).toBe(false);
    expect(set).toEqual([]);
  });
});
