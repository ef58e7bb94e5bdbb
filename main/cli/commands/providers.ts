import type { Command } from '../program.ts';
import type { CredentialView, ValidationProgress } from '../../../preload/contract.ts';
import type { KeydeskApp } from '../../app.ts';
import type { KeydeskCore } from '../../core.ts';
import { lifecycleOf, readinessOf, suggestionsOf } from '../../credentials/lifecycle.ts';
import { MAX_CONCURRENCY, type ValidationResult, type ValidationRun } from '../../credentials/validation.ts';
import { KeydeskError } from '../../errors.ts';
import { printable } from '../../text.ts';
import { CAPABILITIES } from '../../providers/capabilities.ts';
import { MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from '../../providers/call.ts';
import type { ProviderRegistry } from '../../providers/registry.ts';
import type { ProviderSpec } from '../../providers/spec.ts';
import type { CliContext } from '../context.ts';
import { relativeTime, table } from '../format.ts';

/**
 * `keydesk validate NAME|ID`, `keydesk validate --all`, `keydesk readiness [NAME|ID]`, `keydesk permissions PROVIDER`,
 * `keydesk providers`.
 *
 * Exit codes of validate: 0 when the run completed (whatever the credentials' statuses: the table and --json say
 * them); 1 when the run could not complete (vault locked, key rotated, cancelled) — or, with --strict, when any
 * credential is not ok; 2 for bad arguments.
 */

interface ValidateOpts {
  all?: boolean;
  strict?: boolean;
  timeout?: string;
  concurrency?: string;
}

function parseTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  const ms = Math.round(s * 1000);
  if (!/^\d+(\.\d+)?$/.test(v) || ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS) {
    throw new KeydeskError('INPUT_INVALID', `--timeout is seconds from ${MIN_TIMEOUT_MS / 1000} to ${MAX_TIMEOUT_MS / 1000}.`);
  }
  return ms;
}

function parseConcurrency(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_CONCURRENCY)
    throw new KeydeskError('INPUT_INVALID', `--concurrency is a whole number from 1 to ${MAX_CONCURRENCY}.`);
  return Number(v);
}

/** One line of --json per credential: the stored health after the run, plus why it was skipped. */
function resultJson(app: KeydeskApp, r: ValidationResult) {
  const c = r.credential;
  return {
    id: c.id,
    name: c.name,
    provider: c.provider,
    mode: c.mode,
    status: c.status,
    lastError: c.lastError,
    checkedAt: c.checkedAt,
    expiresAt: c.expiresAt,
    recorded: r.recorded,
    skipped: r.skipped,
    durationMs: r.durationMs,
    identity: (c.observed.identity as Record<string, string> | undefined) ?? {},
    readiness: readinessOf(c, app.providers),
    suggestions: suggestionsOf(c)
  };
}

export function renderRun(app: KeydeskApp, run: ValidationRun, now: Date): string {
  const rows = run.results.map((r) => {
    const c = r.credential;
    const status = r.recorded ? c.status : 'skipped';
    const why = r.recorded
      ? c.status === 'ok'
        ? ''
        : c.lastError
          ? `${c.lastError.code}: ${c.lastError.message}`
          : ''
      : r.skipped
        ? `${r.skipped.code}: ${r.skipped.message}`
        : '';
    const expiry = lifecycleOf(c, app.providers, now).expiry?.label ?? '';
    return [c.name, c.provider, status, expiry, why];
  });
  const s = run.summary;
  const counts = `${s.total} checked: ${s.ok} ok, ${s.failed} failed, ${s.expired} expired, ${s.unknown} unknown${s.skipped ? `, ${s.skipped} skipped` : ''} (${(run.durationMs / 1000).toFixed(1)} s).`;
  return (
    (rows.length ? table(['NAME', 'PROVIDER', 'STATUS', 'EXPIRY', 'DETAIL'], rows) : 'No credentials to validate.\n') +
    `${counts}\n` +
    (run.stopped ? `Stopped early: ${run.stopped.message} [${run.stopped.code}]\n` : '')
  );
}

