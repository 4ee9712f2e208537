// The admin page: the shell (navigation, zone and theme, who is signed in) and the routes.
import { render } from 'preact';
import { prefetchFirstView } from './first_view';
import { watchCopies } from './lib/copy_feed';
import { loc, matchPath, navigate, onLinkClick } from './lib/router';
import { applyTheme, isAdmin, loadSession, needsSignIn, session, sessionError, setZone, signOut, streamStatus, theme, zoneChoice } from './lib/state';
import type { ZoneChoice } from './lib/time';
import { BackfillView, BackfillsView, NewBackfillView } from './views/backfills';
import { CopiesView } from './views/copies';
import { EventsView } from './views/events';
import { JobView } from './views/job';
import { JobsView } from './views/jobs';
import { OverviewView } from './views/overview';
import { RunView } from './views/run';
import { RunsView } from './views/runs';
import { SignIn } from './views/signin';
import { TriggerView } from './views/trigger';
import { VariablesView } from './views/variables';

function Route() {
  const path = loc.value.path;
  let m: Record<string, string> | null;
  if (path === '/' || path === '/index.html' || path === '/jobs') return <JobsView />;
  if (path === '/overview') return <OverviewView />;
  if (path === '/runs') return <RunsView />;
  if (path === '/copies') return <CopiesView />;
  if (path === '/events') return <EventsView />;
  if (path === '/variables') return <VariablesView />;
  if ((m = matchPath('/jobs/:job/trigger', path))) return <TriggerView job={m.job} />;
  if ((m = matchPath('/jobs/:job/backfill', path))) return <NewBackfillView job={m.job} />;
  if (path === '/backfills') return <BackfillsView />;
  if ((m = matchPath('/backfills/:id', path)) && /^\d+$/.test(m.id)) return <BackfillView id={Number(m.id)} />;
  if ((m = matchPath('/jobs/:job', path))) return <JobView name={m.job} />;
  if ((m = matchPath('/runs/:id/tasks/:task/log', path))) return <RunView id={Number(m.id)} task={m.task} tab="log" />;
  if ((m = matchPath('/runs/:id/tasks/:task', path))) return <RunView id={Number(m.id)} task={m.task} tab={null} />;
  if ((m = matchPath('/runs/:id', path)) && /^\d+$/.test(m.id)) return <RunView id={Number(m.id)} task={null} tab={null} />;
  return (
    <main class="page">
      <h1>Not found</h1>
      <p>No page at <code>{path}</code>. <a href="/jobs">Go to the jobs</a>.</p>
    </main>
  );
}

const nav = [
  { href: '/overview', label: 'Overview', match: (p: string) => p === '/overview' },
  { href: '/jobs', label: 'Jobs', match: (p: string) => p === '/' || p.startsWith('/jobs') },
  { href: '/runs', label: 'Runs', match: (p: string) => p.startsWith('/runs') },
  { href: '/copies', label: 'Copies', match: (p: string) => p === '/copies' },
  { href: '/backfills', label: 'Backfills', match: (p: string) => p.startsWith('/backfills') },
  { href: '/events', label: 'Events', match: (p: string) => p === '/events' },
  { href: '/variables', label: 'Variables', match: (p: string) => p === '/variables' },
];

function Shell() {
  const s = session.value;
  const path = loc.value.path;
  return (
    <div class="app" onClick={onLinkClick}>
      <a class="skip" href="#content">Skip to content</a>
      <header class="topbar">
        <a class="brand" href="/jobs"><span class="logo" aria-hidden="true" />Sluice</a>
        <nav class="nav" aria-label="Main">
          {nav.filter((n) => n.href !== '/variables' || isAdmin.value).map((n) => (
            <a key={n.href} href={n.href} class={n.match(path) ? 'on' : ''} aria-current={n.match(path) ? 'page' : undefined}>{n.label}</a>
          ))}
        </nav>
        <div class="topbar-right">
          <span class={`live-dot ${streamStatus.value}`} title={`live updates: ${streamStatus.value}`} aria-label={`live updates ${streamStatus.value}`} role="status" />
          <label class="sr-only" for="zone">Time zone</label>
          <select id="zone" class="compact" value={zoneChoice.value} onChange={(e) => setZone(e.currentTarget.value as ZoneChoice)} title="Times are shown in this zone">
            <option value="utc">UTC</option>
            <option value="local">Browser zone</option>
            <option value="job">Job's zone</option>
          </select>
          <button type="button" class="btn icon" aria-label={`Theme: ${theme.value}`} title={`Theme: ${theme.value}`}
            onClick={() => applyTheme(theme.value === 'auto' ? 'dark' : theme.value === 'dark' ? 'light' : 'auto')}>
            {theme.value === 'dark' ? '☾' : theme.value === 'light' ? '☀' : '◐'}
          </button>
          {s && (
            <span class="who" data-role={s.role}>
              <span class="who-name">{s.name}</span> <span class="badge role">{s.role}</span>
              {s.auth && <button type="button" class="btn small" onClick={signOut}>Sign out</button>}
            </span>
          )}
        </div>
      </header>
      <div id="content"><Route /></div>
    </div>
  );
}

function App() {
  if (needsSignIn.value) return <SignIn />;
  if (!session.value) {
    return <main class="page">{sessionError.value ? <div class="alert" role="alert">{sessionError.value}</div> : <div class="loading">Loading…</div>}</main>;
  }
  return <Shell />;
}

if (location.pathname === '/index.html') navigate('/jobs', true);
// Before the first render (an effect would wait for a frame): the theme, then the session call
// with the first view's own calls beside it.
applyTheme(theme.value, false);
void loadSession();
prefetchFirstView(loc.value.path, loc.value.query);
// Copies' progress is live only: collected from the start, any page can show its series.
watchCopies();
render(<App />, document.getElementById('app')!);
