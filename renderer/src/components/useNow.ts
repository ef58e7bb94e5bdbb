import { useEffect, useState } from 'react';

/** The current time, re-read every `ms` so "checked 3 min ago" stays true while the window is open. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
