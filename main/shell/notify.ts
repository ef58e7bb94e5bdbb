import type { KeydeskEvents } from '../../preload/contract.ts';

/**
 * The OS notification for a re-auth prompt (DESIGN: "While a run waits, the app shows a pending re-auth prompt — in
 * the window and as an OS notification"). Names and counts only; null when nothing should be shown.
 */
export function reauthNotification(e: KeydeskEvents['reauth.prompt'], now: Date): { title: string; body: string } | null {
  if (e.state !== 'raised' || e.waiting < 1) return null;
  const minutes = Math.max(0, Math.round((Date.parse(e.deadline) - now.getTime()) / 60_000));
  const left = Number.isNaN(minutes) ? '' : minutes >= 120 ? ` within ${Math.round(minutes / 60)} hours` : ` within ${minutes} min`;
  const how = e.method === 'oauth' ? 'Sign in again' : 'Enter its secret again';
  return {
    title: `Re-authenticate ${e.credentialName}`,
    body: `${e.waiting} action${e.waiting === 1 ? ' waits' : 's wait'} on ${e.credentialName}. ${how}${left}, or ${e.waiting === 1 ? 'it' : 'they'} will not run.`
  };
}

/** What the notifier needs of an OS notification (Electron's Notification has exactly these). */
export interface OsNotification {
  show(): void;
  close(): void;
  on(event: 'click' | 'close', listener: () => void): unknown;
}

export interface ReauthNotifier {
  /** Feed every reauth.prompt event: a raised prompt shows (or replaces) its notification, a cleared one closes it. */
  handle(e: KeydeskEvents['reauth.prompt']): void;
  /** Credentials with a notification on screen now. */
  readonly showing: readonly string[];
  /** Closes every notification (at quit). */
  dispose(): void;
}

/**
 * One OS notification per credential that has runs waiting. Each one is held until it is clicked, dismissed or
 * cleared: Electron keeps only a weak reference to a Notification, so one nobody holds can be garbage collected and
 * its click handler never runs (electron/electron#16922). A prompt that resolves (re-authenticated) or expires
 * (past its cutoff) closes its notification, so the OS never asks for a re-auth that is no longer needed.
 */
export function createReauthNotifier(deps: {
  create(text: { title: string; body: string }): OsNotification | null;
  now(): Date;
  onClick(credentialId: string): void;
}): ReauthNotifier {
  const shown = new Map<string, OsNotification>();
  const forget = (id: string, n: OsNotification) => {
    if (shown.get(id) === n) shown.delete(id);
  };
  const close = (id: string) => {
    const n = shown.get(id);
    if (!n) return;
    shown.delete(id);
    n.close();
  };
  return {
    handle(e) {
      close(e.credentialId);
      const text = reauthNotification(e, deps.now());
      if (!text) return;
      const n = deps.create(text);
      if (!n) return;
      shown.set(e.credentialId, n);
      n.on('click', () => {
        forget(e.credentialId, n);
        deps.onClick(e.credentialId);
      });
      n.on('close', () => forget(e.credentialId, n));
      n.show();
    },
    get showing() {
      return [...shown.keys()];
    },
    dispose() {
      for (const id of [...shown.keys()]) close(id);
    }
  };
}
