import { spawn } from 'node:child_process';
import { checkExternalUrl, openExternalUrl } from '../../external.ts';

/**
 * Opening the system browser for a sign-in. Every flow goes through one injected function (`OpenExternal`):
 * Electron's `shell.openExternal` in the app, the OS opener below in the CLI, a test browser in tests — always
 * behind the app’s one checked wrapper (main/external.ts: https only, plain http only to 127.0.0.1/localhost).
 */
export type OpenExternal = (url: string) => Promise<void>;

/** Checks, then opens: the opener only ever sees a checked, normalised URL. */
export function openExternalChecked(value: unknown, open: OpenExternal): Promise<void> {
  return openExternalUrl(value, open);
}

/** Variables a child process must never inherit: the vault passphrase (current and new). */
export const SCRUBBED_ENV_VARS = ['KEYDESK_PASSPHRASE', 'KEYDESK_NEW_PASSPHRASE'] as const;

export function scrubbedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const k of SCRUBBED_ENV_VARS) delete out[k];
  return out;
}

/**
 * Removes the passphrase variables from a process's own environment, in place. For the desktop app, at start: it never
 * reads them (it asks on its lock screen), but Electron's `shell.openExternal` — and any child the app starts — runs
 * with the app's environment, so an analyst who exported KEYDESK_PASSPHRASE for the CLI would hand it to the browser.
 */
export function scrubPassphraseEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const k of SCRUBBED_ENV_VARS) delete env[k];
}

/**
 * The OS's "open this URL" command, as an argv (no shell): `xdg-open` on Linux and BSDs, `open` on macOS; on Windows
 * `rundll32 url.dll,FileProtocolHandler`, because `cmd /c start` re-parses `&` and `^` in the URL (every authorization
 * URL has `&`). `KEYDESK_BROWSER` (a command and its arguments, separated by spaces) overrides it; the URL is appended.
 */
export function openerCommand(url: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv): { command: string; args: string[] } {
  const custom = env.KEYDESK_BROWSER?.trim();
  if (custom) {
    const [command, ...args] = custom.split(/\s+/);
    return { command: command ?? custom, args: [...args, url] };
  }
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

/**
 * The CLI's opener: starts the OS opener (or KEYDESK_BROWSER) detached, with the passphrase variables removed from its
 * environment, and resolves once it started. It never fails the flow: with no opener (a headless machine) the CLI has
 * printed the URL already, and the analyst opens it by hand.
 */
export function osOpener(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  onFailure?: (why: string) => void
): OpenExternal {
  return (url) =>
    new Promise<void>((resolve) => {
      const { command, args } = openerCommand(checkExternalUrl(url), platform, env);
      let child;
      try {
        child = spawn(command, args, {
          env: scrubbedEnv(env),
          stdio: 'ignore',
          detached: platform !== 'win32',
          shell: false,
          windowsHide: true
        });
      } catch {
        onFailure?.(`could not start ${command}`);
        return resolve();
      }
      child.once('error', () => {
        onFailure?.(`could not start ${command}`);
        resolve();
      });
      child.once('spawn', () => {
        child.unref();
        resolve();
      });
    });
}
