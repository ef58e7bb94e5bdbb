import type { Command } from '../program.ts';
import { auditEntryView } from '../../audit/view.ts';
import type { CliContext } from '../context.ts';

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
          ? `OK: ${r.entries} audit entries verified${r.anchor ? ` (anchored in the OS keychain at entry ${r.anchor.seq})` : ''}.\n`
          : `FAILED: ${r.message}\n`
      );
      if (!r.ok) ctx.exitCode = 1;
    });

  audit
    .command('export')
    .description('print the audit log as JSON lines, oldest first (no key needed)')
    .action((_opts: unknown, cmd: Command) => {
      const app = ctx.inspect(cmd);
      for (const e of app.audit.export()) ctx.io.stdout(`${JSON.stringify(auditEntryView(e))}\n`);
    });
}
