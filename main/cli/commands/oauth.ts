import type { Command } from '../program.ts';
import type { CredentialView } from '../../../preload/contract.ts';
import type { KeydeskApp } from '../../app.ts';
import { KeydeskError } from '../../errors.ts';
import { osOpener, type OpenExternal } from '../../oauth/flow/external.ts';
import { DEFAULT_FLOW_TIMEOUT_MS } from '../../oauth/flow/loopback.ts';
import { printable } from '../../text.ts';
import type { CliContext } from '../context.ts';
import { collect, parseFields, readSecrets, readSecretsJson } from '../fields.ts';
import { relativeTime } from '../format.ts';

/**
 * `keydesk connect | reauth | refresh | revoke | paste-tokens`, and `add --paste-tokens`: OAuth credentials from the
 * command line. The browser opens through the OS opener (KEYDESK_BROWSER overrides it), started with an environment
 * without the vault passphrase; the authorization URL is always printed too, so a headless machine works (open it
 * anywhere that can reach this machine's 127.0.0.1, e.g. over an SSH port forward). Tokens are never printed.
 */

const TOKEN_KEYS = ['access_token', 'refresh_token'] as const;

function parseTimeout(v: string | undefined): number {
  if (v === undefined) return DEFAULT_FLOW_TIMEOUT_MS;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 3600)
    throw new KeydeskError('INPUT_INVALID', '--timeout is a number of seconds from 1 to 3600.');
  return Number(v) * 1000;
}

/** The CLI's browser opener: print the URL (always), then start the OS opener unless --no-browser. */
function cliOpener(ctx: CliContext, browser: boolean): OpenExternal {
  const open = osOpener(ctx.io.env, process.platform, (why) => ctx.io.stderr(`(${why}; open the address above yourself)\n`));
  return async (url) => {
    ctx.io.stderr(
      `${browser ? 'Opening your browser to sign in. If it does not open, visit' : 'Open this address in a browser on this machine to sign in'}:\n\n  ${url}\n\n`
    );
    if (browser) await open(url);
    ctx.io.stderr('Waiting for the sign-in to finish (Ctrl-C cancels)…\n');
  };
}

/** Ctrl-C cancels a waiting sign-in (the listener closes, nothing is stored). */
function cancelOnInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  return { signal: ac.signal, dispose: () => process.removeListener('SIGINT', onSigint) };
}

function expiryLine(c: CredentialView, now: Date): string {
  if (!c.expiresAt) return 'The provider did not say when the access token expires.';
  return `Access token expires ${relativeTime(c.expiresAt, now)} (${c.expiresAt})${c.observed.oauth && (c.observed.oauth as { has_refresh_token?: boolean }).has_refresh_token ? '; Keydesk refreshes it before use' : '; there is no refresh token, so sign in again when it expires'}.`;
}

function connectedText(verb: string, c: CredentialView, now: Date): string {
  const account = (c.observed.identity as { account?: string } | undefined)?.account;
  const scopes = Array.isArray(c.observed.granted) ? (c.observed.granted as string[]).join(' ') : '';
  return `${verb} ${c.name} (${c.provider}/${c.mode})${account ? ` as ${account}` : ''}. Status: ${c.status}.\n${scopes ? `Scopes: ${scopes}\n` : ''}${expiryLine(c, now)}\n`;
}

/** `--secrets-from` for pasted tokens: the token pair plus the mode's secret fields (e.g. client_secret). */
async function readTokenFile(
  ctx: CliContext,
  from: string | undefined,
  provider: string,
  mode: string
): Promise<{ tokens: Record<string, string>; secrets: Record<string, string> }> {
  if (from === undefined)
    throw new KeydeskError(
      'INPUT_INVALID',
      'Give the token pair as JSON with --secrets-from FILE (or - for stdin): {"access_token": "…", "refresh_token": "…"}.'
    );
  const parsed = await readSecretsJson(ctx, from, '{"access_token": "…", "refresh_token": "…"}');
  const spec = ctx.providers.mode(provider, mode);
  const tokens: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string')
      throw new KeydeskError('INPUT_INVALID', `${printable(k)} in --secrets-from must be a string.`, {
        fields: { [printable(k)]: 'Must be text' }
      });
    if ((TOKEN_KEYS as readonly string[]).includes(k)) tokens[k] = v;
    else if (spec.fields.find((f) => f.name === k)?.secret) secrets[k] = v;
    else
      throw new KeydeskError(
        'INPUT_INVALID',
        `--secrets-from has a key that is neither a token nor a secret field of ${mode}: "${printable(k)}".`
      );
  }
  return { tokens, secrets };
}

