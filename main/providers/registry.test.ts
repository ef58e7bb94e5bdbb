import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderView, Result } from '../../preload/contract.ts';
import { openApp } from '../app.ts';
import { COMMAND_GROUPS, buildProgram, commandOf } from '../cli/index.ts';
import { CliContext } from '../cli/context.ts';
import { createIpcCore } from '../ipc/index.ts';
import { AppSession } from '../shell/session.ts';
import { runCli } from '../testing/cli.ts';
import { TEST_ACTOR, keychainVault, tempDir, type TempVault } from '../testing/fixtures.ts';
import type { ProviderManifest } from './manifest.ts';
import { ActionError, type ProviderCapabilities, type ValidationPlugin } from './plugin.ts';
import { MANIFESTS, ProviderRegistry, defaultRegistry } from './registry.ts';
import { endpointField, field, pattern } from './spec.ts';

/**
 * "Adding a provider is one folder plus one line in the registry": a fixture provider, registered with nothing else
 * edited, shows up in the catalog, the CLI's help and the IPC catalog answer, and its credentials are checked, stored,
 * shown and run through the same services as the providers Keydesk ships.
 */

const calls: string[] = [];
const fixturePlugin: ValidationPlugin = {
  validate: async (ctx) => {
    calls.push(`validate ${ctx.credential.fields.base_url ?? 'default'}`);
    return {
      status: 'ok',
      error: null,
      observed: { identity: { tenant: 'acme-edge' }, readiness: [{ capability: 'block_ip', ready: true, missing: [] }] }
    };
  }
};
const fixtureCapabilities: ProviderCapabilities = {
  block_ip: {
    execute: async (ctx, input) => {
      ctx.captureRevert({ rule_for: input.target });
      calls.push(`block ${input.target}`);
      return { summary: `Blocked ${input.target} at the Acme edge.`, revertContext: { rule_for: input.target } };
    },
    revert: async (_ctx, rc) => {
      if (typeof rc.rule_for !== 'string') throw new ActionError('input_invalid', 'NO_RULE', 'No rule to remove.');
      calls.push(`unblock ${rc.rule_for}`);
      return { summary: `Removed the block of ${rc.rule_for}.` };
    }
  }
};

const acme: ProviderManifest = {
  spec: {
    id: 'acme_edge',
    label: 'Acme Edge Firewall',
    tenantScoped: false,
    modes: [
      {
        id: 'api_key',
        label: 'API key',
        rotationDays: 30,
        fields: [
          field({
            name: 'api_key',
            label: 'API key',
            secret: true,
            last4: true,
            rule: pattern('API key', /^ak_[a-z0-9]{16}$/, 'an Acme API key (ak_ and 16 characters)')
          }),
          endpointField('base_url', 'API base URL', 'Override the Acme API base URL.')
        ]
      }
    ],
    capabilities: [{ id: 'block_ip', label: 'Block an IP at the Acme edge (revert: unblock)', permissions: ['edge:rules:write'] }],
    validationPermissions: ['edge:rules:read']
  },
  texts: { summary: 'An Acme Edge API key: blocks attacker IPs at the edge.', setup: 'Acme console → Settings → API keys.' },
  validator: () => Promise.resolve(fixturePlugin),
  capabilities: () => Promise.resolve(fixtureCapabilities)
};

const registry = defaultRegistry.with(acme);
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  calls.length = 0;
});

