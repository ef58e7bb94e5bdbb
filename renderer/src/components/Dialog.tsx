import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal dialog on the native <dialog> element: showModal() makes the rest of the window inert, Tab and
 * Shift+Tab wrap around inside it, Escape cancels, and focus returns to where it was when the dialog closes.
 *
 * It opens once, when it mounts. Parents pass `onClose` as a new arrow on every render (a list refreshed by an
 * event, the "3 min ago" clock): the latest one is kept in a ref, so a re-render never closes, reopens or moves
 * the focus out of the field the analyst is typing in.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean; describedBy?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(props.onClose);
  useEffect(() => {
    onCloseRef.current = props.onClose;
  });
  useEffect(() => {
    const onClose = () => onCloseRef.current();
    const d = ref.current;
    if (!d) return;
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!d.open) d.showModal();
    const autofocus = d.querySelector<HTMLElement>('[data-autofocus]');
    autofocus?.focus();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    // A modal <dialog> makes the page inert, but Tab past its last control would leave for the browser's own UI:
    // wrap it around, both ways, so keyboard focus stays in the dialog until it closes.
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Tab') return;
      const items = [...d.querySelectorAll<HTMLElement>('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
        (el) => !el.hasAttribute('disabled') && el.tabIndex >= 0 && el.getClientRects().length > 0
      );
      const first = items[0];
      const last = items[items.length - 1];
      if (!first || !last) return;
      if (e.shiftKey && (document.activeElement === first || !d.contains(document.activeElement))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !d.contains(document.activeElement))) {
        e.preventDefault();
        first.focus();
      }
    };
    d.addEventListener('cancel', onCancel);
    d.addEventListener('keydown', onKey);
    return () => {
      d.removeEventListener('cancel', onCancel);
      d.removeEventListener('keydown', onKey);
      if (d.open) d.close();
      previous?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={props.wide ? 'dialog dialog-wide' : 'dialog'}
      aria-labelledby={titleId}
      aria-describedby={props.describedBy}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="icon-button" onClick={() => onCloseRef.current()} aria-label="Close">
          ✕
        </button>
      </div>
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}
