import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../providers/registry.ts';
import { bindingMac, findConflict, pickBinding, type Candidate } from './resolve.ts';

const m365 = { credentialId: 'm', credentialName: 'M365', provider: 'microsoft_365', mode: 'client_secret' };
const m365Delegated = { credentialId: 'md', credentialName: 'M365 delegated', provider: 'microsoft_365', mode: 'oauth_delegated' };
const gws = { credentialId: 'g', credentialName: 'Workspace', provider: 'google_workspace', mode: 'service_account_dwd' };
const gwsUser = { credentialId: 'gu', credentialName: 'Workspace user', provider: 'google_workspace', mode: 'oauth_user' };
const blocklist = { credentialId: 'b', credentialName: 'Blocklist', provider: 'agentsoc_mail_block', mode: 'bearer_token' };

const at = (c: typeof m365, domain: string, subdomains = false): Candidate => ({
  ...c,
  bindingId: `${c.credentialId}@${domain}`,
  domain,
  subdomains
});

describe('what a credential can do (provider and mode)', () => {
  it('narrows capabilities by auth mode (CapabilitySpec.modes)', () => {
    expect(defaultRegistry.capabilitiesOf('microsoft_365', 'client_secret')).toEqual([
      'block_sender',
      'block_email_domain',
      'disable_user'
    ]);
    expect(defaultRegistry.capabilitiesOf('microsoft_365', 'oauth_delegated')).toEqual(['block_sender', 'disable_user']);
    expect(defaultRegistry.capabilitiesOf('google_workspace', 'oauth_user')).toEqual(['block_sender', 'disable_user']);
    expect(defaultRegistry.capabilitiesOf('agentsoc_mail_block', 'bearer_token')).toEqual(['block_email_domain']);
    expect(defaultRegistry.capabilitiesOf('aws', 'access_key')).toEqual(['isolate', 'block_ip', 'power']);
    expect(defaultRegistry.capabilitiesOf('oauth', 'authorization_code')).toEqual([]);
    expect(defaultRegistry.capabilitiesOf('nope', 'x')).toEqual([]);
  });
});

describe('pickBinding', () => {
  it('an exact binding wins over a parent that covers subdomains', () => {
    const r = pickBinding(defaultRegistry, 'mail.corp.example', 'disable_user', [
      at(m365, 'corp.example', true),
      at(gws, 'mail.corp.example')
    ]);
    expect(r).toMatchObject({ kind: 'match', chosen: { credentialId: 'g' }, matched: 'exact' });
  });

  it('a parent matches only where its binding covers subdomains', () => {
    expect(pickBinding(defaultRegistry, 'mail.corp.example', 'disable_user', [at(m365, 'corp.example', false)])).toMatchObject({
      kind: 'none',
      reason: 'no_binding'
    });
    expect(pickBinding(defaultRegistry, 'mail.corp.example', 'disable_user', [at(m365, 'corp.example', true)])).toMatchObject({
      kind: 'match',
      matched: 'parent'
    });
  });

  it('the nearest covering parent wins over a farther one', () => {
    const r = pickBinding(defaultRegistry, 'a.b.corp.example', 'disable_user', [
      at(m365, 'corp.example', true),
      at(gws, 'b.corp.example', true)
    ]);
    expect(r).toMatchObject({ kind: 'match', chosen: { credentialId: 'g' }, matched: 'parent' });
  });

  it('never matches by suffix alone: evilcorp.example is not under corp.example', () => {
    expect(pickBinding(defaultRegistry, 'evilcorp.example', 'disable_user', [at(m365, 'corp.example', true)])).toMatchObject({
      kind: 'none'
    });
  });

  it('skips credentials whose provider or mode cannot run the capability, falling back to a capable parent', () => {
    const candidates = [
      at(blocklist, 'corp.example'),
      at(m365, 'corp.example'),
      at(gwsUser, 'sub.corp.example'),
      at(gws, 'corp.example', true)
    ];
    // corp.example: the blocklist and M365 are both bound, but only M365 can disable a user.
    expect(pickBinding(defaultRegistry, 'corp.example', 'disable_user', candidates.slice(0, 2))).toMatchObject({
      kind: 'match',
      chosen: { credentialId: 'm' }
    });
    // sub.corp.example: the oauth_user credential cannot block a domain, so the parent's dwd credential does.
    expect(pickBinding(defaultRegistry, 'sub.corp.example', 'block_email_domain', candidates.slice(2))).toMatchObject({
      kind: 'match',
      chosen: { credentialId: 'g' },
      matched: 'parent'
    });
  });

  it('says when bindings exist but none can run the capability', () => {
    expect(pickBinding(defaultRegistry, 'corp.example', 'disable_user', [at(blocklist, 'corp.example')])).toMatchObject({
      kind: 'none',
      reason: 'no_capable_binding'
    });
  });

  it('reports a tie at the most specific level instead of guessing', () => {
    const r = pickBinding(defaultRegistry, 'corp.example', 'disable_user', [at(m365, 'corp.example'), at(gws, 'corp.example')]);
    expect(r.kind).toBe('ambiguous');
  });
});

describe('findConflict (ambiguity refused at bind time)', () => {
  it('two credentials on the same domain that share a capability conflict, naming the capability', () => {
    expect(findConflict(defaultRegistry, gws, [m365])).toMatchObject({ other: { credentialName: 'M365' }, capability: 'block_sender' });
    expect(findConflict(defaultRegistry, blocklist, [m365])).toMatchObject({ capability: 'block_email_domain' });
  });

  it('credentials with disjoint capabilities can share a domain (their mode decides)', () => {
    expect(findConflict(defaultRegistry, blocklist, [m365Delegated])).toBeNull();
    expect(findConflict(defaultRegistry, blocklist, [gwsUser])).toBeNull();
  });

  it('a credential never conflicts with itself', () => {
    expect(findConflict(defaultRegistry, m365, [m365])).toBeNull();
  });
});

describe('bindingMac', () => {
  it('changes when the credential, domain or subdomain flag changes', () => {
    const key = Buffer.alloc(32, 7);
    const base = { id: 'b1', credentialId: 'c1', domain: 'corp.example', subdomains: false };
    const mac = bindingMac(key, base).toString('hex');
    expect(bindingMac(key, { ...base, credentialId: 'c2' }).toString('hex')).not.toBe(mac);
    expect(bindingMac(key, { ...base, domain: 'evil.example' }).toString('hex')).not.toBe(mac);
    expect(bindingMac(key, { ...base, subdomains: true }).toString('hex')).not.toBe(mac);
    expect(bindingMac(Buffer.alloc(32, 8), base).toString('hex')).not.toBe(mac);
    expect(bindingMac(key, { ...base }).toString('hex')).toBe(mac);
  });
});
