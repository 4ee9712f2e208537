// A small line chart of a series (a copy's throughput): an SVG polyline scaled to the series'
// own maximum, with the series described in words for screen readers. `highlight` marks one
// point (a run among its recent runs) with a dot.

export function Sparkline({ values, label, width = 120, height = 24, highlight = -1 }: {
  values: number[]; label: string; width?: number; height?: number; highlight?: number;
}) {
  if (values.length === 0) return <span class="muted small">—</span>;
  const max = Math.max(...values, 1e-9);
  const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
  const xy = values.map((v, i) => [1 + i * step, height - 1 - (v / max) * (height - 2)]);
  const points = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`);
  if (values.length === 1) points.push(`${width - 1},${xy[0][1].toFixed(1)}`);
  const dot = highlight >= 0 && highlight < xy.length ? xy[highlight] : null;
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={label}>
      <title>{label}</title>
      <polyline points={points.join(' ')} />
      {dot && <circle class="spark-dot" cx={dot[0].toFixed(1)} cy={dot[1].toFixed(1)} r="3" />}
    </svg>
  );
}
