// Electron adapter: carries contract calls and events between the window and the IPC core. The sender check and
// the dispatcher are pure (main/ipc/sender.ts, main/ipc/dispatch.ts).
import { ipcMain, type BrowserWindow } from 'electron';
import type { Result } from '../../preload/contract.ts';
import { IPC_EVENT, IPC_INVOKE } from '../../preload/ipc-names.ts';
import type { IpcCore } from '../ipc/index.ts';
import { isAppSender, mayReceiveEvents, type SenderInfo } from '../ipc/sender.ts';

const FORBIDDEN: Result<never> = { ok: false, error: { code: 'FORBIDDEN_SENDER', message: 'Only the Keydesk window may call the app.' } };
const POLL_MS = 3000;

export function wireIpc(win: BrowserWindow, core: IpcCore, appUrl: string): () => void {
  ipcMain.handle(IPC_INVOKE, (event, channel: unknown, input: unknown) => {
    let sender: SenderInfo;
    try {
      // Reading a WebFrameMain whose render frame is gone throws ("Render frame was disposed…"): that sender is refused.
      const frame = event.senderFrame;
      sender = { frame, url: frame?.url, detached: frame?.detached };
    } catch {
      return FORBIDDEN;
    }
    if (!isAppSender(sender, { mainFrame: win.webContents.mainFrame, appUrl })) return FORBIDDEN;
    return core.dispatch(channel, input);
  });
  const stopForwarding = core.forward((name, payload) => {
    if (!win.isDestroyed() && mayReceiveEvents(win.webContents.mainFrame.url, appUrl)) win.webContents.send(IPC_EVENT, name, payload);
  });
  const poll = setInterval(() => core.pollExternalChanges(), POLL_MS);
  return () => {
    clearInterval(poll);
    stopForwarding();
    ipcMain.removeHandler(IPC_INVOKE);
  };
}
