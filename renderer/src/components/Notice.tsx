import type { ReactNode } from 'react';

/** An inline message: `role="alert"` for errors (read out at once), `role="status"` otherwise. */
export function Notice(props: { kind: 'error' | 'info' | 'success' | 'warning'; children: ReactNode; title?: string }) {
  return (
    <div className={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.title ? <strong className="notice-title">{props.title}</strong> : null}
      <div>{props.children}</div>
    </div>
  );
}

export function EmptyState(props: { title: string; children: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <h2>{props.title}</h2>
      <p>{props.children}</p>
      {props.action}
    </div>
  );
}
