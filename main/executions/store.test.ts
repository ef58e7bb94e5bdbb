import { describe, expect, it } from 'vitest';
import { outcomeLine } from '../cli/commands/executions.ts';
import { leftBehind, type ExecutionView } from './view.ts';

describe('what a run that ended before completing left at the provider', () => {
  it('nothing, when no revert context was captured (handlers capture before any change)', () => {
    expect(leftBehind(null)).toBeNull();
    expect(leftBehind('not json')).toBeNull();
  });

  it('names the records its earlier attempt created', () => {
    const rc = {
      from: '@phish.example',
      filters: [
        { mailbox: 'a@corp.example', id: 'f1', created: true },
        { mailbox: 'b@corp.example', id: 'f2', created: false }
      ]
    };
    expect(leftBehind(JSON.stringify(rc))).toMatch(/already created 1 item\(s\) .*\(a@corp\.example f1\); they stay in place/);
    const many = { filters: Array.from({ length: 7 }, (_, i) => ({ mailbox: `u${i}@corp.example`, id: `f${i}`, created: true })) };
    expect(leftBehind(many)).toMatch(/7 item\(s\) .*u4@corp\.example f4 and 2 more/);
  });

  it('says a change is possible but unknown when the context records a prior state only', () => {
    expect(leftBehind({ user_id: 'u1', prior_account_enabled: true })).toMatch(/may have changed part of it/);
  });

  it('the CLI line for an expired wait says "ended without acting" only when that is true', () => {
    const base = {
      id: 'e1',
      status: 'expired_awaiting_reauth',
      credentialName: 'Corp',
      deadline: '2026-11-21T13:00:00.000Z'
    } as ExecutionView;
    const now = new Date('2026-11-21T14:00:00.000Z');
    expect(outcomeLine({ ...base, revertContext: null }, now)).toMatch(/ended without acting/);
    const partial = outcomeLine({ ...base, revertContext: { filters: [{ mailbox: 'a@corp.example', id: 'f1', created: true }] } }, now);
    expect(partial).toMatch(/ended before completing/);
    expect(partial).toContain('a@corp.example f1');
  });
});
