// Setup of the renderer's unit tests (vitest.config.ts, project "renderer"): what jsdom lacks for our components,
// and Testing Library's cleanup (it registers itself only where the test API is global; ours is imported).
//
// jsdom has the <dialog> element but none of its methods, and no layout. Chromium (the e2e specs) has both. The
// stand-ins below follow the HTML spec for what our components rely on, and nothing more:
// - showModal() / close(): the `open` attribute, the top layer's order, the close event, and the dialog focusing
//   steps; the rest of the page is NOT made inert here (e2e/keyboard.spec.ts checks that in Chromium);
// - Escape with a modal dialog open fires a cancelable `cancel` at the topmost one, which closes unless cancelled;
// - getClientRects() is empty for an element that has no box (not in the document, or display: none itself or
//   through an ancestor, e.g. a closed <dialog> or [hidden] by jsdom's own UA stylesheet), one rect otherwise.
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => {
  cleanup();
});

// waitFor / findBy*: main's real work (a passphrase's scrypt, SQLite writes) on a shared machine can take more than
// Testing Library's default second; like the e2e specs' expect timeout, this is a bound, not a measurement.
configure({ asyncUtilTimeout: 10_000 });

const topLayer: HTMLDialogElement[] = [];

const FOCUSABLE = 'button, [href], input, select, textarea, [tabindex]';

function dialogFocusingSteps(d: HTMLDialogElement): void {
  const candidates = [...d.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hasAttribute('disabled'));
  const target = candidates.find((el) => el.hasAttribute('autofocus')) ?? candidates[0] ?? d;
  target.focus();
}

if (typeof HTMLDialogElement.prototype.showModal !== 'function') {
  HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
    if (this.open) {
      if (topLayer.includes(this)) return;
      throw new DOMException('The dialog is already open as a non-modal dialog.', 'InvalidStateError');
    }
    if (!this.isConnected) throw new DOMException('The dialog is not in a document.', 'InvalidStateError');
    this.setAttribute('open', '');
    topLayer.push(this);
    dialogFocusingSteps(this);
  };
  HTMLDialogElement.prototype.show = function show(this: HTMLDialogElement) {
    if (this.open) return;
    this.setAttribute('open', '');
    dialogFocusingSteps(this);
  };
  HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement, returnValue?: string) {
    if (!this.open) return;
    this.removeAttribute('open');
    const i = topLayer.indexOf(this);
    if (i >= 0) topLayer.splice(i, 1);
    if (returnValue !== undefined) this.returnValue = returnValue;
    // The spec queues the close event as a task.
    setTimeout(() => this.dispatchEvent(new Event('close')), 0);
  };

  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    // A dialog removed from the document leaves the top layer (React unmounted it without closing it).
    for (let i = topLayer.length - 1; i >= 0; i--) if (!topLayer[i]!.isConnected) topLayer.splice(i, 1);
    const top = topLayer[topLayer.length - 1];
    if (!top) return;
    const cancel = new Event('cancel', { cancelable: true });
    if (top.dispatchEvent(cancel)) top.close();
  });
}

function hasBox(el: Element): boolean {
  if (!el.isConnected) return false;
  for (let n: Element | null = el; n; n = n.parentElement) if (getComputedStyle(n).display === 'none') return false;
  return true;
}

Element.prototype.getClientRects = function getClientRects(this: Element) {
  const rects = hasBox(this) ? [new DOMRect(0, 0, 1, 1)] : [];
  return Object.assign(rects, { item: (i: number) => rects[i] ?? null }) as unknown as DOMRectList;
};
