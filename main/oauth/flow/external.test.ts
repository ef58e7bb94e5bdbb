import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openExternalChecked, openerCommand, scrubbedEnv } from './external.ts';

describe('opening the browser for a sign-in', () => {
  it('hands the opener only checked URLs: https, or http to 127.0.0.1/localhost', async () => {
    const opened: string[] = [];
    const open = async (u: string) => void opened.push(u);
    await openExternalChecked('https://accounts.example/auth?client_id=a&state=b', open);
    await openExternalChecked('http://127.0.0.1:8080/auth', open);
    await openExternalChecked('http://localhost:8080/auth', open);
    for (const bad of [
      'http://example.com/auth',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pw@example.com/',
      'https://example.com/a b',
      'ms-settings:',
      42
    ]) {
      await expect(openExternalChecked(bad, open)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    }
    expect(opened).toEqual([
      'https://accounts.example/auth?client_id=a&state=b',
      'http://127.0.0.1:8080/auth',
      'http://localhost:8080/auth'
    ]);
  });

  it('the OS opener never passes the vault passphrase to the child process', () => {
    const env = scrubbedEnv({
      PATH: '/usr/bin',
      KEYDESK_PASSPHRASE: 'canary-pass-1',
      KEYDESK_NEW_PASSPHRASE: 'canary-pass-2',
      HOME: '/home/a'
    });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/a' });
  });

  it('a process that scrubbed its own environment at start (the desktop app) hands no passphrase to children that inherit it', () => {
    // The app's openExternal (Electron's) starts the OS opener with the app's own environment: a child that inherits it.
    const script = `
      const { scrubPassphraseEnv } = await import(${JSON.stringify(resolve(import.meta.dirname, 'external.ts'))});
      scrubPassphraseEnv();
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))'], { encoding: 'utf8' });
      process.stdout.write(r.stdout);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, KEYDESK_PASSPHRASE: 'canary-pass-app-1', KEYDESK_NEW_PASSPHRASE: 'canary-pass-app-2' }
    });
    expect(r.status).toBe(0);
    const childEnv = JSON.parse(r.stdout) as Record<string, string>;
    expect(childEnv.PATH).toBe(process.env.PATH);
    expect(r.stdout).not.toContain('canary-pass-app');
  });

  it('uses each OS’s opener as an argv (no shell), and KEYDESK_BROWSER when set', () => {
    const url = 'https://idp.example/auth?a=1&b=2^3';
    expect(openerCommand(url, 'linux', {})).toEqual({ command: 'xdg-open', args: [url] });
    expect(openerCommand(url, 'darwin', {})).toEqual({ command: 'open', args: [url] });
    // Not `cmd /c start`: cmd re-parses & and ^, which every authorization URL contains.
    expect(openerCommand(url, 'win32', {})).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
    expect(openerCommand(url, 'linux', { KEYDESK_BROWSER: 'firefox --private-window' })).toEqual({
      command: 'firefox',
      args: ['--private-window', url]
    });
  });
});
