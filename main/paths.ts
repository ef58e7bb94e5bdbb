import { homedir } from 'node:os';
import { join } from 'node:path';

/** Electron's app.getPath('userData') for productName "Keydesk", computed without Electron (the CLI needs it too). */
export function defaultUserDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Keydesk');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Keydesk');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'Keydesk');
}

export function defaultVaultPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return env.KEYDESK_VAULT || join(defaultUserDataDir(env, platform), 'vault.sqlite');
}
