import { inspect, format } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from './secret.ts';

describe('Secret never prints its value', () => {
  const canary = 'CANARY-secret-7f3a9c';
  const s = new Secret(canary);

  it('through JSON, string conversion, template literals, inspect and format', () => {
    const outputs = [
      JSON.stringify({ s }),
      String(s),
      `${s}`,
      'x' + s,
      inspect(s),
      inspect({ nested: { s } }, { depth: 10 }),
      format('%s %o %O %j', s, s, s, { s })
    ];
    for (const o of outputs) expect(o).not.toContain(canary);
    expect(outputs[0]).toBe('{"s":"[redacted]"}');
  });

  it('reveals only on purpose', () => {
    expect(s.reveal()).toBe(canary);
    expect(s.lastChars(4)).toBe('3a9c');
  });

  it('keeps the value out of Object.keys / spread (a private field)', () => {
    expect(Object.keys(s)).toEqual([]);
    expect(JSON.stringify({ ...s })).not.toContain(canary);
  });
});
