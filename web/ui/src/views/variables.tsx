// Variables (admin): list, set and delete. A secret value is write-only: the page can set it,
// never read it back.
import { useState } from 'preact/hooks';
import { api, get, seg } from '../lib/api';
import { variablesPath } from '../lib/api_paths';
import { isAdmin } from '../lib/state';
import { Confirm, ErrorBox, Loading, PageHeader, Time, useResource } from '../components/common';

interface Variable {
  key: string;
  value: string | null;
  secret: boolean;
  updated_at: string;
}

export function VariablesView() {
  const list = useResource('variables', () => get<{ variables: Variable[]; truncated: boolean }>(variablesPath()));
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [secret, setSecret] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  if (!isAdmin.value) {
    return <main class="page"><PageHeader title="Variables" /><div class="alert">Variables need the admin role.</div></main>;
  }
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('PUT', `/api/v1/variables/${seg(key.trim())}`, { value, secret });
      setKey('');
      setValue('');
      setSecret(false);
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="page">
      <PageHeader title="Variables" sub={<>Tasks see each as <code>SLUICE_VAR_KEY</code> and <code>:var_key</code>. Secret values are write-only.</>} />
      <form class="card form var-form" onSubmit={save}>
        <div class="field-row">
          <div class="field"><label for="var-key">Key</label><input id="var-key" required pattern="[A-Za-z0-9_.\-]{1,128}" value={key} onInput={(e) => setKey(e.currentTarget.value)} /></div>
          <div class="field grow"><label for="var-value">Value</label>{secret
            ? <input id="var-value" type="password" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
            : <input id="var-value" type="text" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />}</div>
        </div>
        <div class="form-actions">
          <label class="check"><input type="checkbox" checked={secret} onChange={(e) => setSecret(e.currentTarget.checked)} /> Secret (write-only)</label>
          <button class="btn primary" type="submit" disabled={busy || !key.trim()}>Set variable</button>
        </div>
        <ErrorBox error={error} />
      </form>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? <Loading /> : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {(list.data?.variables ?? []).map((v) => (
                <tr key={v.key} data-key={v.key}>
                  <td class="mono strong">{v.key}</td>
                  <td class="mono clip">{v.secret ? <span class="badge">secret</span> : v.value}</td>
                  <td><Time at={v.updated_at} /></td>
                  <td class="right"><button type="button" class="btn small danger" onClick={() => setDeleting(v.key)}>Delete</button></td>
                </tr>
              ))}
              {list.data?.variables.length === 0 && <tr><td colSpan={4} class="muted center">No variables.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
      <Confirm open={deleting !== null} title={`Delete ${deleting ?? ''}?`} action="Delete" danger onClose={() => setDeleting(null)}
        onConfirm={async () => {
          const k = deleting!;
          try {
            await api('DELETE', `/api/v1/variables/${seg(k)}`);
            list.reload();
          } catch (err) {
            setError(err);
          }
        }}>
        <p>Tasks that read it fail or fall back to their default from their next run on.</p>
      </Confirm>
    </main>
  );
}