describe('a provider added with one manifest and one registry line', () => {
  it('is in the catalog, with its texts, modes, fields and capabilities', () => {
    const view = registry.catalog().find((p) => p.id === 'acme_edge');
    expect(view).toMatchObject({
      label: 'Acme Edge Firewall',
      summary: 'An Acme Edge API key: blocks attacker IPs at the edge.',
      setup: 'Acme console → Settings → API keys.',
      modes: [
        {
          id: 'api_key',
          rotationDays: 30,
          fields: [
            { name: 'api_key', secret: true, last4: true },
            { name: 'base_url', endpoint: true }
          ]
        }
      ],
      capabilities: [{ id: 'block_ip', label: 'Block an IP at the Acme edge (revert: unblock)', permissions: ['edge:rules:write'] }]
    });
    expect(registry.capabilitiesOf('acme_edge', 'api_key')).toEqual(['block_ip']);
    expect(defaultRegistry.has('acme_edge')).toBe(false);
  });

  it('is in the CLI: help names it, `keydesk providers` and `permissions` describe it', async () => {
    const help = await runCli(['add', '--help'], { providers: registry });
    expect(help.status).toBe(0);
    const providerHelp = (out: string) => out.slice(out.indexOf('--provider <provider>'), out.indexOf('--mode <mode>'));
    expect(providerHelp(help.stdout)).toMatch(/\bacme_edge\b/);
    const plain = await runCli(['add', '--help']);
    expect(providerHelp(plain.stdout)).toMatch(/\bhostinger\b/);
    expect(plain.stdout).not.toContain('acme_edge');

    const providers = await runCli(['--json', 'providers'], { providers: registry });
    expect(providers.json<{ providers: ProviderView[] }>().providers.map((p) => p.id)).toEqual([
      ...MANIFESTS.map((m) => m.spec.id),
      'acme_edge'
    ]);
    const text = await runCli(['providers'], { providers: registry });
    expect(text.stdout).toContain('acme_edge — Acme Edge Firewall; capabilities: block_ip');
    expect(text.stdout).toContain('Where: Acme console → Settings → API keys.');

    const perms = await runCli(['permissions', 'acme_edge'], { providers: registry });
    expect(perms.stdout).toContain('block_ip — Block an IP at the Acme edge (revert: unblock)');
    expect(perms.stdout).toContain('  - edge:rules:write');
  });

  it('is in the IPC catalog answer the window reads', async () => {
    const { dir, cleanup } = tempDir();
    const session = new AppSession({ vaultPath: join(dir, 'vault.sqlite'), actor: TEST_ACTOR, providers: registry });
    cleanups.push(cleanup, () => session.close());
    const r = (await createIpcCore(session).dispatch('providers.list', undefined)) as Result<ProviderView[]>;
    expect(r.ok && r.value.find((p) => p.id === 'acme_edge')).toMatchObject({ label: 'Acme Edge Firewall', tenantScoped: false });
  });

  it('its credentials are checked by its own field rules, stored, validated and run like any other', async () => {
    const v: TempVault = await keychainVault();
    cleanups.push(() => v.cleanup());
    const app = openApp({ ...v.config, providers: registry });
    await app.vault.unlock();
    cleanups.push(() => app.close());
    expect(() => app.credentials.add({ name: 'Edge', provider: 'acme_edge', mode: 'api_key', values: { api_key: 'nope' } })).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', fields: { api_key: 'API key must be an Acme API key (ak_ and 16 characters)' } })
    );
    const c = app.credentials.add({ name: 'Edge', provider: 'acme_edge', mode: 'api_key', values: { api_key: 'ak_0123456789abcdef' } });
    expect(app.credentials.view(c)).toMatchObject({ metadata: { api_key_last4: 'cdef' }, secretsSet: ['api_key'] });
    const validated = await app.validation.validate('Edge');
    expect(app.credentials.view(validated.credential)).toMatchObject({ status: 'ok', identity: { tenant: 'acme-edge' } });
    const run = await app.executions.run({ capability: 'block_ip', target: '203.0.113.7', reason: 'scanner', credential: 'Edge' });
    expect(run).toMatchObject({ status: 'succeeded', provider: 'acme_edge', revertContext: { rule_for: '203.0.113.7' } });
    expect((await app.executions.revert(run.id)).status).toBe('reverted');
    expect(calls).toEqual(['validate default', 'block 203.0.113.7', 'unblock 203.0.113.7']);
  });

  it('a malformed manifest is refused when it is registered, not when a credential first uses it', () => {
    const oauthWithoutDriver: ProviderManifest = {
      ...acme,
      spec: { ...acme.spec, id: 'acme_sso', modes: [{ ...acme.spec.modes[0]!, oauth: true }] }
    };
    expect(() => defaultRegistry.with(oauthWithoutDriver)).toThrow(/OAuth mode api_key has no driver/);
    expect(() => defaultRegistry.with({ ...acme, spec: { ...acme.spec, id: 'aws' } })).toThrow(/registered twice/);
    expect(() => defaultRegistry.with({ ...acme, spec: { ...acme.spec, id: 'Acme-Edge' } })).toThrow(/must match/);
    const noHandlers: ProviderManifest = { spec: acme.spec, texts: acme.texts };
    expect(() => new ProviderRegistry([noHandlers])).toThrow(/lists capabilities but loads no handlers/);
  });
});

describe('CLI command groups', () => {
  it('every command a group defines is listed in COMMAND_GROUPS, and no group lists one it does not define', async () => {
    const io = { stdout: () => undefined, stderr: () => undefined, readStdin: async () => '', env: {}, promptHidden: null, isTTY: false };
    const all = await buildProgram(new CliContext(io));
    expect(all.commands.map((c) => c.name()).sort()).toEqual(COMMAND_GROUPS.flatMap((g) => g.commands).sort());
    for (const g of COMMAND_GROUPS) {
      const program = await buildProgram(new CliContext(io), [g.commands[0]!]);
      expect(program.commands.map((c) => c.name()).sort()).toEqual([...g.commands].sort());
    }
  });

  it('finds the command past the global options', () => {
    expect(commandOf(['--vault', 'list', 'show', 'x'])).toBe('show');
    expect(commandOf(['--json', 'list'])).toBe('list');
    expect(commandOf(['--version'])).toBeNull();
    expect(commandOf(['--', 'list'])).toBe('list');
  });
});
