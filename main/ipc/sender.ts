/**
 * Who may call main: only the app's own top-level frame, loaded from the app's own origin. Pure, so the check
 * is unit-tested here and the Electron adapter only gathers `event.senderFrame`, its URL and the window's main frame.
 */
export interface SenderInfo {
  /** `event.senderFrame` (null once the frame navigated away or was destroyed). */
  frame: unknown;
  /** The sending frame's URL. */
  url: string | null | undefined;
  /**
   * `senderFrame.detached`: a frame running its unload handlers after a navigation replaced it. Its `senderFrame`
   * can resolve to the page that replaced it, so a message from it proves nothing about who sent it.
   */
  detached?: boolean | undefined;
}

export interface AppTarget {
  /** `win.webContents.mainFrame` of the app window. */
  mainFrame: unknown;
  /** The URL the app is served from (app://keydesk/index.html, or the dev server / e2e server URL). */
  appUrl: string;
}

/**
 * Same scheme, host and port. Compared field by field: WHATWG `URL.origin` is "null" for custom schemes such as
 * app://, which would make every app:// URL "equal".
 */
export function sameAppOrigin(url: string | null | undefined, appUrl: string): boolean {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return false;
  let a: URL;
  let b: URL;
  try {
    a = new URL(url);
    b = new URL(appUrl);
  } catch {
    return false;
  }
  if (a.username || a.password) return false;
  return a.protocol === b.protocol && a.hostname === b.hostname && a.port === b.port && a.hostname !== '';
}

/** True only for the window's main frame, on the app's origin. A subframe, a popup or a navigated frame fails. */
export function isAppSender(sender: SenderInfo, target: AppTarget): boolean {
  if (sender.frame === null || sender.frame === undefined || sender.detached === true) return false;
  if (sender.frame !== target.mainFrame) return false;
  return sameAppOrigin(sender.url, target.appUrl);
}

/**
 * Events go to the window only while its top-level frame shows the app: they name credentials, runs and tenants, and
 * must not reach a page the window was somehow made to show (navigation is blocked; this holds even if it were not).
 */
export function mayReceiveEvents(mainFrameUrl: string | null | undefined, appUrl: string): boolean {
  return sameAppOrigin(mainFrameUrl, appUrl);
}
