/** Time, injectable so tests can move it (cutoff windows, expiry, "checked 3 min ago"). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function iso(d: Date): string {
  return d.toISOString();
}