/** Progress on stderr: a redrawn bar on a terminal, one plain line per credential otherwise. */
export function progressPrinter(write: (s: string) => void, tty: boolean): (p: ValidationProgress) => void {
  const width = 24;
  return (p) => {
    if (p.total === 0) return;
    if (tty) {
      const filled = Math.round((p.done / p.total) * width);
      const last = p.credential ? ` ${p.credential.name}: ${p.credential.status}` : '';
      write(`\r\u001b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total}${last.slice(0, 60)}`);
      if (p.finished) write('\n');
    } else if (p.credential) {
      write(
        `validated ${p.done}/${p.total}: ${p.credential.name} (${p.credential.provider}) ${p.credential.status}${p.credential.errorCode ? ` ${p.credential.errorCode}` : ''}\n`
      );
    }
  };
}

/** One row per capability of each credential that has capabilities: what the provider last said it may do. */
export function renderReadiness(creds: readonly CredentialView[], now: Date): string {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const c of creds) {
    if (c.readiness.lines.length === 0 && c.readiness.note) notes.push(`${c.name}: ${c.readiness.note}`);
    for (const l of c.readiness.lines) {
      const state = l.ready === true ? 'ready' : l.ready === false ? 'not ready' : 'unknown';
      const detail = [l.missing.length ? `missing ${l.missing.join(', ')}` : '', l.note ?? ''].filter(Boolean).join('; ');
      rows.push([c.name, c.provider, l.capability, state, c.checkedAt ? relativeTime(c.checkedAt, now) : 'never', detail]);
    }
  }
  if (rows.length === 0 && notes.length === 0) return 'No credentials yet.\n';
  return (
    (rows.length ? table(['CREDENTIAL', 'PROVIDER', 'CAPABILITY', 'READINESS', 'CHECKED', 'DETAIL'], rows) : '') +
    (notes.length ? `${rows.length ? '\n' : ''}${notes.join('\n')}\n` : '') +
    (rows.some((r) => r[4] === 'never')
      ? '\nReadiness comes from the provider when a credential is validated: keydesk readiness --check asks it now.\n'
      : '')
  );
}

function readinessJson(c: CredentialView) {
  return { id: c.id, name: c.name, provider: c.provider, mode: c.mode, status: c.status, checkedAt: c.checkedAt, readiness: c.readiness };
}

function permissionsJson(providers: ProviderRegistry, spec: ProviderSpec) {
  return {
    provider: spec.id,
    label: spec.label,
    tenantScoped: spec.tenantScoped,
    validation: { permissions: [...spec.validationPermissions] },
    capabilities: spec.capabilities.map((c) => ({
      id: c.id,
      label: c.label,
      permissions: [...c.permissions],
      modes: c.modes ?? null,
      note: c.note ?? null
    })),
    note: providers.noCapabilitiesNote(spec)
  };
}

