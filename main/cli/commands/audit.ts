import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { nodeFs } from '../../builtins.ts';
import { KeydeskError } from '../../errors.ts';
import { syslogLine } from '../../audit/syslog.ts';
import { auditEntryView } from '../../audit/view.ts';
import { printable } from '../../text.ts';
import type { AuditEntry } from '../../vault/audit-log.ts';
import type { CliContext } from '../context.ts';
import type { Command } from '../program.ts';

export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the tamper-evident audit log');

  audit
    .command('verify')
    .description('check the audit chain (needs the key); names the first entry edited, removed or reordered')
    .action(async (_opts: unknown, cmd: Command) => {
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'audit verify');
      const r = await app.audit.verify();
      ctx.print(cmd, r, () =>
        r.ok
          ? `OK: ${r.entries} audit entries verified; the log ends where its head record says${r.anchor ? `, and holds entry ${r.anchor.seq} as anchored in the OS keychain` : ''}.\n`
          : `FAILED: ${r.message}\n`
      );
      if (!r.ok) ctx.exitCode = 1;
    });

  audit
    .command('export')
    .description('print the audit log, oldest first (no key needed): JSON lines, or RFC 5424 syslog for a SIEM')
    .option('--format <format>', 'jsonl (default) or syslog (RFC 5424, facility log audit)', 'jsonl')
    .option('--after <seq>', 'only the entries after this sequence number')
    .option('--follow', 'then keep printing new entries as other Keydesk processes write them (Ctrl-C stops)')
    .action(async (opts: { format: string; after?: string; follow?: boolean }, cmd: Command) => {
      if (opts.format !== 'jsonl' && opts.format !== 'syslog')
        throw new KeydeskError('INPUT_INVALID', `--format is jsonl or syslog, not "${printable(opts.format)}".`, {
          fields: { format: 'jsonl or syslog' }
        });
      const after = opts.after === undefined ? 0 : /^\d{1,12}$/.test(opts.after) ? Number(opts.after) : -1;
      if (after < 0)
        throw new KeydeskError('INPUT_INVALID', '--after is an audit sequence number (a whole number, 0 or more).', {
          fields: { after: 'a whole number, 0 or more' }
        });
      const app = ctx.inspect(cmd);
      const host = hostname();
      const line = (e: AuditEntry) => (opts.format === 'syslog' ? `${syslogLine(e, host)}\n` : `${JSON.stringify(auditEntryView(e))}\n`);
      let last = after;
      const flush = () => {
        for (const e of app.audit.list({ afterSeq: last })) {
          ctx.io.stdout(line(e));
          last = e.seq;
        }
      };
      flush();
      if (opts.follow) await followVault(app.vault.path, flush);
    });
}

/**
 * Calls `flush` whenever the vault's files change (another process committed), until Ctrl-C. Event-driven
 * (fs.watch on the vault's folder: the WAL changes with every commit), with a 2-second poll as a backstop for file
 * systems that send no change events.
 */
function followVault(vaultPath: string, flush: () => void): Promise<void> {
  const base = basename(vaultPath);
  return new Promise<void>((resolve, reject) => {
    const safeFlush = () => {
      try {
        flush();
      } catch (e) {
        stop();
        reject(e as Error);
      }
    };
    const watcher = nodeFs().watch(dirname(vaultPath), (_event, file) => {
      if (!file || String(file).startsWith(base)) safeFlush();
    });
    const timer = setInterval(safeFlush, 2000);
    const stop = () => {
      watcher.close();
      clearInterval(timer);
      process.removeListener('SIGINT', onSigint);
    };
    const onSigint = () => {
      stop();
      resolve();
    };
    process.once('SIGINT', onSigint);
  });
}
