// A small line chart of a series (a copy's throughput): an SVG polyline scaled to the series'
// own maximum, with the series described in words for screen readers.

export function Sparkline({ values, label, width = 120, height = 24 }: { values: number[]; label: string; width?: number; height?: number }) {
  if (values.length === 0) return <span class="muted small">—</span>;
  const max = Math.max(...values, 1e-9);
  const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(1 + i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
  if (values.length === 1) points.push(`${width - 1},${points[0].split(',')[1]}`);
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={label}>
      <title>{label}</title>
      <polyline points={points.join(' ')} />
    </svg>
  );
}
