// Electron adapter: OS notifications for re-auth prompts. What is shown, replaced, held and closed is decided by a
// pure notifier (main/shell/notify.ts); this file only creates Electron Notifications and raises the window.
import { Notification, type BrowserWindow } from 'electron';
import type { AppSession } from '../shell/session.ts';
import { createReauthNotifier } from '../shell/notify.ts';
import type { Reminder } from '../shell/reminders.ts';

export function wireReauthNotifications(session: AppSession, win: () => BrowserWindow | null): () => void {
  const notifier = createReauthNotifier({
    now: () => session.clock.now(),
    create: (text) => (Notification.isSupported() ? new Notification({ title: text.title, body: text.body, urgency: 'critical' }) : null),
    // Clicking brings the window forward, where the banner's one-click re-auth is.
    onClick: () => {
      const w = win();
      if (w && !w.isDestroyed()) {
        if (w.isMinimized()) w.restore();
        w.show();
        w.focus();
      }
    }
  });
  const off = session.events.on('reauth.prompt', (e) => notifier.handle(e));
  return () => {
    off();
    notifier.dispose();
  };
}

/**
 * Shows a rotation or expiry reminder. Each notification is held until clicked or closed (Electron keeps only a weak
 * reference: electron/electron#16922); a click brings the window forward.
 */
export function reminderNotifications(win: () => BrowserWindow | null): { show(r: Reminder): void; dispose(): void } {
  const held = new Set<Notification>();
  return {
    show(r) {
      if (!Notification.isSupported()) return;
      const n = new Notification({ title: r.title, body: r.body });
      held.add(n);
      n.on('close', () => held.delete(n));
      n.on('click', () => {
        held.delete(n);
        const w = win();
        if (w && !w.isDestroyed()) {
          if (w.isMinimized()) w.restore();
          w.show();
          w.focus();
        }
      });
      n.show();
    },
    dispose() {
      for (const n of held) n.close();
      held.clear();
    }
  };
}
