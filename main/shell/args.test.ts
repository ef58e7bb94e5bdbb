import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vaultPathFrom } from './args.ts';

describe('vault path', () => {
  it('--vault wins, then KEYDESK_VAULT, then the app-data default', () => {
    expect(vaultPathFrom(['electron', '.', '--vault', '/tmp/a.sqlite'], { KEYDESK_VAULT: '/tmp/b.sqlite' })).toBe('/tmp/a.sqlite');
    expect(vaultPathFrom(['electron', '--vault=/tmp/c.sqlite'], {})).toBe('/tmp/c.sqlite');
    expect(vaultPathFrom(['electron', '.'], { KEYDESK_VAULT: '/tmp/b.sqlite' })).toBe('/tmp/b.sqlite');
    expect(vaultPathFrom(['electron', '.'], { XDG_CONFIG_HOME: '/home/a/.config' }, 'linux')).toBe(
      join('/home/a/.config', 'Keydesk', 'vault.sqlite')
    );
  });

  it('a bare --vault with no path falls back instead of taking the next flag', () => {
    expect(vaultPathFrom(['--vault'], { KEYDESK_VAULT: '/tmp/b.sqlite' })).toBe('/tmp/b.sqlite');
    expect(vaultPathFrom(['--vault='], { KEYDESK_VAULT: '/tmp/b.sqlite' })).toBe('/tmp/b.sqlite');
  });
});
