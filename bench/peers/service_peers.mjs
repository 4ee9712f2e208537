// The peers of bench/service_bench.sh's "trigger" and "trigger_to_start" cases: a job queue
// library enqueues a no-op job and runs it, on the same PostgreSQL server as sluice, in a
// database of its own (docs/benchmarks.md, "Service").
//
// Usage: node bench/peers/service_peers.mjs SYSTEM DATABASE_URL [SECONDS]
//   SYSTEM: graphile-worker | pg-boss | dbos
// Prints one JSON object per measurement, in the shape of service_bench.sh's lines:
//   trigger           16 concurrent producers enqueue for SECONDS (10); jobs/s from the first
//                     enqueue call to the moment the database holds every job completed
//   trigger_to_start  500 jobs enqueued at 50/s; from the enqueue call to the handler's start
//
// The workers run in a child process of their own and the producers in this one, as a service
// and its clients would (sluice is one process, wrk another). Both processes stamp times with
// performance.timeOrigin + performance.now(): one machine, one wall clock, sub-millisecond.
//
// Each system runs with its documented fastest settings for many small jobs (cited at each
// adapter below); everything else is its default.
import { fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

const PRODUCERS = 16;
const LATENCY_RATE = 50;
const LATENCY_JOBS = 500;
const DRAIN_TIMEOUT_MS = 300_000;
const READY_TIMEOUT_MS = 120_000;
// The completion check polls the database this often; it bounds the error on the end time.
const DRAIN_POLL_MS = 5;

const now = () => performance.timeOrigin + performance.now();

// ---- graphile-worker ----
// Settings of its performance page (worker.graphile.org/docs/performance, the configuration of
// its "quick stats"): concurrentJobs 24, maxPoolSize 25, localQueue size 500 (jobs fetched and
// locked in batches), completeJobBatchDelay 0 and failJobBatchDelay 0 (completions batched).
// New jobs reach the worker through LISTEN/NOTIFY (the default; pollInterval only matters for
// future-dated jobs and retries). Completed jobs are deleted, so "all completed" is "no job left".
// Its default logger writes a line per completed job, which would be most of what we measure.
const quietGraphileLogger = (Logger) =>
  new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") console.error(`graphile-worker: ${message}`);
  });
const graphileWorker = {
  async startWorker(url, onJob) {
    const { run, Logger } = await import("graphile-worker");
    const runner = await run({
      connectionString: url,
      logger: quietGraphileLogger(Logger),
      concurrency: 24,
      maxPoolSize: 25,
      noHandleSignals: true,
      taskList: { noop: async (payload) => onJob(payload) },
      preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    return () => runner.stop();
  },
  async startProducer(url) {
    const { makeWorkerUtils, Logger } = await import("graphile-worker");
    const utils = await makeWorkerUtils({
      connectionString: url, maxPoolSize: PRODUCERS, logger: quietGraphileLogger(Logger),
    });
    return { enqueue: (payload) => utils.addJob("noop", payload), close: () => utils.release() };
  },
  pendingSql: "SELECT count(*) FROM graphile_worker._private_jobs",
  completedSql: null,
};

// ---- pg-boss ----
// pg-boss polls (its workers do not LISTEN): work() fetches batchSize jobs every
// pollingIntervalSeconds, whose documented minimum is 0.5 s (default 2 s), and "each call to
// work() will add a new worker" (docs/api/workers.md); a worker that found jobs still waits out
// the rest of its interval. So: 16 workers (one per producer, started 0.5 s / 16 apart so that
// their polls interleave), each fetching batches of 100 every 0.5 s, and a pool (`max`) as
// large as the workers. Cron scheduling is off (`schedule: false`): no job here uses it.
const PGBOSS_WORKERS = 16;
const pgBoss = {
  async startWorker(url, onJob) {
    const { default: PgBoss } = await import("pg-boss");
    const boss = new PgBoss({ connectionString: url, max: PGBOSS_WORKERS, schedule: false });
    boss.on("error", (e) => console.error("pg-boss:", e.message));
    await boss.start();
    await boss.createQueue("noop");
    for (let i = 0; i < PGBOSS_WORKERS; ++i) {
      await boss.work("noop", { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        for (const job of jobs) onJob(job.data);
      });
      await sleep(500 / PGBOSS_WORKERS);
    }
    return () => boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  },
  async startProducer(url) {
    const { default: PgBoss } = await import("pg-boss");
    const boss = new PgBoss({
      connectionString: url, max: PRODUCERS, schedule: false, supervise: false, migrate: false,
    });
    boss.on("error", (e) => console.error("pg-boss:", e.message));
    await boss.start();
    return { enqueue: (payload) => boss.send("noop", payload), close: () => boss.stop({ wait: true }) };
  },
  pendingSql: "SELECT count(*) FROM pgboss.job WHERE name = 'noop' AND state IN ('created', 'retry', 'active')",
  completedSql: "SELECT count(*) FROM pgboss.job WHERE name = 'noop' AND state = 'completed'",
};

// ---- DBOS ----
// A workflow enqueued by a DBOSClient (how another process starts DBOS work,
// docs.dbos.dev/typescript/reference/client) on a queue without concurrency or rate limits
// (docs.dbos.dev/typescript/reference/queues: unlimited by default), so each poll dequeues
// every waiting workflow. DBOS's dispatcher polls the queue; its minPollingIntervalMs (default
// 1,000 ms, any positive value allowed) is set to 10 ms here, the fastest we found it keeps up
// with. The system database pool is sized to the producers.
const DBOS_APP = "sluice-bench";
const dbos = {
  async startWorker(url, onJob) {
    const { DBOS } = await import("@dbos-inc/dbos-sdk");
    DBOS.setConfig({ name: DBOS_APP, systemDatabaseUrl: url, systemDatabasePoolSize: 20, logLevel: "warn" });
    DBOS.registerWorkflow(async (payload) => onJob(payload), { name: "noop" });
    await DBOS.launch();
    await DBOS.registerQueue("noop", { minPollingIntervalMs: 10 });
    return () => DBOS.shutdown();
  },
  async startProducer(url) {
    const { DBOSClient } = await import("@dbos-inc/dbos-sdk");
    const client = await DBOSClient.create({
      systemDatabaseUrl: url, systemDatabasePoolSize: PRODUCERS, applicationName: DBOS_APP,
    });
    return {
      enqueue: (payload) => client.enqueue({ queueName: "noop", workflowName: "noop" }, payload),
      close: () => client.destroy(),
    };
  },
  pendingSql: "SELECT count(*) FROM dbos.workflow_status WHERE status IN ('ENQUEUED', 'PENDING')",
  completedSql: "SELECT count(*) FROM dbos.workflow_status WHERE status = 'SUCCESS'",
};

const systems = { "graphile-worker": graphileWorker, "pg-boss": pgBoss, dbos };

// ---- the worker process ----
async function workerMain(system, url) {
  let handled = 0;
  let latencies = [];
  const stop = await systems[system].startWorker(url, (payload) => {
    ++handled;
    if (payload && payload.t !== undefined) latencies.push(now() - payload.t);
  });
  // The parent gone (killed, crashed) means nobody will stop us: leave.
  process.on("disconnect", () => process.exit(1));
  process.on("message", async (msg) => {
    if (msg.cmd === "report") {
      process.send({ handled, latencies });
      latencies = [];
    } else if (msg.cmd === "stop") {
      await stop();
      process.exit(0);
    }
  });
  process.send({ ready: true });
}

// ---- the producer process ----
function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}
const ms = (v) => (v === null ? null : Number(v.toFixed(3)));

function request(child, cmd) {
  return new Promise((resolve) => {
    child.once("message", resolve);
    child.send({ cmd });
  });
}

async function count(db, sql) {
  return Number((await db.query(sql)).rows[0].count);
}

// Waits until no job is pending; returns that moment.
async function drained(db, sql) {
  const deadline = now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    if ((await count(db, sql)) === 0) return now();
    if (now() > deadline) throw new Error(`jobs still pending after ${DRAIN_TIMEOUT_MS / 1000} s`);
    await sleep(DRAIN_POLL_MS);
  }
}

