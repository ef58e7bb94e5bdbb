import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AuditEntryViewSchema,
  BindingChangeViewSchema,
  BindingViewSchema,
  CredentialViewSchema,
  ERROR_CODES,
  ExecutionViewSchema,
  PromptViewSchema,
  ProviderViewSchema,
  ReadinessViewSchema,
  ResolutionViewSchema
} from '../../preload/contract.ts';
import { startBlocklistPeer, type BlocklistPeer } from '../../e2e/peers/blocklist.ts';
import { runCli } from '../testing/cli.ts';
import { movableClock, tempDir } from '../testing/fixtures.ts';

/**
 * Every `keydesk … --json` document, parsed with the contract's view schemas (strict: an unknown or a missing key
 * fails), so a credential, binding, execution, prompt or audit entry has the same shape in every command and in the
 * IPC answers the window gets. The CLI-only envelopes around them are declared here.
 */

const Vault = z.strictObject({
  vault: z.strictObject({
    path: z.string(),
    vaultId: z.string(),
    createdAt: z.string(),
    keySource: z.enum(['keychain', 'passphrase']),
    kekVersion: z.number(),
    schemaVersion: z.number(),
    credentials: z.number(),
    auditEntries: z.number(),
    unlocked: z.boolean()
  })
});
const Credential = z.strictObject({ credential: CredentialViewSchema });
const Credentials = z.strictObject({ credentials: z.array(CredentialViewSchema) });
const ErrorDoc = z.strictObject({
  error: z.strictObject({ code: z.enum(ERROR_CODES), message: z.string(), fields: z.record(z.string(), z.string()).optional() })
});
const ValidationDoc = z.strictObject({
  runId: z.string(),
  results: z.array(
    z.strictObject({
      id: z.string(),
      name: z.string(),
      provider: z.string(),
      mode: z.string(),
      status: z.enum(['ok', 'failed', 'expired', 'unknown']),
      lastError: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
      checkedAt: z.string().nullable(),
      expiresAt: z.string().nullable(),
      recorded: z.boolean(),
      skipped: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
      durationMs: z.number(),
      identity: z.record(z.string(), z.string()),
      readiness: ReadinessViewSchema,
      suggestions: z.array(z.string())
    })
  ),
  summary: z.strictObject({
    total: z.number(),
    ok: z.number(),
    failed: z.number(),
    expired: z.number(),
    unknown: z.number(),
    skipped: z.number()
  }),
  stopped: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  durationMs: z.number()
});
const Permissions = z.strictObject({
  provider: z.string(),
  label: z.string(),
  tenantScoped: z.boolean(),
  validation: z.strictObject({ permissions: z.array(z.string()) }),
  capabilities: z.array(
    z.strictObject({
      id: z.string(),
      label: z.string(),
      permissions: z.array(z.string()),
      modes: z.array(z.string()).nullable(),
      note: z.string().nullable()
    })
  ),
  note: z.string().nullable()
});
const Check = z.strictObject({
  checked: z.number(),
  failures: z.array(z.strictObject({ id: z.string(), name: z.string(), code: z.string(), message: z.string() }))
});
const Verify = z.union([
  z.strictObject({
    ok: z.literal(true),
    entries: z.number(),
    headSeq: z.number(),
    anchor: z.strictObject({ seq: z.number() }).nullable()
  }),
  z.strictObject({
    ok: z.literal(false),
    entries: z.number(),
    firstBadSeq: z.number(),
    problem: z.enum(['edited', 'removed', 'reordered', 'truncated']),
    message: z.string()
  })
]);
const Execution = z.strictObject({ execution: ExecutionViewSchema });

let peer: BlocklistPeer;
let token: string;
const dir = tempDir();
const vault = join(dir.dir, 'vault.sqlite');
const clock = movableClock();
const kd = (...args: string[]) => runCli(['--json', '--vault', vault, ...args], { clock });

