import type { Command } from '../program.ts';
import type { ValidationProgress } from '../../../preload/contract.ts';
import type { KeydeskApp } from '../../app.ts';
import { lifecycleOf, readinessOf, suggestionsOf } from '../../credentials/lifecycle.ts';
import { MAX_CONCURRENCY, type ValidationResult, type ValidationRun } from '../../credentials/validation.ts';
import { KeydeskError } from '../../errors.ts';
import { MAX_TIMEOUT_MS, MIN_TIMEOUT_MS } from '../../providers/call.ts';
import type { ProviderRegistry } from '../../providers/registry.ts';
import type { ProviderSpec } from '../../providers/spec.ts';
import type { CliContext } from '../context.ts';
import { table } from '../format.ts';

/**
 * `keydesk validate NAME|ID`, `keydesk validate --all`, `keydesk permissions PROVIDER`, `keydesk providers`.
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
    .command('permissions')
    .argument('<provider>', ctx.providers.idList())
    .description('print the exact permissions validation and each capability need, like a connector guide')
    .action((provider: string, _opts: unknown, cmd: Command) => {
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