async function producerMain(system, url, seconds) {
  const impl = systems[system];
  const child = fork(new URL(import.meta.url).pathname, ["worker", system, url], { stdio: "inherit" });
  const killChild = () => child.exitCode === null && child.kill("SIGKILL");
  process.on("exit", killChild);
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(1));
  child.on("exit", (code) => {
    if (code !== 0) {
      console.error(`service_peers: ${system} worker exited with ${code}`);
      process.exit(1);
    }
  });
  await Promise.race([
    new Promise((resolve) => child.once("message", resolve)),
    sleep(READY_TIMEOUT_MS).then(() => { throw new Error(`${system} worker not ready`); }),
  ]);

  const producer = await impl.startProducer(url);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const base = { bench: "service", system, store: "postgres" };

  // -- throughput: 16 producers for `seconds` --
  const enqueueTimes = [];
  let requests = 0;
  const t0 = now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: PRODUCERS }, async () => {
    while (now() < end) {
      const s = now();
      await producer.enqueue({});
      enqueueTimes.push(now() - s);
      ++requests;
    }
  }));
  const t1 = await drained(db, impl.pendingSql);
  const { handled } = await request(child, "report");
  const runs = impl.completedSql ? await count(db, impl.completedSql) : handled;
  enqueueTimes.sort((a, b) => a - b);
  console.log(JSON.stringify({
    ...base, case: "trigger", clients: PRODUCERS, seconds, requests, runs,
    failed: requests - runs, runs_per_s: Math.round(runs / ((t1 - t0) / 1000)),
    enqueue_p50_ms: ms(percentile(enqueueTimes, 0.5)), enqueue_p99_ms: ms(percentile(enqueueTimes, 0.99)),
  }));

  // -- enqueue to start at 50/s --
  const before = handled;
  const pending = [];
  const l0 = now();
  for (let i = 0; i < LATENCY_JOBS; ++i) {
    pending.push(producer.enqueue({ t: now() }));
    const next = l0 + ((i + 1) * 1000) / LATENCY_RATE;
    if (next > now()) await sleep(next - now());
  }
  await Promise.all(pending);
  await drained(db, impl.pendingSql);
  const report = await request(child, "report");
  const lat = report.latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({
    ...base, case: "trigger_to_start", rate_per_s: LATENCY_RATE, runs: report.handled - before,
    p50_ms: ms(percentile(lat, 0.5)), p99_ms: ms(percentile(lat, 0.99)), max_ms: ms(lat.at(-1) ?? null),
  }));

  await producer.close();
  await db.end();
  child.removeAllListeners("exit");
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.send({ cmd: "stop" });
  await Promise.race([exited, sleep(30_000)]);
}

const [mode, ...args] = process.argv.slice(2);
try {
  if (mode === "worker") {
    await workerMain(args[0], args[1]);
  } else {
    const [system, url, seconds] = [mode, args[0], Number(args[1] ?? 10)];
    if (!systems[system] || !url) {
      console.error("usage: service_peers.mjs graphile-worker|pg-boss|dbos DATABASE_URL [SECONDS]");
      process.exit(2);
    }
    await producerMain(system, url, seconds);
    process.exit(0);
  }
} catch (e) {
  console.error(`service_peers (${mode}):`, e);
  process.exit(1);
}
