import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonical, hmac } from '../vault/crypto.ts';
import { headerMac } from '../vault/vault.ts';
import { assertExecutionIntact, executionIntact, executionMac, type ExecutionSteering } from './integrity.ts';

const key = randomBytes(32);
const row: ExecutionSteering = {
  id: '6f1c2a4e-0000-4000-8000-000000000001',
  capability: 'power',
  target: '1268054',
  host_email: null,
  host_domain: null,
  reason: 'crypto-miner, INC-12',
  credential_id: 'c-1',
  provider: 'hostinger',
  mode: 'api_token',
  dedupe_key: '["power","c-1","1268054",null]',
  revert_context: '{"vm_id":"1268054","prior_state":"running","stopped_by_this_run":true}',
  params: '{"scope":null,"options":{"deallocate":false}}'
};

describe('execution integrity MAC', () => {
  it('verifies the row it was made for', () => {
    expect(executionIntact(key, { ...row, mac: executionMac(key, row) })).toBe(true);
  });

  it.each(Object.keys(row).filter((k) => k !== 'id') as (keyof ExecutionSteering)[])('breaks when %s is changed', (field) => {
    const mac = executionMac(key, row);
    const changed = { ...row, [field]: row[field] === null ? 'x@evil.example' : `${row[field]}0` };
    expect(executionIntact(key, { ...changed, mac })).toBe(false);
  });

  it('breaks when a steering column is cleared, and under another key', () => {
    const mac = executionMac(key, row);
    expect(executionIntact(key, { ...row, revert_context: null, mac })).toBe(false);
    expect(executionIntact(key, { ...row, params: null, mac })).toBe(false);
    expect(executionIntact(randomBytes(32), { ...row, mac })).toBe(false);
  });

  it('a row without a MAC (older schema, or stripped) is not intact, and says so', () => {
    expect(executionIntact(key, { ...row, mac: null })).toBe(false);
    expect(() => assertExecutionIntact(key, { ...row, mac: null }, 'reverted')).toThrow(
      expect.objectContaining({ code: 'EXECUTION_TAMPERED', message: expect.stringContaining('no integrity MAC') })
    );
    expect(() => assertExecutionIntact(key, { ...row, target: '42', mac: executionMac(key, row) }, 'reverted')).toThrow(
      expect.objectContaining({ code: 'EXECUTION_TAMPERED', message: expect.stringContaining('changed in the vault file') })
    );
  });

  it('a run without params (every run before schema 5) keeps the MAC it was recorded with', () => {
    const { params: _none, ...before5 } = { ...row, params: null };
    const legacy = hmac(
      key,
      canonical(
        'keydesk/v1/execution',
        ...(
          [
            'id',
            'capability',
            'target',
            'host_email',
            'host_domain',
            'reason',
            'credential_id',
            'provider',
            'mode',
            'dedupe_key',
            'revert_context'
          ] as const
        ).map((k) => before5[k])
      )
    );
    expect(executionIntact(key, { ...row, params: null, mac: legacy })).toBe(true);
    expect(executionIntact(key, { ...row, mac: legacy })).toBe(false);
  });

  it('is domain-separated from the credential header MAC made with the same key', () => {
    const header = headerMac(key, { id: row.id, provider: row.provider, mode: row.mode, name: row.target });
    expect(executionIntact(key, { ...row, mac: header })).toBe(false);
  });
});
