import type { Command } from '../program.ts';
import { KeydeskError } from '../../errors.ts';
import { parseDuration, isExecutionStatus } from '../../executions/lifecycle.ts';
import type { ResumeReport } from '../../executions/service.ts';
import { leftBehind, type ExecutionView, type PromptView } from '../../executions/view.ts';
import type { CliContext } from '../context.ts';
import { keyValues, relativeTime, table } from '../format.ts';
import { collect } from '../fields.ts';
import { CAPABILITY_IDS } from '../../providers/capabilities.ts';
import { printable } from '../../text.ts';

/** `keydesk run | executions | revert | prompts`: capability runs and re-auth waits. */

function host(v: ExecutionView): string {
  return v.hostEmail ?? v.hostDomain ?? '';
}

/** One line saying where a run stands and what the analyst can do next. */
export function outcomeLine(v: ExecutionView, now: Date): string {
  const id = v.id;
  switch (v.status) {
    case 'succeeded':
      return `Execution ${id} succeeded: ${v.result?.summary ?? ''} Revert with: keydesk revert ${id.slice(0, 8)}`;
    case 'reverted':
      return `Execution ${id} reverted.`;
    case 'revert_failed':
      return `Execution ${id}: the revert failed (${v.error?.code ?? 'error'}): ${v.error?.message ?? ''}`;
    case 'awaiting_reauth':
      return `Execution ${id} is waiting for "${v.credentialName}" to be re-authenticated (${v.error?.code ?? ''}) until ${v.deadline} (${relativeTime(v.deadline, now)}). Re-authenticate with: keydesk reauth "${v.credentialName}"`;
    case 'expired_awaiting_reauth': {
      const partial = leftBehind(v.revertContext);
      return partial
        ? `Execution ${id} ended before completing: "${v.credentialName}" was not re-authenticated before ${v.deadline}. ${partial}`
        : `Execution ${id} ended without acting: "${v.credentialName}" was not re-authenticated before ${v.deadline}.`;
    }
    case 'failed':
      if (v.marker === 'superseded') return `Execution ${id} was not run: ${v.error?.message ?? `superseded by ${v.relatedId}`}`;
      if (v.marker === 'interrupted')
        return `Execution ${id} was interrupted: its effect is unknown. Check the provider before running it again.`;
      return `Execution ${id} failed (${v.failureReason}${v.error ? `, ${v.error.code}` : ''}): ${v.error?.message ?? ''}`;
    default:
      return `Execution ${id} is ${v.status}.`;
  }
}

export function renderExecutions(list: ExecutionView[], now: Date): string {
  if (list.length === 0) return 'No executions.\n';
  return table(
    ['ID', 'STATUS', 'CAPABILITY', 'TARGET', 'HOST', 'CREDENTIAL', 'BY', 'CREATED'],
    list.map((v) => [
      v.id.slice(0, 8),
      `${v.status}${v.marker ? ` (${v.marker})` : v.failureReason ? ` (${v.failureReason})` : ''}`,
      v.capability,
      v.target,
      host(v),
      v.credentialName,
      v.actor.replace(/ \(.*\)$/, ''),
      relativeTime(v.createdAt, now)
    ])
  );
}

export function renderExecution(v: ExecutionView, now: Date): string {
  return (
    keyValues([
      ['id', v.id],
      [
        'status',
        `${v.status}${v.statusRecorded ? '' : ' (its deadline passed while no Keydesk process had the vault unlocked: recorded at the next unlock)'}`
      ],
      ['failure reason', v.failureReason],
      ['marker', v.marker ? `${v.marker}${v.relatedId ? ` (${v.relatedId})` : ''}` : null],
      ['capability', v.capability],
      ['target', v.target],
      ['host', host(v)],
      ['credential', `${v.credentialName} (${v.provider}/${v.mode})${v.credentialId ? '' : ' — removed'}`],
      ['routed by', v.boundDomain ? `binding to ${v.boundDomain}` : 'credential named by the analyst'],
      ['scope', v.scope],
      [
        'options',
        Object.keys(v.options).length
          ? Object.entries(v.options)
              .map(([k, x]) => `${k}=${x ? 'yes' : 'no'}`)
              .join(', ')
          : null
      ],
      ['reason', v.reason],
      ['run by', v.actor],
      ['error', v.error ? `${v.error.code}: ${v.error.message}` : null],
      ['result', v.result?.summary],
      ['deadline', v.deadline ? `${v.deadline} (${relativeTime(v.deadline, now)})` : null],
      ['attempts', String(v.attempts)],
      ['created', v.createdAt],
      ['finished', v.finishedAt],
      ['reverted', v.revertedAt]
    ]) + (v.steps.length ? `steps:\n${v.steps.map((s) => `  ${s.at}  ${s.message}`).join('\n')}\n` : '')
  );
}