export function renderPermissions(providers: ProviderRegistry, spec: ProviderSpec): string {
  const out: string[] = [`${spec.label} (${spec.id}) — permissions Keydesk needs`, ''];
  out.push('Validation', ...spec.validationPermissions.map((p) => `  - ${p}`), '');
  const none = providers.noCapabilitiesNote(spec);
  if (none) out.push(none, '');
  for (const c of spec.capabilities) {
    out.push(`${c.id} — ${c.label}`, ...c.permissions.map((p) => `  - ${p}`));
    if (c.modes) out.push(`  modes: ${c.modes.join(', ')} only`);
    if (c.note) out.push(`  note: ${c.note}`);
    out.push('');
  }
  if (spec.tenantScoped) out.push('Tenant-scoped: actions are routed by domain, so bind the credential to the domains it protects.', '');
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * docs/PERMISSIONS.md: every provider's permissions as Markdown, from the same specs the app's readiness lines and
 * `keydesk permissions` read (documents.test checks the file is this output).
 */
export function renderPermissionsMarkdown(providers: ProviderRegistry): string {
  const code = (p: string) => (/^[\w.:/*|{}-]+$/.test(p) ? `\`${p}\`` : p);
  const out: string[] = [
    '# Permissions Keydesk needs',
    '',
    'Generated by `keydesk permissions --markdown > docs/PERMISSIONS.md` from the provider specs — the lists the app shows on a credential’s readiness and `keydesk permissions PROVIDER` prints. Edit the specs (`main/providers/<id>/spec.ts`), not this file.',
    '',
    'Readiness is computed from the provider’s own answer when a credential is validated (`keydesk readiness`), never from what was typed.',
    ''
  ];
  for (const { spec } of providers.manifests) {
    out.push(`## ${spec.label} (\`${spec.id}\`)`, '', `Modes: ${spec.modes.map((m) => `\`${m.id}\``).join(', ')}.`, '');
    out.push('Validation:', '', ...spec.validationPermissions.map((p) => `- ${code(p)}`), '');
    const none = providers.noCapabilitiesNote(spec);
    if (none) out.push(none, '');
    for (const c of spec.capabilities) {
      out.push(`### \`${c.id}\` — ${c.label}`, '', ...c.permissions.map((p) => `- ${code(p)}`), '');
      if (c.modes) out.push(`Modes: ${c.modes.map((m) => `\`${m}\``).join(', ')} only.`, '');
      if (c.note) out.push(c.note, '');
    }
    if (spec.tenantScoped) out.push('Tenant-scoped: actions are routed by domain, so bind the credential to the domains it protects.', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function renderProviders(providers: ProviderRegistry): string {
  const out: string[] = [];
  for (const { spec: p, texts } of providers.manifests) {
    out.push(
      `${p.id} — ${p.label}${p.tenantScoped ? ' (tenant-scoped)' : ''}; capabilities: ${p.capabilities.map((c) => c.id).join(', ') || 'none yet'}`,
      `  ${texts.summary}`,
      `  Where: ${texts.setup}`
    );
    for (const m of p.modes) {
      out.push(`  mode ${m.id} — ${m.label}${m.oauth ? ' (OAuth flow)' : ''}; rotate every ${m.rotationDays} days`);
      for (const f of m.fields) {
        const flags = [
          f.required ? 'required' : 'optional',
          f.secret ? 'secret' : null,
          f.last4 ? 'last 4 shown' : null,
          f.endpoint ? 'endpoint override' : null
        ]
          .filter(Boolean)
          .join(', ');
        out.push(`    ${f.name.padEnd(24)} ${flags}`);
      }
    }
    out.push('');
  }
  out.push('Secret fields go in --secrets-from FILE (a JSON object), never on the command line.');
  return `${out.join('\n')}\n`;
}

export function registerProviderCommands(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .argument('[credential]', 'name or id (or --all)')
    .description('check credentials against their providers and record status, last error, checked-at and expiry (needs the key)')
    .option('--all', 'validate every credential, at most --concurrency at once')
    .option('--strict', 'exit 1 when any credential is not ok (default: exit 0 when the run completed)')
    .option('--timeout <seconds>', 'per-request timeout (default 15)')
    .option('--concurrency <n>', 'credentials checked at once with --all (default 8)')
    .addHelpText(
      'after',
      '\nExit codes: 0 the run completed (see the table for each status); 1 it could not complete, or --strict and a credential is not ok; 2 bad arguments.'
    )
    .action(async (ref: string | undefined, opts: ValidateOpts, cmd: Command) => {
      if (opts.all && ref !== undefined) throw new KeydeskError('INPUT_INVALID', 'Give a credential name or --all, not both.');
      if (!opts.all && ref === undefined) throw new KeydeskError('INPUT_INVALID', 'Name a credential to validate, or use --all.');
      const timeoutMs = parseTimeout(opts.timeout);
      const concurrency = parseConcurrency(opts.concurrency);
      const app = await ctx.open(cmd);
      const refs = ref === undefined ? undefined : [app.credentials.get(ref).id];
      await ctx.unlock(app, 'Validating');
      const json = ctx.json(cmd);
      const onProgress = !json || ctx.io.isTTY ? progressPrinter((s) => ctx.io.stderr(s), ctx.io.isTTY) : undefined;
      const run = await app.validation.validateAll({
        ...(refs ? { refs } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(onProgress ? { onProgress } : {})
      });
      const only = run.results[0];
      if (refs && only?.skipped && !run.stopped) throw new KeydeskError(only.skipped.code, only.skipped.message);
      const now = app.vault.clock.now();
      ctx.print(
        cmd,
        {
          runId: run.runId,
          results: run.results.map((r) => resultJson(app, r)),
          summary: run.summary,
          stopped: run.stopped,
          durationMs: run.durationMs
        },
        () => renderRun(app, run, now)
      );
      const notOk = run.results.some((r) => !r.recorded || r.credential.status !== 'ok');
      if (run.stopped || (opts.strict && notOk)) ctx.exitCode = 1;
    });

  program
    .command('readiness')
    .argument('[credential]', 'name or id (default: every credential)')
    .description('what each credential may do, per capability: ready, missing PERMISSION, or unknown — as its provider last said')
    .option('--capability <id>', 'only this capability (e.g. isolate): which credentials can do it')
    .option('--check', 'validate first, so the provider answers now (needs the key)')
    .addHelpText(
      'after',
      '\nReadiness is computed from the provider’s answer at validation (EC2 DryRun, GCP testIamPermissions, Azure Microsoft.Authorization/permissions), never from what was typed. Without --check it is read offline.'
    )
    .action(async (ref: string | undefined, opts: { capability?: string; check?: boolean }, cmd: Command) => {
      if (opts.capability !== undefined && !Object.hasOwn(CAPABILITIES, opts.capability))
        throw new KeydeskError(
          'INPUT_INVALID',
          `Unknown capability "${printable(opts.capability)}": one of ${Object.keys(CAPABILITIES).join(', ')}.`
        );
      let app: KeydeskCore;
      if (opts.check) {
        const full = await ctx.open(cmd);
        const refs = ref === undefined ? undefined : [full.credentials.get(ref).id];
        await ctx.unlock(full, 'Checking readiness');
        const onProgress = !ctx.json(cmd) || ctx.io.isTTY ? progressPrinter((s) => ctx.io.stderr(s), ctx.io.isTTY) : undefined;
        const run = await full.validation.validateAll({ ...(refs ? { refs } : {}), ...(onProgress ? { onProgress } : {}) });
        if (run.stopped) throw new KeydeskError(run.stopped.code, run.stopped.message);
        app = full;
      } else app = ctx.inspect(cmd);
      const now = app.vault.clock.now();
      const list = (ref === undefined ? app.credentials.list() : [app.credentials.get(ref)]).map((c) => app.credentials.view(c, now));
      const shown = opts.capability
        ? list
            .map((c) => ({
              ...c,
              readiness: { ...c.readiness, note: null, lines: c.readiness.lines.filter((l) => l.capability === opts.capability) }
            }))
            .filter((c) => c.readiness.lines.length > 0)
        : list;
      ctx.print(cmd, { credentials: shown.map(readinessJson) }, () =>
        shown.length === 0 && opts.capability ? `No credential can ${opts.capability}.\n` : renderReadiness(shown, now)
      );
    });

  program
    .command('permissions')
    .argument('[provider]', ctx.providers.idList())
    .description('print the exact permissions validation and each capability need, like a connector guide')
    .option('--markdown', 'every provider, as the Markdown of docs/PERMISSIONS.md')
    .action((provider: string | undefined, opts: { markdown?: boolean }, cmd: Command) => {
      if (opts.markdown) {
        if (provider !== undefined) throw new KeydeskError('INPUT_INVALID', '--markdown prints every provider: give no provider with it.');
        ctx.io.stdout(renderPermissionsMarkdown(ctx.providers));
        return;
      }
      if (provider === undefined)
        throw new KeydeskError('INPUT_INVALID', `Name a provider (${ctx.providers.idList()}), or use --markdown.`);
      const spec = ctx.providers.spec(provider);
      ctx.print(cmd, permissionsJson(ctx.providers, spec), () => renderPermissions(ctx.providers, spec));
    });

  program
    .command('providers')
    .description('list providers, their auth modes and fields (secret / required), and their capabilities')
    .action((_opts: unknown, cmd: Command) => {
      ctx.print(cmd, { providers: ctx.providers.catalog() }, () => renderProviders(ctx.providers));
    });
}
