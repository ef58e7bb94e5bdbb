import type { CredentialView } from '../../preload/contract.ts';
import { datesDue } from '../credentials/lifecycle.ts';
import { relativeTime } from '../text.ts';

/**
 * Rotation and expiry reminders (the app's OS notifications): a credential whose secret expires, or whose rotation
 * falls due under its mode's policy, within `beforeDays` — or already has — is named once a day at most, on the day
 * it first qualifies and every day after until it is rotated or its date moves out of the window. Names and dates
 * only. Pure: the caller keeps `reminded` (credential id → the UTC day it was last named) for the process's life.
 */

export const REMIND_BEFORE_DAYS = 7;
const DAY = 86_400_000;

export interface Reminder {
  credentialId: string;
  title: string;
  body: string;
}

export function dueReminders(
  list: readonly Pick<CredentialView, 'id' | 'name' | 'lifecycle'>[],
  now: Date,
  reminded: Map<string, string>,
  beforeDays = REMIND_BEFORE_DAYS
): Reminder[] {
  const today = now.toISOString().slice(0, 10);
  const horizon = now.getTime() + beforeDays * DAY;
  const out: Reminder[] = [];
  for (const c of list) {
    const soonest = datesDue(c.lifecycle, horizon)[0];
    if (!soonest || reminded.get(c.id) === today) continue;
    reminded.set(c.id, today);
    const past = Date.parse(soonest.at) <= now.getTime();
    const when = relativeTime(soonest.at, now);
    out.push({
      credentialId: c.id,
      title: soonest.kind === 'expiry' ? `${c.name} ${past ? 'has expired' : 'expires soon'}` : `Rotate ${c.name}`,
      body:
        soonest.kind === 'expiry'
          ? `Its secret ${past ? `expired ${when}` : `expires ${when}`}. Rotate it (Rotate secret… on its page) before response actions need it.`
          : `Its rotation ${past ? `was due ${when}` : `is due ${when}`} under its policy. Rotate it from its page.`
    });
  }
  return out;
}
