// Electron adapter: the main window and its hardening. Every decision is a pure function in main/shell/.
import { BrowserWindow, session as electronSession, shell, type WebContents } from 'electron';
import { developmentCsp, withCspHeader } from '../shell/csp.ts';
import { openExternalUrl } from '../external.ts';
import { isAllowedNavigation, windowOpenDecision } from '../shell/navigation.ts';
import { permissionDecision, windowOptions } from '../shell/window.ts';

export interface WindowConfig {
  preloadPath: string;
  appUrl: string;
  development: boolean;
}

/** The one checked way to open a link outside the app. */
export function openExternal(url: unknown): Promise<void> {
  return openExternalUrl(url, (u) => shell.openExternal(u));
}

/** Applies the navigation and window.open guards to any web contents (the window's, and any other that appears). */
export function guardWebContents(contents: WebContents, appUrl: string): void {
  contents.on('will-navigate', (event) => {
    if (!isAllowedNavigation(event.url, appUrl)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAllowedNavigation(event.url, appUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAllowedNavigation(event.url, appUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const d = windowOpenDecision(url);
    if (d.external) void openExternal(d.external).catch(() => undefined);
    return { action: d.action };
  });
}

/** Session-wide: every permission denied; in development the dev server's responses get the development CSP. */
export function hardenSession(config: WindowConfig): void {
  const ses = electronSession.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(permissionDecision(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => permissionDecision(permission));
  ses.setDevicePermissionHandler(() => false);
  if (config.development) {
    const policy = developmentCsp(config.appUrl);
    ses.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: withCspHeader(details.responseHeaders, policy) }));
  }
}

export function createMainWindow(config: WindowConfig): BrowserWindow {
  const win = new BrowserWindow(windowOptions({ preloadPath: config.preloadPath, development: config.development }));
  guardWebContents(win.webContents, config.appUrl);
  if (!config.development) {
    win.webContents.on('devtools-opened', () => win.webContents.closeDevTools());
  }
  win.once('ready-to-show', () => win.show());
  void win.loadURL(config.appUrl);
  return win;
}
