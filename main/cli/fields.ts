import { KeydeskError } from '../errors.ts';
import { printable } from '../text.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { CliContext } from './context.ts';
import { nodeFs } from '../builtins.ts';

/**
 * Credential field input on the command line: non-secret fields as `--field NAME=VALUE`, secret fields only as JSON
 * from `--secrets-from FILE|-` (argv is visible to other users and kept in shell history). Shared by the credential
 * and OAuth commands.
 */

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--field k=v` pairs. Secret fields are refused here: argv is visible to other users (ps) and kept in shell history. */
export function parseFields(providers: ProviderRegistry, pairs: string[], provider: string, mode: string): Record<string, string> {
  const spec = providers.mode(provider, mode);
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new KeydeskError('INPUT_INVALID', 'Each --field is NAME=VALUE.');
    const name = pair.slice(0, eq);
    const f = spec.fields.find((x) => x.name === name);
    if (f?.secret) {
      throw new KeydeskError(
        'INPUT_INVALID',
        `${name} is a secret field: give it in the JSON of --secrets-from FILE (or - for stdin), never on the command line.`,
        {
          fields: { [name]: 'Secret fields go in --secrets-from' }
        }
      );
    }
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * The JSON object of `--secrets-from FILE|-` (`-`: stdin), unchecked. Its text is never echoed in an error: it is
 * secret. `example` shows the expected shape in the message.
 */
export async function readSecretsJson(ctx: CliContext, from: string, example: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = from === '-' ? await ctx.io.readStdin() : nodeFs().readFileSync(from, 'utf8');
  } catch {
    throw new KeydeskError('INPUT_INVALID', `Cannot read the secrets file ${printable(from)}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeydeskError('INPUT_INVALID', `--secrets-from must be a JSON object such as ${example}; it is not valid JSON.`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new KeydeskError('INPUT_INVALID', `--secrets-from must be a JSON object such as ${example}.`);
  return parsed as Record<string, unknown>;
}

/** `--secrets-from FILE|-`: a JSON object whose keys are secret field names. */
export async function readSecrets(
  ctx: CliContext,
  from: string | undefined,
  provider: string,
  mode: string
): Promise<Record<string, string>> {
  if (from === undefined) return {};
  const parsed = await readSecretsJson(ctx, from, '{"secret_access_key": "…"}');
  const spec = ctx.providers.mode(provider, mode);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    const f = spec.fields.find((x) => x.name === k);
    if (!f) throw new KeydeskError('INPUT_INVALID', `--secrets-from has a field ${mode} does not know: "${k.slice(0, 40)}".`);
    if (!f.secret) throw new KeydeskError('INPUT_INVALID', `${k} is not secret; pass it with --field ${k}=VALUE.`);
    if (typeof v !== 'string')
      throw new KeydeskError('INPUT_INVALID', `${k} in --secrets-from must be a string.`, { fields: { [k]: 'Must be text' } });
    out[k] = v;
  }
  return out;
}
