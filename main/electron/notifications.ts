// Electron adapter: OS notifications for re-auth prompts. The text is built by a pure function (main/shell/notify.ts).
import { Notification, type BrowserWindow } from 'electron';
import type { AppSession } from '../shell/session.ts';
import { reauthNotification } from '../shell/notify.ts';

export function wireReauthNotifications(session: AppSession, win: () => BrowserWindow | null): () => void {
  return session.events.on('reauth.prompt', (e) => {
    const n = reauthNotification(e, session.clock.now());
    if (!n || !Notification.isSupported()) return;
    const note = new Notification({ title: n.title, body: n.body, urgency: 'critical' });
    // Clicking brings the window forward, where the banner's one-click re-auth is.
    note.on('click', () => {
      const w = win();
      if (w && !w.isDestroyed()) {
        if (w.isMinimized()) w.restore();
        w.show();
        w.focus();
      }
    });
    note.show();
  });
}
