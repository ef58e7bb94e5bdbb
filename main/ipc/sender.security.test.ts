import { describe, expect, it } from 'vitest';
import { isAppSender, mayReceiveEvents, sameAppOrigin } from './sender.ts';

// Guards: "a compromised or buggy renderer can ask main only the contract's questions" — and only from the app's
// own top-level frame. A subframe, a popup, a frame that navigated elsewhere, or another origin is refused.
describe('IPC sender check', () => {
  const mainFrame = { id: 'main' };
  const target = { mainFrame, appUrl: 'app://keydesk/index.html' };

  it('accepts the window’s main frame on the app origin', () => {
    expect(isAppSender({ frame: mainFrame, url: 'app://keydesk/index.html' }, target)).toBe(true);
    expect(isAppSender({ frame: mainFrame, url: 'app://keydesk/other#x' }, target)).toBe(true);
  });

  it('refuses a subframe even on the app origin', () => {
    expect(isAppSender({ frame: { id: 'child' }, url: 'app://keydesk/index.html' }, target)).toBe(false);
  });

  it('refuses a detached frame (one running unload handlers after a navigation), even if it resolves to the main frame', () => {
    expect(isAppSender({ frame: mainFrame, url: 'app://keydesk/index.html', detached: true }, target)).toBe(false);
    expect(isAppSender({ frame: mainFrame, url: 'app://keydesk/index.html', detached: false }, target)).toBe(true);
  });

  it('refuses a destroyed or missing frame', () => {
    expect(isAppSender({ frame: null, url: 'app://keydesk/index.html' }, target)).toBe(false);
    expect(isAppSender({ frame: undefined, url: 'app://keydesk/index.html' }, target)).toBe(false);
  });

  it('refuses the main frame once it shows another origin', () => {
    for (const url of [
      'https://evil.example/',
      'app://evil/index.html',
      'file:///etc/passwd',
      'http://keydesk/index.html',
      'app://keydesk.evil.example/',
      'app://user:pw@keydesk/index.html',
      'about:blank',
      'data:text/html,hi',
      '',
      null,
      undefined
    ]) {
      expect(isAppSender({ frame: mainFrame, url }, target), String(url)).toBe(false);
    }
  });

  it('compares scheme, host and port — not URL.origin, which is "null" for custom schemes', () => {
    expect(new URL('app://evil/').origin).toBe(new URL('app://keydesk/').origin); // the trap
    expect(sameAppOrigin('app://evil/', 'app://keydesk/')).toBe(false);
    expect(sameAppOrigin('http://127.0.0.1:5173/', 'http://127.0.0.1:5173/index.html')).toBe(true);
    expect(sameAppOrigin('http://127.0.0.1:5174/', 'http://127.0.0.1:5173/')).toBe(false);
    expect(sameAppOrigin('http://localhost:5173/', 'http://127.0.0.1:5173/')).toBe(false);
    expect(sameAppOrigin('not a url', 'app://keydesk/')).toBe(false);
  });

  it('events reach the window only while its top-level frame shows the app', () => {
    expect(mayReceiveEvents('app://keydesk/index.html', target.appUrl)).toBe(true);
    for (const url of ['https://evil.example/', 'app://evil/index.html', 'about:blank', '', null, undefined])
      expect(mayReceiveEvents(url, target.appUrl), String(url)).toBe(false);
  });
});
