import { describe, expect, it } from 'vitest';
import { isDevelopment, permissionDecision, windowOptions } from './window.ts';

// Guards: "the renderer runs sandboxed, isolated, without Node" and "devtools only in development".
describe('main window options', () => {
  it('sandboxed, context-isolated, no Node anywhere, web security on', () => {
    const w = windowOptions({ preloadPath: '/app/out/preload/index.cjs', development: false }).webPreferences;
    expect(w).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      preload: '/app/out/preload/index.cjs'
    });
  });

  it('devtools only in development', () => {
    expect(windowOptions({ preloadPath: 'p', development: false }).webPreferences.devTools).toBe(false);
    expect(windowOptions({ preloadPath: 'p', development: true }).webPreferences.devTools).toBe(true);
  });

  it('development needs the dev server URL and an unpackaged app', () => {
    expect(isDevelopment({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, false)).toBe(true);
    expect(isDevelopment({ ELECTRON_RENDERER_URL: 'http://localhost:5173' }, true)).toBe(false);
    expect(isDevelopment({}, false)).toBe(false);
    expect(isDevelopment({ ELECTRON_RENDERER_URL: '' }, false)).toBe(false);
  });

  it('every permission request is denied', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'unknown'])
      expect(permissionDecision(p)).toBe(false);
  });
});
