import type { CredentialStatus } from '../../../preload/contract.ts';

const LABEL: Record<CredentialStatus, { text: string; icon: string; hint: string }> = {
  ok: { text: 'OK', icon: '✓', hint: 'The last check succeeded.' },
  failed: { text: 'Failed', icon: '✕', hint: 'The provider rejected it: fix the secret or its permissions.' },
  expired: { text: 'Expired', icon: '!', hint: 'It has expired: re-authenticate or enter a new secret.' },
  unknown: { text: 'Unknown', icon: '?', hint: 'Not checked yet, or the provider could not be reached.' }
};

/** Health as text and an icon, not colour alone. */
export function StatusChip({ status }: { status: CredentialStatus }) {
  const l = LABEL[status];
  return (
    <span className={`chip chip-${status}`} title={l.hint}>
      <span aria-hidden="true" className="chip-icon">
        {l.icon}
      </span>
      {l.text}
    </span>
  );
}
