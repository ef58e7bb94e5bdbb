import type { Command } from '../program.ts';
import { KeydeskError } from '../../errors.ts';
import { parseCapability, parseHostArgument, type BindingView, type Resolution } from '../../routing/service.ts';
import type { CliContext } from '../context.ts';
import { table } from '../format.ts';

/** `keydesk bind | unbind | bindings | resolve`: domain bindings and tenant routing. */

function scope(b: { subdomains: boolean }): string {
  return b.subdomains ? 'and its subdomains' : 'exact domain only';
}

function integrity(b: BindingView): string {
  return b.intact === null ? 'unchecked (locked)' : b.intact ? 'ok' : 'TAMPERED';
}

export function renderBindings(list: BindingView[], suggestions: { credential: string; domains: string[] } | null): string {
  let out =
    list.length === 0
      ? 'No domain bindings yet. Bind a tenant credential to the domain it protects: keydesk bind CREDENTIAL DOMAIN [--subdomains]\n'
      : table(
          ['DOMAIN', 'SCOPE', 'CREDENTIAL', 'PROVIDER', 'INTEGRITY'],
          list.map((b) => [
            b.domainDisplay === b.domain ? b.domain : `${b.domainDisplay} (${b.domain})`,
            scope(b),
            b.credentialName,
            `${b.provider}/${b.mode}`,
            integrity(b)
          ])
        );
  if (suggestions && suggestions.domains.length > 0) {
    out += `\nDomains ${suggestions.credential}'s tenant owns, not bound yet: ${suggestions.domains.join(', ')}\nBind them all with: keydesk bind "${suggestions.credential}" --accept-suggestions [--subdomains]\n`;
  }
  return out;
}

export function renderResolution(r: Resolution): string {
  const via = `${r.domain}${r.matched === 'exact' ? '' : ' (a parent domain bound with --subdomains)'}`;
  return `${r.capability} for ${r.host.value} → "${r.credentialName}" (${r.provider}/${r.mode}), bound to ${via}.${r.verified ? '' : '\nNot verified: the vault is locked, so the binding MACs were not checked. An action always checks them.'}\n`;
}

export function registerRoutingCommands(program: Command, ctx: CliContext): void {
  program
    .command('bind')
    .argument('<credential>', 'a tenant-scoped credential (name or id)')
    .argument('[domain]', 'the domain it protects (e.g. corp.example); Unicode names are stored in their ASCII form')
    .option('--subdomains', 'also cover every domain under it (mail.corp.example …)')
    .option('--accept-suggestions', 'bind every domain the provider said the tenant owns (from validation), in one step')
    .description('bind a tenant credential to a domain it protects (actions for that domain route to it)')
    .action(async (ref: string, domain: string | undefined, opts: { subdomains?: boolean; acceptSuggestions?: boolean }, cmd: Command) => {
      if (opts.acceptSuggestions && domain !== undefined)
        throw new KeydeskError('INPUT_INVALID', 'Give a DOMAIN or --accept-suggestions, not both.');
      if (!opts.acceptSuggestions && domain === undefined)
        throw new KeydeskError('INPUT_INVALID', 'Name the domain to bind (or --accept-suggestions).');
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'Binding a domain');
      if (opts.acceptSuggestions) {
        const added = app.routing.acceptSuggestions(ref, { subdomains: opts.subdomains === true });
        ctx.print(
          cmd,
          { bindings: added },
          () =>
            `Bound ${added.map((b) => b.domain).join(', ')} to "${added[0]?.credentialName ?? ref}" (${scope({ subdomains: opts.subdomains === true })}).\n`
        );
        return;
      }
      const b = app.routing.bind(ref, domain, { subdomains: opts.subdomains === true });
      ctx.print(cmd, { binding: b }, () =>
        b.change === 'unchanged'
          ? `${b.domain} is already bound to "${b.credentialName}" (${scope(b)}). Nothing changed.\n`
          : `${b.change === 'added' ? 'Bound' : 'Rebound'} ${b.domain} to "${b.credentialName}" (${scope(b)}).\n`
      );
    });

  program
    .command('unbind')
    .argument('<credential>', 'name or id')
    .argument('<domain>', 'the bound domain')
    .description('remove a domain binding')
    .action(async (ref: string, domain: string, _opts: unknown, cmd: Command) => {
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'Unbinding a domain');
      const r = app.routing.unbind(ref, domain);
      ctx.print(cmd, { unbound: r }, () => `Unbound ${r.domain} from "${r.credentialName}".\n`);
    });

  program
    .command('bindings')
    .argument('[credential]', 'only this credential’s bindings (and its unbound suggestions)')
    .option('--verify', 'check every binding’s MAC (needs the vault key)')
    .description('list domain bindings (no key needed; --verify checks their integrity)')
    .action(async (ref: string | undefined, opts: { verify?: boolean }, cmd: Command) => {
      const app = await ctx.open(cmd);
      if (opts.verify) await ctx.unlock(app, 'Verifying bindings');
      const list = app.routing.list(ref ? { credential: ref } : {});
      const suggestions = ref ? { credential: app.credentials.get(ref).name, domains: app.routing.suggestions(ref) } : null;
      ctx.print(cmd, { bindings: list, ...(suggestions ? { suggestions: suggestions.domains } : {}) }, () =>
        renderBindings(list, suggestions)
      );
      if (opts.verify && list.some((b) => b.intact === false)) ctx.exitCode = 1;
    });

  program
    .command('resolve')
    .argument('<capability>', 'block_sender | block_email_domain | disable_user')
    .argument('<host>', 'the protected mailbox (EMAIL) or domain')
    .description('show which credential a tenant action for this mailbox or domain would use')
    .action(async (capability: string, host: string, _opts: unknown, cmd: Command) => {
      const cap = parseCapability(capability);
      const parsed = parseHostArgument(host);
      const app = await ctx.open(cmd);
      let verify = true;
      try {
        await ctx.unlock(app, 'Resolving');
      } catch (e) {
        // Offline inspection: a passphrase vault without its passphrase still answers, and says it did not verify.
        if (!(e instanceof KeydeskError && e.code === 'PASSPHRASE_REQUIRED')) throw e;
        verify = false;
      }
      const r = app.routing.resolve(cap, parsed, { verify });
      ctx.print(cmd, { resolution: r }, () => renderResolution(r));
    });
}
