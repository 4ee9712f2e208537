// The Trigger form, generated from the job's declared params: types, defaults, required, allowed
// values; the server's validation message shows at the field it names.
import { useState } from 'preact/hooks';
import { ApiError, get, post, seg } from '../lib/api';
import { jobPath } from '../lib/api_paths';
import { fieldOfMessage } from '../lib/params';
import { navigate } from '../lib/router';
import { canOperate } from '../lib/state';
import type { JobDetail, ParamSpec } from '../lib/types';
import { ErrorBox, Loading, PageHeader, useResource } from '../components/common';

function ParamField({ p, value, error, onInput }: { p: ParamSpec; value: string; error?: string; onInput: (v: string) => void }) {
  const id = `param-${p.name}`;
  const describedBy = [p.description ? id + '-help' : '', error ? id + '-error' : ''].filter(Boolean).join(' ') || undefined;
  let input;
  if (p.values && p.values.length) {
    input = (
      <select id={id} value={value} aria-invalid={!!error} aria-describedby={describedBy} onChange={(e) => onInput(e.currentTarget.value)}>
        {!p.required && <option value="">(default{p.default !== null ? `: ${p.default}` : ''})</option>}
        {p.values.map((v) => <option key={v} value={v}>{v}</option>)}
      </select>
    );
  } else if (p.type === 'boolean') {
    input = (
      <select id={id} value={value} aria-invalid={!!error} aria-describedby={describedBy} onChange={(e) => onInput(e.currentTarget.value)}>
        <option value="">(default{p.default !== null ? `: ${p.default}` : ''})</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  } else {
    const common = {
      id,
      name: p.name,
      placeholder: p.default ?? '',
      required: p.required,
      value,
      'aria-invalid': !!error,
      'aria-describedby': describedBy,
      onInput: (e: Event) => onInput((e.currentTarget as HTMLInputElement).value),
    };
    input = p.type === 'date' ? <input type="date" {...common} /> : (
      <input type="text" inputMode={p.type === 'integer' ? 'numeric' : p.type === 'number' ? 'decimal' : undefined} {...common} />
    );
  }
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>
        <span class="mono">{p.name}</span> <span class="muted small">{p.type}{p.required ? ', required' : ''}</span>
      </label>
      {input}
      {p.description && <div id={id + '-help'} class="help">{p.description}</div>}
      {error && <div id={id + '-error'} class="field-error" role="alert">{error}</div>}
    </div>
  );
}

export function TriggerView({ job }: { job: string }) {
  const detail = useResource('job:' + job, () => get<JobDetail>(jobPath(job)));
  const [values, setValues] = useState<Record<string, string>>({});
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const crumbs = <><a href="/jobs">Jobs</a> / <a href={`/jobs/${seg(job)}`}>{job}</a> /</>;
  if (!canOperate.value) {
    return <main class="page"><PageHeader crumbs={crumbs} title="Trigger" /><div class="alert">Your role may not trigger runs.</div></main>;
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== '') params[k] = v;
    try {
      const r = await post<{ run_id: number; created: boolean }>(`/api/v1/jobs/${seg(job)}/runs`, { params },
        key.trim() ? { 'Idempotency-Key': key.trim() } : undefined);
      navigate(`/runs/${r.run_id}`);
    } catch (err) {
      const field = err instanceof ApiError ? fieldOfMessage(err.message) : null;
      if (field && detail.data?.params.some((p) => p.name === field)) setFieldErrors({ [field]: (err as ApiError).message });
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="page narrow">
      <PageHeader crumbs={crumbs} title={<>Trigger <span class="mono">{job}</span></>} sub={detail.data?.description} />
      <ErrorBox error={detail.error} />
      {detail.loading && !detail.data ? <Loading /> : detail.data && (
        <form class="card form" onSubmit={submit} noValidate>
          {detail.data.params.length === 0 && <p class="muted">This job declares no params.</p>}
          {detail.data.params.map((p) => (
            <ParamField key={p.name} p={p} value={values[p.name] ?? ''} error={fieldErrors[p.name]} onInput={(v) => setValues({ ...values, [p.name]: v })} />
          ))}
          <div class="field">
            <label for="idempotency-key">Idempotency key <span class="muted small">optional</span></label>
            <input id="idempotency-key" value={key} maxLength={200} onInput={(e) => setKey(e.currentTarget.value)} aria-describedby="idempotency-help" />
            <div id="idempotency-help" class="help">The same key for this job returns the run it created before instead of a new one.</div>
          </div>
          <ErrorBox error={error} />
          <div class="form-actions">
            <a class="btn" href={`/jobs/${seg(job)}`}>Cancel</a>
            <button class="btn primary" type="submit" disabled={busy}>{busy ? 'Triggering…' : 'Trigger run'}</button>
          </div>
        </form>
      )}
    </main>
  );
}
