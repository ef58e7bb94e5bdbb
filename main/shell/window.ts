/**
 * The main window's options, as plain data (the Electron adapter passes them to `new BrowserWindow`). Every
 * security-relevant preference is spelled out rather than left to Electron's defaults.
 */
export interface WindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  autoHideMenuBar: boolean;
  webPreferences: {
    preload: string;
    sandbox: true;
    contextIsolation: true;
    nodeIntegration: false;
    nodeIntegrationInWorker: false;
    nodeIntegrationInSubFrames: false;
    webSecurity: true;
    allowRunningInsecureContent: false;
    webviewTag: false;
    experimentalFeatures: false;
    navigateOnDragDrop: false;
    safeDialogs: true;
    spellcheck: false;
    devTools: boolean;
  };
}

export function windowOptions(opts: { preloadPath: string; development: boolean }): WindowOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Keydesk',
    autoHideMenuBar: true,
    webPreferences: {
      preload: opts.preloadPath,
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
      safeDialogs: true,
      spellcheck: false,
      // Devtools only while developing: in a packaged app they would let anyone at the keyboard drive the bridge.
      devTools: opts.development
    }
  };
}

/** Development means the electron-vite dev server, never a packaged app. */
export function isDevelopment(env: Record<string, string | undefined>, isPackaged: boolean): boolean {
  return !isPackaged && typeof env.ELECTRON_RENDERER_URL === 'string' && env.ELECTRON_RENDERER_URL.length > 0;
}

/** Every permission request (camera, notifications from the page, geolocation, clipboard…) is denied. */
export function permissionDecision(_permission: string): false {
  return false;
}
