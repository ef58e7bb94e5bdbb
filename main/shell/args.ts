import { defaultVaultPath } from '../paths.ts';

/** The vault path: `--vault PATH` / `--vault=PATH`, else KEYDESK_VAULT, else the default app-data path. */
export function vaultPathFrom(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform = process.platform
): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--vault' && typeof argv[i + 1] === 'string' && argv[i + 1] !== '') return argv[i + 1]!;
    if (a.startsWith('--vault=') && a.length > '--vault='.length) return a.slice('--vault='.length);
  }
  return defaultVaultPath(env as NodeJS.ProcessEnv, platform);
}
