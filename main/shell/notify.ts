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
