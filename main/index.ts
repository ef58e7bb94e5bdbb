// Electron entry only: app lifecycle, the window, single-instance lock, hardening, wiring. Everything else is
// built by main/app.ts (through the session) and runs under plain Node; every decision here is a pure function
// in main/shell/ or main/ipc/ with its own tests.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { app, dialog, type BrowserWindow } from 'electron';
import { toErrorShape } from './errors.ts';
import { wireIpc } from './electron/ipc.ts';
import { reminderNotifications, wireReauthNotifications } from './electron/notifications.ts';
import { wireAutoLock } from './electron/power.ts';
import { registerAppScheme, serveRenderer } from './electron/protocol.ts';
import { createMainWindow, guardWebContents, hardenSession, openExternal } from './electron/window.ts';
import { createIpcCore } from './ipc/index.ts';
import { scrubPassphraseEnv } from './oauth/flow/external.ts';
import { defaultUserDataDir } from './paths.ts';
import { vaultPathFrom } from './shell/args.ts';
import { APP_URL } from './shell/assets.ts';
import { createScheduler } from './shell/scheduler.ts';
import { AppSession } from './shell/session.ts';
import type { Reminder } from './shell/reminders.ts';
import { backgroundTasks } from './shell/tasks.ts';
import { isDevelopment } from './shell/window.ts';

const development = isDevelopment(process.env, app.isPackaged);
const appUrl = development ? process.env.ELECTRON_RENDERER_URL! : APP_URL;
const log = (line: string) => process.stderr.write(`keydesk: ${line}\n`);
// The app never reads KEYDESK_PASSPHRASE (it asks on its lock screen); Electron's shell.openExternal would pass it on.
scrubPassphraseEnv(process.env);

// Before anything reads it (the single-instance lock lives in userData): the app's name and data folder are
// Keydesk's whatever Electron was started with (`electron out/main/index.js` would otherwise be "Electron"), and
// the same folder the CLI computes for the default vault (main/paths.ts).
app.setName('Keydesk');
app.setPath('userData', defaultUserDataDir());

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  let win: BrowserWindow | null = null;
  let session: AppSession | null = null;
  const disposers: (() => void)[] = [];

  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  // Any web contents that appears (there should be none but the window's) gets the same guards.
  app.on('web-contents-created', (_e, contents) => guardWebContents(contents, appUrl));

  void app
    .whenReady()
    .then(async () => {
      let user = 'unknown';
      try {
        user = userInfo().username;
      } catch {
        /* no passwd entry */
      }
      session = new AppSession({ vaultPath: vaultPathFrom(process.argv, process.env), actor: `analyst:${user} (app)`, openExternal });
      const startProblem = await session.unlockOnStart();
      if (startProblem) log(`vault stays locked: ${startProblem.code}`);

      const config = { preloadPath: join(import.meta.dirname, '../preload/index.cjs'), appUrl, development };
      hardenSession(config);
      if (!development) serveRenderer(join(import.meta.dirname, '../renderer'));
      const core = createIpcCore(session, { log });
      win = createMainWindow(config);
      disposers.push(wireIpc(win, core, appUrl));
      disposers.push(wireReauthNotifications(session, () => win));

      const s = session;
      disposers.push(wireAutoLock({ isUnlocked: () => s.isUnlocked(), lock: () => s.lock(), minutes: () => s.autoLockMinutes }));
      const scheduler = createScheduler({ clock: s.clock, isUnlocked: () => s.isUnlocked(), log });
      // Rotation and expiry reminders, unless muted (KEYDESK_REMINDERS=off).
      const reminders = reminderNotifications(() => win);
      disposers.push(() => reminders.dispose());
      const remind = process.env.KEYDESK_REMINDERS === 'off' ? undefined : (r: Reminder) => reminders.show(r);
      for (const task of backgroundTasks(s, remind ? { remind } : {})) scheduler.add(task);
      const tick = setInterval(() => void scheduler.tick(), 5000);
      disposers.push(() => clearInterval(tick));
    })
    .catch((e: unknown) => {
      // A start that fails says so instead of leaving no window. toErrorShape: Keydesk's own message, never foreign text.
      const problem = toErrorShape(e);
      log(`start failed: ${problem.code}`);
      dialog.showErrorBox('Keydesk could not start', problem.message);
      app.exit(1);
    });

  app.on('window-all-closed', () => app.quit());

  let closing = false;
  app.on('before-quit', (event) => {
    if (closing || !session) return;
    // Anchor the audit head and close the vault before the process goes.
    event.preventDefault();
    closing = true;
    for (const d of disposers.splice(0)) d();
    void session.close().finally(() => app.quit());
  });
}