/** Runs the command and parses its one JSON document with `schema` (failing with zod's complaint otherwise). */
async function doc<S extends z.ZodType>(schema: S, args: string[], opts: { status?: number; input?: string } = {}): Promise<z.output<S>> {
  const r = await runCli(['--json', '--vault', vault, ...args], { clock, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  expect(r.status, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(opts.status ?? 0);
  const parsed = schema.safeParse(r.json());
  if (!parsed.success) throw new Error(`keydesk ${args.join(' ')} --json does not match its schema: ${parsed.error.message}`);
  return parsed.data;
}

beforeAll(async () => {
  peer = await startBlocklistPeer();
  token = peer.blocklist.addToken();
});
afterAll(async () => {
  await peer.close();
  dir.cleanup();
});

describe('every keydesk --json document has the contract’s shape', () => {
  it('vault, credential, provider, validation and audit documents', async () => {
    await doc(Vault, ['init']);
    await doc(Vault, ['status']);
    const secrets = JSON.stringify({ token });
    const added = await doc(
      Credential,
      [
        'add',
        '--provider',
        'agentsoc_mail_block',
        '--mode',
        'bearer_token',
        '--name',
        'Blocklist',
        '--field',
        `blocklist_url=${peer.url}`,
        '--secrets-from',
        '-'
      ],
      { input: secrets }
    );
    const shown = await doc(Credential, ['show', 'Blocklist']);
    const listed = await doc(Credentials, ['list']);
    // One credential view: add, show and list answer the same keys (the values differ only where time passed).
    expect(Object.keys(added.credential).sort()).toEqual(Object.keys(shown.credential).sort());
    expect(Object.keys(listed.credentials[0]!).sort()).toEqual(Object.keys(shown.credential).sort());
    expect(listed.credentials[0]).toEqual(shown.credential);
    await doc(Credential, ['update', 'Blocklist', '--expires', '2031-01-01']);
    await doc(Credential, ['rename', 'Blocklist', 'Blocklist main']);
    await doc(ValidationDoc, ['validate', 'Blocklist main']);
    await doc(ValidationDoc, ['validate', '--all']);
    await doc(z.strictObject({ providers: z.array(ProviderViewSchema) }), ['providers']);
    await doc(Permissions, ['permissions', 'microsoft_365']);
    await doc(
      z.strictObject({
        credentials: z.array(
          CredentialViewSchema.pick({ id: true, name: true, provider: true, mode: true, status: true, checkedAt: true }).extend({
            readiness: ReadinessViewSchema
          })
        )
      }),
      ['readiness']
    );
    await doc(Check, ['check']);
    await doc(Verify, ['audit', 'verify']);
    await doc(z.strictObject({ kekVersion: z.number(), rewrapped: z.number() }), ['rotate-key']);
    const lines = (await kd('audit', 'export')).stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) AuditEntryViewSchema.parse(JSON.parse(l));
  });

  it('binding, resolution, execution and prompt documents', async () => {
    await doc(z.strictObject({ binding: BindingChangeViewSchema }), ['bind', 'Blocklist main', 'corp.example']);
    await doc(z.strictObject({ bindings: z.array(BindingViewSchema) }), ['bindings']);
    await doc(z.strictObject({ bindings: z.array(BindingViewSchema), suggestions: z.array(z.string()) }), ['bindings', 'Blocklist main']);
    await doc(z.strictObject({ resolution: ResolutionViewSchema }), ['resolve', 'block_email_domain', 'corp.example']);
    const run = await doc(Execution, [
      'run',
      'block_email_domain',
      '--target',
      'evil.example',
      '--host-domain',
      'corp.example',
      '--reason',
      'phishing wave'
    ]);
    expect(run.execution.status).toBe('succeeded');
    await doc(z.strictObject({ executions: z.array(ExecutionViewSchema) }), ['executions']);
    await doc(Execution, ['executions', run.execution.id]);
    await doc(Execution, ['revert', run.execution.id]);

    peer.blocklist.expire(token);
    const waiting = await doc(
      Execution,
      [
        'run',
        'block_email_domain',
        '--target',
        'worse.example',
        '--host-domain',
        'corp.example',
        '--reason',
        'phishing wave',
        '--cutoff',
        '1h'
      ],
      { status: 1 }
    );
    expect(waiting.execution.status).toBe('awaiting_reauth');
    const prompts = await doc(z.strictObject({ prompts: z.array(PromptViewSchema) }), ['prompts']);
    expect(prompts.prompts).toHaveLength(1);

    await doc(z.strictObject({ unbound: z.strictObject({ id: z.string(), credentialName: z.string(), domain: z.string() }) }), [
      'unbind',
      'Blocklist main',
      'corp.example'
    ]);
    await doc(z.strictObject({ removed: z.strictObject({ id: z.string(), name: z.string(), walTruncated: z.boolean() }) }), [
      'remove',
      'Blocklist main'
    ]);
  });

  it('errors, usage errors included, are one {error} document with a contract error code', async () => {
    await doc(ErrorDoc, ['show', 'nobody'], { status: 1 });
    await doc(ErrorDoc, ['add', '--provider', 'nope', '--mode', 'x', '--name', 'X'], { status: 2 });
    await doc(ErrorDoc, ['no-such-command'], { status: 2 });
  });
});
