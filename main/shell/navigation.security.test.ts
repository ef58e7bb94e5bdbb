import { describe, expect, it } from 'vitest';
import { isAllowedNavigation, windowOpenDecision } from './navigation.ts';

// Guards: "no navigation away from the app, window.open denied".
describe('navigation guard', () => {
  const app = 'app://keydesk/index.html';

  it('stays inside the app origin', () => {
    expect(isAllowedNavigation('app://keydesk/index.html', app)).toBe(true);
    expect(isAllowedNavigation('app://keydesk/index.html#/audit', app)).toBe(true);
  });

  it('refuses every other destination', () => {
    for (const url of [
      'https://evil.example/',
      'http://127.0.0.1:8080/',
      'file:///etc/passwd',
      'app://other/index.html',
      'javascript:alert(1)',
      'data:text/html,x',
      'about:blank',
      'chrome://settings',
      'devtools://devtools',
      ''
    ]) {
      expect(isAllowedNavigation(url, app), url).toBe(false);
    }
  });

  it('window.open never opens a window; a checked https link goes to the system browser', () => {
    expect(windowOpenDecision('https://learn.microsoft.com/graph')).toEqual({
      action: 'deny',
      external: 'https://learn.microsoft.com/graph'
    });
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'http://evil.example/',
      'app://keydesk/index.html',
      'smb://host/share'
    ]) {
      expect(windowOpenDecision(url), url).toEqual({ action: 'deny', external: null });
    }
  });
});
