import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal dialog on the native <dialog> element: showModal() makes the rest of the window inert (focus stays
 * trapped inside), Escape cancels, and focus returns to where it was when the dialog closes.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean; describedBy?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const { onClose } = props;
  useEffect(() => {
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
    d.addEventListener('cancel', onCancel);
    return () => {
      d.removeEventListener('cancel', onCancel);
      if (d.open) d.close();
      previous?.focus();
    };
  }, [onClose]);
  return (
    <dialog ref={ref} className={props.wide ? 'dialog dialog-wide' : 'dialog'} aria-labelledby={titleId} aria-describedby={props.describedBy}>
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}
