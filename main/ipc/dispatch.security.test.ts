import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES } from '../../preload/contract.ts';
import { Secret } from '../vault/secret.ts';
import { assertPlainData, createDispatcher, type HandlerTable } from './dispatch.ts';

// Guards: "no IPC response carries secret material" and "unknown channels are refused".
// These tables are the dispatcher's own inputs (no service behind them): each case checks one guarantee of the
// dispatcher itself. The real handler table is exercised in ipc.keychain.test.ts and the fuzz test.
function tableAnswering(value: unknown): HandlerTable {
  return Object.fromEntries(CHANNEL_NAMES.map((c) => [c, () => value])) as unknown as HandlerTable;
}

describe('dispatcher', () => {
  it('refuses unknown channels, including prototype names, before parsing anything', async () => {
    const d = createDispatcher(tableAnswering('reached'));
    for (const c of [
      'nope',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'vault.status\u0000',
      'VAULT.STATUS',
      42,
      null,
      undefined,
      {},
      ['vault.status']
    ]) {
      expect(await d(c, {}), String(c)).toEqual({ ok: false, error: { code: 'UNKNOWN_CHANNEL', message: expect.any(String) as string } });
    }
  });

  it('a Secret inside an answer fails closed (INTERNAL), never serialised', async () => {
    const secret = new Secret('CANARY-dispatch-secret');
    const d = createDispatcher(tableAnswering([{ id: 'x', nested: { token: secret } }]));
    const r = await d('credentials.list', undefined);
    expect(r).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: expect.stringMatching(/secret material/) as string } });
    expect(JSON.stringify(r)).not.toContain('CANARY');
  });

  it('only plain JSON data may leave: Buffers, functions, class instances and NaN are refused', () => {
    expect(() => assertPlainData({ a: [1, 'x', true, null, { b: undefined }] }, 'c')).not.toThrow();
    for (const bad of [Buffer.from('key'), () => 1, new Map(), new Date(0), Number.NaN, 10n, Symbol('s'), new Uint8Array(4)]) {
      expect(() => assertPlainData({ v: bad }, 'c'), String(typeof bad)).toThrow(/not sent/);
    }
  });
});
