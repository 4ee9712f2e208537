import { useState } from 'preact/hooks';
import { sessionError, signIn } from '../lib/state';

export function SignIn() {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin">
      <form
        class="card signin-card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          await signIn(token);
          setBusy(false);
        }}
      >
        <div class="brand big"><span class="logo" aria-hidden="true" />Sluice</div>
        <h1>Sign in</h1>
        <p class="muted">
          Paste an API token (<code>sluice token new NAME --role viewer</code> makes one). It is kept in this tab only and sent as a bearer header.
        </p>
        <label class="field">
          <span>Token</span>
          <input type="password" name="token" autoComplete="off" required value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        </label>
        {sessionError.value && <div class="alert" role="alert">{sessionError.value}</div>}
        <button class="btn primary wide" type="submit" disabled={busy || !token.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