export function renderPrompts(list: PromptView[], now: Date): string {
  if (list.length === 0) return 'No pending re-auth prompts.\n';
  return (
    table(
      ['CREDENTIAL', 'PROVIDER', 'WHY', 'WAITING', 'UNTIL'],
      list.map((p) => [
        p.credentialName,
        `${p.provider}/${p.mode}`,
        p.reasonCode,
        `${p.waiting.length} run${p.waiting.length === 1 ? '' : 's'}`,
        `${p.deadline} (${relativeTime(p.deadline, now)})`
      ])
    ) +
    list
      .map(
        (p) =>
          `Re-authenticate "${p.credentialName}": keydesk reauth "${p.credentialName}"${p.method === 'secret' ? ' --secrets-from FILE' : ''}\n`
      )
      .join('')
  );
}

export function renderResume(r: ResumeReport, now: Date): string {
  if (r.resumed.length === 0 && r.claimedElsewhere.length === 0) return `No runs were waiting on "${r.credential.name}".\n`;
  return `${r.resumed.map((v) => `${outcomeLine(v, now)}\n`).join('')}${r.claimedElsewhere.length ? `${r.claimedElsewhere.length} waiting run(s) were resumed by another Keydesk process.\n` : ''}`;
}

function exitFor(v: ExecutionView): number {
  return v.status === 'succeeded' || v.status === 'reverted' ? 0 : 1;
}

/** `--option cut_connections=no` → { cut_connections: false }; the capability's provider says which names exist. */
export function parseOptions(raw: readonly string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const r of raw) {
    const m = /^([a-z][a-z0-9_-]{0,63})=(yes|no|true|false|on|off)$/i.exec(r.trim());
    if (!m)
      throw new KeydeskError('INPUT_INVALID', `--option takes NAME=yes or NAME=no (got "${printable(r.slice(0, 80))}").`, {
        fields: { options: 'NAME=yes or NAME=no' }
      });
    out[m[1]!.toLowerCase().replace(/-/g, '_')] = /^(yes|true|on)$/i.test(m[2]!);
  }
  return out;
}

/** The options every provider's capabilities declare, for `keydesk run --help`. */
function optionHelp(ctx: CliContext): string {
  const seen = new Map<string, string>();
  for (const p of ctx.providers.specs())
    for (const c of p.capabilities)
      for (const o of c.options ?? []) seen.set(`${c.id} ${o.name}`, `${o.name} (${p.id} ${c.id}, default ${o.default ? 'yes' : 'no'})`);
  return seen.size ? [...seen.values()].join(', ') : 'none';
}

