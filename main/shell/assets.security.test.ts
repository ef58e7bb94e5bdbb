import { describe, expect, it } from 'vitest';
import { resolveAppAsset } from './assets.ts';

// Guards: the app:// protocol serves the renderer build and nothing else on disk.
describe('app:// asset resolution', () => {
  const root = '/opt/keydesk/out/renderer';

  it('serves files under the renderer build, index.html for the root', () => {
    expect(resolveAppAsset(root, 'app://keydesk/')).toEqual({ path: `${root}/index.html`, contentType: 'text/html; charset=utf-8' });
    expect(resolveAppAsset(root, 'app://keydesk/assets/index-abc.js')).toEqual({
      path: `${root}/assets/index-abc.js`,
      contentType: 'text/javascript; charset=utf-8'
    });
    expect(resolveAppAsset(root, 'app://keydesk/assets/index.css?v=1#x')?.path).toBe(`${root}/assets/index.css`);
  });

  it('never resolves outside the build folder, however the path is spelled', () => {
    for (const url of [
      'app://keydesk/../../etc/passwd.js',
      'app://keydesk/%2e%2e/%2e%2e/etc/passwd.js',
      'app://keydesk/assets/..%2f..%2f..%2fetc%2fpasswd.js',
      'app://keydesk/assets/%2e%2e%2f%2e%2e%2fsecret.js',
      'app://keydesk/assets/%5c..%5c..%5csecret.js',
      'app://keydesk//etc/passwd.js',
      'app://keydesk/a%00.js'
    ]) {
      const r = resolveAppAsset(root, url);
      if (r !== null) expect(r.path.startsWith(`${root}/`), `${url} → ${r.path}`).toBe(true);
    }
    expect(resolveAppAsset(root, 'app://keydesk/assets/..%2f..%2f..%2fetc%2fpasswd.js')).toBeNull();
    expect(resolveAppAsset(root, 'app://keydesk/a%00.js')).toBeNull();
  });

  it('refuses other hosts, other schemes and file types the app does not ship', () => {
    for (const url of [
      'app://keydesk/vault.sqlite',
      'app://keydesk/main.ts',
      'app://other/index.html',
      'file:///opt/keydesk/out/renderer/index.html',
      'app://user:pw@keydesk/index.html',
      'app://keydesk/%E0%A4%A.js',
      'not a url'
    ]) {
      expect(resolveAppAsset(root, url), url).toBeNull();
    }
  });
});