async function unlocked(ctx: CliContext, cmd: Command, why: string): Promise<KeydeskApp> {
  const app = await ctx.open(cmd);
  await ctx.unlock(app, why);
  return app;
}

/** `keydesk add … --paste-tokens`: creates the credential only after its refresh token proved itself. */
export async function addWithPastedTokens(
  ctx: CliContext,
  cmd: Command,
  opts: { provider: string; mode: string; name: string; fields: Record<string, string>; secretsFrom?: string }
): Promise<void> {
  const { tokens, secrets } = await readTokenFile(ctx, opts.secretsFrom, opts.provider, opts.mode);
  const app = await unlocked(ctx, cmd, 'Adding a credential');
  const c = app.credentials.view(
    await app.oauth.addWithPastedTokens(
      { name: opts.name, provider: opts.provider, mode: opts.mode, values: { ...opts.fields, ...secrets } },
      tokens
    )
  );
  ctx.print(cmd, { credential: c }, () =>
    connectedText('Added', c, app.vault.clock.now()).replace(/^Added (.*?)\./, 'Added $1 from pasted tokens (proved by a refresh).')
  );
}

interface ConnectOpts {
  provider?: string;
  mode?: string;
  field: string[];
  secretsFrom?: string;
  timeout?: string;
  browser: boolean;
}

