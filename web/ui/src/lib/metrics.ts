// Reading one histogram out of the daemon's Prometheus text (/metrics, docs/operations.md): the
// overview shows schedule lateness from it without a JSON twin of every metric.

export interface HistogramSummary {
  count: number;
  mean: number | null;
  // The smallest bucket bound holding at least 95 % of the observations (Infinity past the last).
  p95Bound: number | null;
}

export function readHistogram(text: string, name: string): HistogramSummary | null {
  const buckets: [number, number][] = [];
  let sum = NaN;
  let count = NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    const le = /^_bucket\{le="([^"]+)"\} /.exec(rest);
    if (le) buckets.push([le[1] === '+Inf' ? Infinity : Number(le[1]), value]);
    else if (rest.startsWith('_sum ')) sum = value;
    else if (rest.startsWith('_count ')) count = value;
  }
  if (Number.isNaN(count)) return null;
  buckets.sort((a, b) => a[0] - b[0]);
  const p95 = count > 0 ? buckets.find(([, c]) => c >= 0.95 * count)?.[0] ?? null : null;
  return { count, mean: count > 0 && !Number.isNaN(sum) ? sum / count : null, p95Bound: p95 };
}
