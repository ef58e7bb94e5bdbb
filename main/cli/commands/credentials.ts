import type { Command } from '../program.ts';
import type { CredentialView, ReadinessView } from '../../../preload/contract.ts';
import { datesDue } from '../../credentials/lifecycle.ts';
import { KeydeskError } from '../../errors.ts';
import type { CliContext } from '../context.ts';
import { collect, parseFields, readSecrets } from '../fields.ts';
import { keyValues, relativeTime, table } from '../format.ts';

/** One line of `keydesk due`: a credential's rotation or expiry date within the window asked (or past). */
interface DueItem {
  credential: string;
  id: string;
  provider: string;
  mode: string;
  kind: 'rotation' | 'expiry';
  at: string;
  overdue: boolean;
  label: string;
}

export function statusLabel(c: Pick<CredentialView, 'status' | 'lastError'>): string {
  return c.status === 'ok' || c.status === 'unknown' || !c.lastError ? c.status : `${c.status}: ${c.lastError.code}`;
}

function readyCell(r: ReadinessView): string {
  if (r.lines.length === 0) return '-';
  const ready = r.lines.filter((l) => l.ready === true).map((l) => l.capability);
  const not = r.lines.filter((l) => l.ready === false).length;
  const unknown = r.lines.filter((l) => l.ready === null).length;
  return [ready.join(',') || 'none', not ? `${not} not ready` : '', unknown ? `${unknown} unknown` : ''].filter(Boolean).join('; ');
}

export function renderList(list: CredentialView[], now: Date): string {
  if (list.length === 0) return 'No credentials yet. Add one with: keydesk add --provider P --mode M --name N --secrets-from FILE\n';
  const notes: string[] = [];
  const rows = list.map((c) => {
    const life = c.lifecycle;
    const readiness = c.readiness;
    if (c.lastError && c.status !== 'ok') notes.push(`${c.name}: ${c.lastError.code}: ${c.lastError.message}`);
    for (const l of readiness.lines)
      if (l.ready === false && l.missing.length) notes.push(`${c.name}: ${l.capability} is missing ${l.missing.join(', ')}`);
    if (c.suggestions.length) notes.push(`${c.name}: binding suggestions: ${c.suggestions.join(', ')}`);
    return [
      c.name,
      c.provider,
      c.mode,
      statusLabel(c),
      c.checkedAt ? relativeTime(c.checkedAt, now) : 'never',
      life.expiry?.label ?? '',
      life.rotation?.due ? 'rotation due' : life.rotation?.soon ? `due ${relativeTime(life.rotation.dueAt, now)}` : '',
      readyCell(readiness)
    ];
  });
  return (
    table(['NAME', 'PROVIDER', 'MODE', 'STATUS', 'CHECKED', 'EXPIRY', 'ROTATION', 'READY'], rows) +
    (notes.length ? `\n${notes.join('\n')}\n` : '')
  );
}

export function renderShow(c: CredentialView, now: Date): string {
  const life = c.lifecycle;
  const readiness = c.readiness;
  const suggestions = c.suggestions;
  const meta = Object.entries(c.metadata).map(([k, v]): [string, string] => [`  ${k}`, v]);
  const identity = Object.entries(c.identity)
    .filter(([k]) => k !== 'session_expires_at')
    .map(([k, v]): [string, string] => [`  ${k}`, v]);
  const readyLines = readiness.lines.map((l) => {
    const state = l.ready === true ? 'ready' : l.ready === false ? 'not ready' : 'unknown';
    const missing = l.missing.length ? ` — missing ${l.missing.join(', ')}` : '';
    return `  ${l.capability}: ${state}${missing}${l.note ? ` (${l.note})` : ''}\n    needs: ${l.needs.join('; ') || 'nothing listed'}`;
  });
  return (
    keyValues([
      ['name', c.name],
      ['id', c.id],
      ['provider', c.provider],
      ['mode', c.mode],
      ['status', c.status],
      ['last error', c.lastError ? `${c.lastError.code}: ${c.lastError.message}` : null],
      ['checked', c.checkedAt ? `${c.checkedAt} (${relativeTime(c.checkedAt, now)})` : 'never'],
      ['expiry', life.expiry ? `${life.expiry.label} (${life.expiry.at}${c.expirySource ? `, from ${c.expirySource}` : ''})` : 'not known'],
      ['rotation', life.rotation ? `${life.rotation.label}` : null],
      ['session', life.session?.label ?? null],
      ['secrets set', c.secretsSet.length ? c.secretsSet.join(', ') : 'none'],
      ['created', c.createdAt],
      ['updated', c.updatedAt],
      ['rotated', c.rotatedAt]
    ]) +
    (identity.length ? `identity:\n${keyValues(identity)}` : '') +
    `readiness:\n${readyLines.length ? `${readyLines.join('\n')}\n` : `  ${readiness.note ?? 'no capabilities'}\n`}` +
    (suggestions.length ? `binding suggestions:\n${suggestions.map((d) => `  ${d}`).join('\n')}\n` : '') +
    (meta.length ? `metadata:\n${keyValues(meta)}` : '')
  );
}