export function registerOAuthCommands(program: Command, ctx: CliContext): void {
  program
    .command('connect')
    .argument('<credential>', 'name or id of an OAuth credential; a new name with --provider/--mode creates it')
    .description('sign in with the browser (authorization code + PKCE) and store the tokens')
    .option('--provider <provider>', `to create the credential: ${ctx.providers.idList((m) => m.oauth !== undefined)}`)
    .option(
      '--mode <mode>',
      `to create the credential: ${[...new Set(ctx.providers.oauthModes().map((m) => m.split('/')[1]))].join(' | ')}`
    )
    .option('--field <name=value>', 'to create the credential: a non-secret field (repeatable)', collect, [])
    .option('--secrets-from <file>', 'to create the credential: a JSON object of its secret fields (e.g. client_secret); - reads stdin')
    .option('--timeout <seconds>', 'how long to wait for the browser (default 300)')
    .option('--no-browser', 'do not start a browser: only print the address to open')
    .action(async (ref: string, opts: ConnectOpts, cmd: Command) => {
      const timeoutMs = parseTimeout(opts.timeout);
      const app = await ctx.open(cmd);
      const existing = app.credentials.list().find((c) => c.id === ref || c.name.toLowerCase() === ref.toLowerCase());
      if (!existing && !opts.provider) {
        throw new KeydeskError(
          'NOT_FOUND',
          `No credential named "${printable(ref)}". To create it and sign in, give its provider, mode and fields, e.g.: keydesk connect "${printable(ref)}" --provider oauth --mode authorization_code --field discovery_url=https://idp.example/.well-known/openid-configuration --field client_id=ID --field scopes="openid offline_access"`
        );
      }
      if (existing && (opts.provider || opts.mode || opts.field.length || opts.secretsFrom)) {
        throw new KeydeskError(
          'INPUT_INVALID',
          `"${printable(existing.name)}" already exists: connect it by name alone, or change its fields with keydesk update.`
        );
      }
      let values: Record<string, string> = {};
      if (!existing) {
        if (!opts.mode) throw new KeydeskError('INPUT_INVALID', 'To create the credential, give --mode too.');
        values = {
          ...parseFields(ctx.providers, opts.field, opts.provider ?? '', opts.mode),
          ...(await readSecrets(ctx, opts.secretsFrom, opts.provider ?? '', opts.mode))
        };
      }
      await ctx.unlock(app, 'Signing in');
      const cancel = cancelOnInterrupt();
      try {
        const connectOpts = { openExternal: cliOpener(ctx, opts.browser), signal: cancel.signal, timeoutMs };
        const c = app.credentials.view(
          existing
            ? await app.oauth.connect(existing.id, connectOpts)
            : await app.oauth.connectNew({ name: ref, provider: opts.provider ?? '', mode: opts.mode ?? '', values }, connectOpts)
        );
        ctx.print(cmd, { credential: c }, () => connectedText(existing ? 'Connected' : 'Created and connected', c, app.vault.clock.now()));
      } finally {
        cancel.dispose();
      }
    });

  program
    .command('reauth')
    .argument('<credential>', 'name or id')
    .description(
      're-authenticate a credential: the browser sign-in for OAuth credentials, new secret fields (--secrets-from) for the others'
    )
    .option('--secrets-from <file>', 'static credentials: a JSON object of the new secret fields; - reads stdin')
    .option('--timeout <seconds>', 'OAuth: how long to wait for the browser (default 300)')
    .option('--no-browser', 'OAuth: do not start a browser: only print the address to open')
    .action(async (ref: string, opts: { secretsFrom?: string; timeout?: string; browser: boolean }, cmd: Command) => {
      const timeoutMs = parseTimeout(opts.timeout);
      const app = await ctx.open(cmd);
      const c = app.credentials.get(ref);
      if (!ctx.providers.mode(c.provider, c.mode).oauth) {
        const secrets = await readSecrets(ctx, opts.secretsFrom, c.provider, c.mode);
        await ctx.unlock(app, 'Re-authenticating');
        const report = await app.executions.reauthWithSecrets(c.id, secrets);
        ctx.print(
          cmd,
          { ...report, validation: app.credentials.view(report.validation) },
          () => `Re-authenticated ${c.name}: the new secret validated. ${report.resumed.length} waiting run(s) resumed.\n`
        );
        return;
      }
      if (opts.secretsFrom)
        throw new KeydeskError(
          'INPUT_INVALID',
          `"${printable(c.name)}" is an OAuth credential: it is re-authenticated by signing in, not with --secrets-from.`
        );
      await ctx.unlock(app, 'Signing in');
      const cancel = cancelOnInterrupt();
      try {
        const after = app.credentials.view(
          await app.oauth.connect(c.id, { openExternal: cliOpener(ctx, opts.browser), signal: cancel.signal, timeoutMs })
        );
        ctx.print(cmd, { credential: after }, () => connectedText('Re-authenticated', after, app.vault.clock.now()));
      } finally {
        cancel.dispose();
      }
    });

  program
    .command('refresh')
    .argument('<credential>', 'name or id')
    .description('refresh an OAuth credential’s access token now (a rotated refresh token is stored atomically)')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const app = await unlocked(ctx, cmd, 'Refreshing tokens');
      const c = app.credentials.view(await app.oauth.refresh(ref));
      ctx.print(cmd, { credential: c }, () => `Refreshed ${c.name}. ${expiryLine(c, app.vault.clock.now())}\n`);
    });

  program
    .command('revoke')
    .argument('<credential>', 'name or id')
    .description('revoke an OAuth credential’s tokens at the provider (RFC 7009) and forget them')
    .option('--local-only', 'only forget Keydesk’s copy (for providers without a revocation endpoint)')
    .action(async (ref: string, opts: { localOnly?: boolean }, cmd: Command) => {
      const app = await unlocked(ctx, cmd, 'Revoking tokens');
      const r = await app.oauth.revoke(ref, { localOnly: Boolean(opts.localOnly) });
      ctx.print(cmd, { ...r, credential: app.credentials.view(r.credential) }, () =>
        r.revokedAtProvider
          ? `Revoked ${r.credential.name}'s tokens at the provider and removed them from the vault.${r.note ? ` ${r.note}` : ''} Sign in again with: keydesk connect "${r.credential.name}"\n`
          : `Removed ${r.credential.name}'s tokens from the vault; the provider was not asked.${r.note ? `\n${r.note}` : ''}\n`
      );
    });

  program
    .command('paste-tokens')
    .argument('<credential>', 'name or id of an existing OAuth credential')
    .description('replace the tokens with a pasted pair (JSON from --secrets-from), stored only after a successful refresh')
    .requiredOption('--secrets-from <file>', '{"access_token": "…", "refresh_token": "…"}; - reads stdin')
    .action(async (ref: string, opts: { secretsFrom: string }, cmd: Command) => {
      const app = await ctx.open(cmd);
      const c = app.credentials.get(ref);
      const { tokens, secrets } = await readTokenFile(ctx, opts.secretsFrom, c.provider, c.mode);
      if (Object.keys(secrets).length)
        throw new KeydeskError(
          'INPUT_INVALID',
          'paste-tokens takes only access_token and refresh_token; change secret fields with keydesk update.'
        );
      await ctx.unlock(app, 'Storing pasted tokens');
      const after = app.credentials.view(await app.oauth.pasteTokens(c.id, tokens));
      ctx.print(cmd, { credential: after }, () =>
        connectedText('Stored pasted tokens (proved by a refresh) for', after, app.vault.clock.now())
      );
    });
}