export function registerExecutionCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .argument('<capability>', CAPABILITY_IDS.join(' | '))
    .requiredOption(
      '--target <target>',
      'what to act on: a sender or user address, a sender domain, a host as its cloud names it (EC2 instance id or ARN, projects/P/zones/Z/instances/I, an Azure VM resource id, a VPS id), or an IP address / CIDR block'
    )
    .option('--host-email <mailbox>', 'the protected mailbox (routes the action to the tenant bound to its domain)')
    .option('--host-domain <domain>', 'the protected domain (routes the action to the tenant bound to it)')
    .requiredOption('--reason <text>', 'why (goes to the audit log)')
    .option(
      '--credential <name>',
      'resource capabilities: the credential to use (default: the one whose account / project / subscription the target names); tenant ones: a cross-check of the routing'
    )
    .option('--scope <scope>', "block_ip: the VPC or network ACL, VPC network, or NSG to block in (default: the credential's)")
    .option('--option <name=yes>', `a yes/no choice of the capability (repeatable): ${optionHelp(ctx)}`, collect, [])
    .option(
      '--cutoff <duration>',
      'how long to wait for re-authentication if the credential is rejected (default $KEYDESK_REAUTH_CUTOFF or 1h)'
    )
    .description('run a response action; it waits for re-authentication if its credential is expired or rejected')
    .action(
      async (
        capability: string,
        opts: {
          target: string;
          hostEmail?: string;
          hostDomain?: string;
          reason: string;
          credential?: string;
          cutoff?: string;
          scope?: string;
          option: string[];
        },
        cmd: Command
      ) => {
        const cutoffRaw = opts.cutoff ?? ctx.io.env.KEYDESK_REAUTH_CUTOFF;
        const cutoffMs = cutoffRaw !== undefined && cutoffRaw !== '' ? parseDuration(cutoffRaw, 'cutoff') : undefined;
        const app = await ctx.open(cmd);
        await ctx.unlock(app, 'Running an action');
        const v = await app.executions.run(
          {
            capability,
            target: opts.target,
            hostEmail: opts.hostEmail,
            hostDomain: opts.hostDomain,
            reason: opts.reason,
            credential: opts.credential,
            scope: opts.scope,
            options: parseOptions(opts.option)
          },
          cutoffMs !== undefined ? { cutoffMs } : {}
        );
        ctx.print(cmd, { execution: v }, () => `${outcomeLine(v, app.vault.clock.now())}\n`);
        ctx.exitCode = exitFor(v);
      }
    );

  program
    .command('executions')
    .argument('[id]', 'show one execution with its step log (an id or a unique prefix of at least 8 characters)')
    .option(
      '--status <status>',
      'only runs in this status (pending, running, succeeded, failed, reverted, revert_failed, awaiting_reauth, expired_awaiting_reauth)'
    )
    .option('--credential <name>', 'only runs of this credential')
    .option('--limit <n>', 'at most this many (default 100)')
    .description('list executions, newest first (no key needed)')
    .action(async (id: string | undefined, opts: { status?: string; credential?: string; limit?: string }, cmd: Command) => {
      if (opts.status !== undefined && !isExecutionStatus(opts.status))
        throw new KeydeskError('INPUT_INVALID', `Unknown status "${opts.status.slice(0, 40)}".`, { fields: { status: 'Unknown status' } });
      if (opts.limit !== undefined && !/^[1-9]\d{0,4}$/.test(opts.limit))
        throw new KeydeskError('INPUT_INVALID', '--limit is a whole number from 1 to 99999.', {
          fields: { limit: 'A whole number from 1' }
        });
      const app = await ctx.open(cmd);
      const now = app.vault.clock.now();
      if (id !== undefined) {
        const v = app.executions.get(id);
        ctx.print(cmd, { execution: v }, () => renderExecution(v, now));
        return;
      }
      const list = app.executions.list({
        ...(opts.status !== undefined && isExecutionStatus(opts.status) ? { status: opts.status } : {}),
        ...(opts.credential ? { credential: opts.credential } : {}),
        ...(opts.limit ? { limit: Number(opts.limit) } : {})
      });
      ctx.print(cmd, { executions: list }, () => renderExecutions(list, now));
    });

  program
    .command('revert')
    .argument('<id>', 'the execution to revert (or a unique prefix)')
    .option('--force', 'revert even though the resource changed since the run (the refusal names what changed)')
    .description('undo a succeeded action from the revert context captured before it ran (retries a failed revert)')
    .action(async (id: string, opts: { force?: boolean }, cmd: Command) => {
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'Reverting an action');
      const v = await app.executions.revert(id, { force: opts.force === true });
      ctx.print(cmd, { execution: v }, () => `${outcomeLine(v, app.vault.clock.now())}\n`);
      ctx.exitCode = exitFor(v);
    });

  program
    .command('prompts')
    .description('pending re-auth prompts: credentials that runs are waiting on (no key needed)')
    .action(async (_opts: unknown, cmd: Command) => {
      const app = await ctx.open(cmd);
      const list = app.executions.prompts();
      ctx.print(cmd, { prompts: list }, () => renderPrompts(list, app.vault.clock.now()));
    });
}
