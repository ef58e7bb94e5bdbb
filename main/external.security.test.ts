import { describe, expect, it } from 'vitest';
import { checkExternalUrl, openExternalUrl } from './external.ts';

// Guards: "external links only through one checked openExternal (https only; plain http only to 127.0.0.1/localhost)".
describe('openExternal check', () => {
  it('accepts https anywhere and http only to this machine', () => {
    expect(checkExternalUrl('https://login.microsoftonline.com/common/oauth2/v2.0/authorize?x=1')).toBe(
      'https://login.microsoftonline.com/common/oauth2/v2.0/authorize?x=1'
    );
    expect(checkExternalUrl('http://127.0.0.1:41234/cb')).toBe('http://127.0.0.1:41234/cb');
    expect(checkExternalUrl('http://localhost:8080/')).toBe('http://localhost:8080/');
    expect(checkExternalUrl('http://[::1]:8080/')).toBe('http://[::1]:8080/');
  });

  it('refuses other schemes, remote http, credentials in the URL, control characters and junk', () => {
    const bad: unknown[] = [
      'http://evil.example/',
      'http://127.0.0.1.evil.example/',
      'http://localhost.evil.example/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'smb://server/share',
      'ms-msdt:/id',
      'vscode://x',
      'app://keydesk/index.html',
      'https://user:pw@example.com/',
      'https://example.com/\u0000',
      ' https://example.com/',
      'https://example.com/a b',
      '//example.com',
      '',
      `https://example.com/${'a'.repeat(9000)}`,
      42,
      null,
      undefined,
      { href: 'https://example.com' }
    ];
    for (const v of bad) expect(() => checkExternalUrl(v), String(v)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }) as Error);
  });

  it('openExternalUrl calls the opener only with a checked URL', async () => {
    const opened: string[] = [];
    const open = (u: string) => {
      opened.push(u);
      return Promise.resolve();
    };
    await openExternalUrl('https://example.com/docs', open);
    await expect(openExternalUrl('file:///etc/passwd', open)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(opened).toEqual(['https://example.com/docs']);
  });
});
