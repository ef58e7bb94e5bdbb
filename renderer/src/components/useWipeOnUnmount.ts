import { useCallback } from 'react';

/**
 * A callback ref for a secret field that empties it when it leaves the page. React keeps a copy of every input's last
 * value (its value tracker, on the element), and keeps the last focused text field referenced until another one gains
 * focus — so a secret field removed while focused (Enter submits, the dialog or the lock screen goes away) would keep
 * the secret in the window's memory. Setting `value` to '' goes through the tracker, so both copies are dropped.
 * Stable across renders; React 19 runs the returned cleanup when the element goes, also for fields that come and go.
 */
export function useWipeOnUnmount<T extends HTMLInputElement | HTMLTextAreaElement>(): (el: T | null) => (() => void) | undefined {
  return useCallback((el: T | null) => {
    if (!el) return undefined;
    return () => {
      el.value = '';
    };
  }, []);
}