export function registerCredentialCommands(program: Command, ctx: CliContext): void {
  program
    .command('add')
    .description('add a credential: non-secret fields with --field, secret fields as JSON from --secrets-from FILE or - (stdin)')
    .requiredOption('--provider <provider>', ctx.providers.idList())
    .requiredOption('--mode <mode>', 'the auth mode (keydesk providers lists them)')
    .requiredOption('--name <name>', 'a unique name')
    .option('--field <name=value>', 'a non-secret field (repeatable)', collect, [])
    .option('--secrets-from <file>', 'a JSON object of the secret fields; - reads stdin')
    .option('--expires <date>', 'when the secret expires, if you know (YYYY-MM-DD)')
    .option(
      '--paste-tokens',
      'OAuth modes: --secrets-from also holds {"access_token", "refresh_token"}; stored only after a successful refresh'
    )
    .action(
      async (
        opts: {
          provider: string;
          mode: string;
          name: string;
          field: string[];
          secretsFrom?: string;
          expires?: string;
          pasteTokens?: boolean;
        },
        cmd: Command
      ) => {
        const fields = parseFields(ctx.providers, opts.field, opts.provider, opts.mode);
        if (opts.pasteTokens) return (await import('./oauth.ts')).addWithPastedTokens(ctx, cmd, { ...opts, fields });
        const secrets = await readSecrets(ctx, opts.secretsFrom, opts.provider, opts.mode);
        const app = await ctx.open(cmd);
        await ctx.unlock(app, 'Adding a credential');
        const c = app.credentials.view(
          app.credentials.add({
            name: opts.name,
            provider: opts.provider,
            mode: opts.mode,
            values: { ...fields, ...secrets },
            expiresAt: opts.expires ?? null
          })
        );
        ctx.print(
          cmd,
          { credential: c },
          () => `Added ${c.name} (${c.provider}/${c.mode}, id ${c.id}). Status: ${c.status} until validated.\n`
        );
      }
    );

  program
    .command('list')
    .description('list credentials with their health (no key needed)')
    .action((_opts: unknown, cmd: Command) => {
      const app = ctx.inspect(cmd);
      const now = app.vault.clock.now();
      const list = app.credentials.list().map((c) => app.credentials.view(c, now));
      ctx.print(cmd, { credentials: list }, () => renderList(list, now));
    });

  program
    .command('due')
    .description('credentials whose rotation or expiry falls within --within (default 14d), or is past (no key needed)')
    .option('--within <days>', 'how far ahead to look, in days: 14d (0d: only what is past due)', '14d')
    .action((opts: { within: string }, cmd: Command) => {
      const m = /^(\d{1,4})d$/.exec(opts.within.trim());
      if (!m || Number(m[1]) > 3650)
        throw new KeydeskError('INPUT_INVALID', '--within is a number of days from 0d to 3650d, such as 14d.', {
          fields: { within: 'a number of days, such as 14d' }
        });
      const app = ctx.inspect(cmd);
      const now = app.vault.clock.now();
      const horizon = now.getTime() + Number(m[1]) * 86_400_000;
      const due: DueItem[] = [];
      for (const c of app.credentials.list().map((x) => app.credentials.view(x, now)))
        for (const d of datesDue(c.lifecycle, horizon))
          due.push({ credential: c.name, id: c.id, provider: c.provider, mode: c.mode, ...d, overdue: Date.parse(d.at) <= now.getTime() });
      due.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.credential.localeCompare(b.credential));
      ctx.print(cmd, { within_days: Number(m[1]), due }, () =>
        due.length === 0
          ? `Nothing is due within ${m[1]} days.\n`
          : table(
              ['NAME', 'PROVIDER', 'WHAT', 'WHEN', ''],
              due.map((d) => [d.credential, d.provider, d.kind, relativeTime(d.at, now), d.overdue ? 'overdue' : ''])
            )
      );
    });

  program
    .command('show')
    .argument('<credential>', 'name or id')
    .description('show one credential’s readable metadata and health (no key needed)')
    .action((ref: string, _opts: unknown, cmd: Command) => {
      const app = ctx.inspect(cmd);
      const now = app.vault.clock.now();
      const c = app.credentials.view(app.credentials.get(ref), now);
      ctx.print(cmd, { credential: c }, () => renderShow(c, now));
    });

  program
    .command('update')
    .argument('<credential>', 'name or id')
    .description('change fields; secret fields from --secrets-from replace the stored ones')
    .option('--field <name=value>', 'a non-secret field (repeatable); NAME= clears an optional field', collect, [])
    .option('--secrets-from <file>', 'a JSON object of secret fields to replace; - reads stdin')
    .option('--expires <date>', 'when the secret expires (YYYY-MM-DD); "" clears it')
    .action(async (ref: string, opts: { field: string[]; secretsFrom?: string; expires?: string }, cmd: Command) => {
      const app = await ctx.open(cmd);
      const current = app.credentials.get(ref);
      const fields = parseFields(ctx.providers, opts.field, current.provider, current.mode);
      const secrets = await readSecrets(ctx, opts.secretsFrom, current.provider, current.mode);
      if (Object.keys(fields).length === 0 && Object.keys(secrets).length === 0 && opts.expires === undefined) {
        throw new KeydeskError('INPUT_INVALID', 'Nothing to update: give --field, --secrets-from or --expires.');
      }
      await ctx.unlock(app, 'Updating a credential');
      const c = app.credentials.view(
        app.credentials.update(current.id, {
          values: { ...fields, ...secrets },
          ...(opts.expires !== undefined ? { expiresAt: opts.expires } : {})
        })
      );
      ctx.print(
        cmd,
        { credential: c },
        () => `Updated ${c.name}.${Object.keys(secrets).length ? ' Secret replaced; status is unknown until validated.' : ''}\n`
      );
    });

  program
    .command('rotate')
    .argument('<credential>', 'name or id')
    .description('guided rotation: a new secret you made at the provider replaces the old one only once the provider accepts it')
    .requiredOption('--secrets-from <file>', 'a JSON object of the new secret fields; - reads stdin')
    .action(async (ref: string, opts: { secretsFrom: string }, cmd: Command) => {
      const app = await ctx.open(cmd);
      const current = app.credentials.get(ref);
      const secrets = await readSecrets(ctx, opts.secretsFrom, current.provider, current.mode);
      await ctx.unlock(app, 'Rotating a credential');
      const r = await app.validation.rotateWithSecrets(current.id, secrets);
      const c = app.credentials.view(r.credential);
      ctx.print(
        cmd,
        { credential: c },
        () =>
          `Rotated ${c.name}: the provider accepted the new secret (status ${c.status}), and it replaced the old one.\nThe old secret still works at the provider until you revoke it there.\n`
      );
    });

  program
    .command('rename')
    .argument('<credential>', 'name or id')
    .argument('<new-name>', 'the new name')
    .description('rename a credential')
    .action(async (ref: string, newName: string, _opts: unknown, cmd: Command) => {
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'Renaming a credential');
      const c = app.credentials.view(app.credentials.rename(ref, newName));
      ctx.print(cmd, { credential: c }, () => `Renamed to ${c.name}.\n`);
    });

  program
    .command('remove')
    .argument('<credential>', 'name or id')
    .description('delete a credential and destroy its key (crypto-shred)')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'Removing a credential');
      const r = app.credentials.remove(ref);
      ctx.print(
        cmd,
        { removed: r },
        () =>
          `Removed ${r.name}; its key is destroyed.${r.walTruncated ? '' : '\nNote: another process was reading the vault, so its write-ahead log still holds an encrypted copy of the removed key. Keydesk truncates it when the reader is done — at the latest when the last Keydesk process closes the vault.'}\n`
      );
    });
}
