// The browser suite's fixtures: the real `sluice serve` (SLUICE_BINARY) on a real store
// (SQLite in a temporary directory, or a fresh database on the PostgreSQL of
// scripts/test-servers.sh, SLUICE_TEST_PG_URL) and Debian's chromium driven by playwright-core.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const binary = process.env.SLUICE_BINARY ?? '';
export const storeKind = process.env.SLUICE_UI_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const chromiumPath = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';

if (!binary) throw new Error('SLUICE_BINARY is not set: run the browser tests through ctest (make test)');

export interface Token {
  token: string;
  line: string;
}

export function newToken(name: string, role: string): Token {
  const out = execFileSync(binary, ['token', 'new', name, '--role', role], { encoding: 'utf8' }).trim().split('\n');
  if (!out[0].startsWith('token: ')) throw new Error('unexpected `sluice token new` output: ' + out.join('\n'));
  return { token: out[0].slice(7), line: out[out.length - 1] };
}

// Jobs of a small data team: a parametrised load with a fan-out, a job that fails after a retry,
// a job with a long log and a paused one.
export const jobsYaml = `
jobs:
  load-orders:
    description: Copies new and changed orders into the warehouse and rebuilds the summary.
    schedule: "*/30 * * * *"
    timezone: Europe/Berlin
    tags: [warehouse, orders]
    params:
      who: {type: string, default: world, description: "Who the extract greets."}
      count: {type: integer, default: 2, description: "Lines the extract prints."}
      mode: {type: string, values: [incremental, full], default: incremental}
    tasks:
      extract:
        type: shell
        command: 'for i in $(seq 1 "$SLUICE_PARAM_COUNT"); do echo "extract $SLUICE_PARAM_WHO row batch $i"; done; sleep 5; echo "extract done"'
      transform:
        type: shell
        depends_on: [extract]
        command: 'echo "transform ok"'
      load:
        type: noop
        depends_on: [transform]
      quality-check:
        type: noop
        depends_on: [extract]
      publish:
        type: noop
        depends_on: [load, quality-check]
  nightly-cleanup:
    description: Vacuums the archive; the archive host is down in this test.
    schedule: "0 3 * * *"
    tags: [maintenance]
    retries: {max_attempts: 2, delay: 1s}
    tasks:
      vacuum:
        type: shell
        command: 'echo "connecting to archive"; echo "could not reach archive.internal:5432" >&2; exit 3'
  chatty:
    description: Writes a long log.
    tags: [demo]
    tasks:
      talk:
        type: shell
        command: 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo "line $i of the chatty task"; done'
  rebuild-views:
    description: Rebuilds the reporting views for one hour of data.
    schedule: "0 * * * *"
    catchup: none
    tags: [warehouse]
    tasks:
      rebuild:
        type: shell
        command: 'echo "rebuilding $SLUICE_DATA_INTERVAL_START"; sleep 1'
  long-export:
    description: Exports the ledger; takes a while.
    tags: [finance]
    tasks:
      export:
        type: shell
        command: 'echo "export started"; sleep 60; echo "export done"'
  count-rows:
    description: Reports its progress while it counts.
    tags: [demo]
    tasks:
      count:
        type: shell
        command: 'for i in 1 2 3 4 5 6; do echo "::sluice metric rows=$((i * 1000))"; sleep 1; done; echo "::sluice output batch_id=b-42"'
  hourly-rollup:
    schedule: "15 * * * *"
    timezone: America/New_York
    tags: [warehouse]
    tasks:
      rollup:
        type: noop
  sync-orders:
    description: Seeds a shop database, then copies its orders into the warehouse, a few rows at a time.
    tags: [warehouse, orders]
    tasks:
      seed:
        type: sql
        connection: shop
        sql: |
          CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, updated_at TIMESTAMP NOT NULL);
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 160)
          INSERT OR IGNORE INTO orders SELECT i, datetime('2024-01-01', '+' || i || ' seconds') FROM n;
      load:
        type: copy
        depends_on: [seed]
        source: {connection: shop, table: orders, cursor: [updated_at, id]}
        sink: {connection: warehouse, table: orders, mode: upsert, key: [id]}
        batch_rows: 5
        sleep_between_batches: 500ms
        create_table: if_missing
`;

// The databases of the copy job (sync-orders): SQLite files in the daemon's directory.
const connectionsYaml = `connections:
  shop: {type: sqlite, url: "sqlite://shop.db"}
  warehouse: {type: sqlite, url: "sqlite://warehouse.db"}
`;

export interface Daemon {
  port: number;
  base: string;
  dir: string;
  stop: () => Promise<void>;
}

function postgresUrl(): { url: string; drop: () => void } {
  const admin = process.env.SLUICE_TEST_PG_URL;
  if (!admin) throw new Error('SLUICE_TEST_PG_URL is not set: run through scripts/run-tests.sh (make test), which starts PostgreSQL');
  const name = `sluice_ui_${process.pid}_${Date.now() % 100000}`;
  execFileSync('psql', [admin, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name} TEMPLATE template0`]);
  const u = new URL(admin);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    drop: () => {
      try {
        execFileSync('psql', [admin, '-q', '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
      } catch (e) {
        console.error('could not drop', name, e);
      }
    },
  };
}

// `extraJobs`: more jobs (YAML under `jobs:`, indented two spaces) after the usual ones.
export async function startDaemon(serverExtra: string, store: 'sqlite' | 'postgres' = storeKind, extraJobs = ''): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ui-'));
  const pg = store === 'postgres' ? postgresUrl() : null;
  const url = pg ? pg.url : 'sqlite://var/ui.db';
  const config = `server:\n  listen: "127.0.0.1:0"\n${serverExtra}store:\n  url: "${url}"\nshutdown_grace: 1s\n${connectionsYaml}${jobsYaml}${extraJobs}`;
  writeFileSync(join(dir, 'sluice.yaml'), config);
  const portFile = join(dir, 'port');
  const log: string[] = [];
  const child: ChildProcess = spawn(binary, ['serve', '-c', join(dir, 'sluice.yaml'), '--port-file', portFile], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => log.push(String(d)));
  child.stderr!.on('data', (d) => log.push(String(d)));
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 30000;
  let port = 0;
  while (Date.now() < deadline && !exited) {
    if (existsSync(portFile)) {
      port = Number(readFileSync(portFile, 'utf8').trim());
      try {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (r.ok) break;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!port || exited) throw new Error('sluice serve did not become ready:\n' + log.join(''));
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    dir,
    stop: async () => {
      if (!exited) {
        const gone = new Promise((r) => child.on('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    // Root in CI containers needs --no-sandbox; the resolver rule lets a test act as a foreign
    // site whose name resolves to the daemon (DNS rebinding).
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--host-resolver-rules=MAP rebind.attacker.test 127.0.0.1'],
  });
}

// Calls the API from the test (not the page), as an operator would with curl.
export async function apiCall(d: Daemon, method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  const r = await fetch(d.base + path, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(body ?? {}) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

export async function waitRun(d: Daemon, id: number, token?: string, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await apiCall(d, 'GET', `/api/v1/runs/${id}`, token);
    if (r.json && r.json.state !== 'queued' && r.json.state !== 'running') return r.json;
    if (Date.now() > deadline) throw new Error(`run ${id} did not finish: ${JSON.stringify(r.json)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
