// Next-fire-time throughput of croner (the reference implementation of our DST rules), for the
// side-by-side ratio in docs/benchmarks.md. Same expressions and zones as bench/cron_bench.cpp.
// Usage: node bench/peers/croner_bench.mjs [iterations]
import { Cron } from "croner";

const iterations = Number(process.argv[2] ?? 200000);
const cases = [
  ["*/15 * * * *", "UTC"],
  ["0 2 * * *", "UTC"],
  ["0 0 L * *", "UTC"],
  ["*/15 * * * *", "Europe/Berlin"],
  ["0 2 * * *", "Europe/Berlin"],
  ["0 0 L * *", "Europe/Berlin"],
];

for (const [expr, zone] of cases) {
  const cron = new Cron(expr, { timezone: zone, paused: true });
  let t = new Date(Date.UTC(2026, 0, 1));
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; ++i) {
    t = cron.nextRun(t);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = iterations / seconds;
  console.log(JSON.stringify({ expr, zone, iterations, next_per_second: Math.round(rate) }));
}
