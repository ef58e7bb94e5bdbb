import { useWipeOnUnmount } from './useWipeOnUnmount.ts';

/**
 * The vault passphrase, asked inside a one-click action when a passphrase vault is locked (same gesture). Uncontrolled
 * (no `value` prop), so React never writes the passphrase into a `value` attribute of the page's HTML.
 */
export function PassphraseField(props: { id: string; onChange: (v: string) => void; error?: string | undefined }) {
  const wipe = useWipeOnUnmount<HTMLInputElement>();
  return (
    <div className="field">
      <label htmlFor={props.id}>Vault passphrase (the vault is locked)</label>
      <input
        id={props.id}
        ref={wipe}
        type="password"
        autoComplete="current-password"
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${props.id}-err` : undefined}
      />
      {props.error ? (
        <p id={`${props.id}-err`} className="field-error">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
