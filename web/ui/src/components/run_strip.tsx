// The last runs of a job as a strip of coloured cells, oldest on the left; each links to its run.
import type { Run } from '../lib/types';
import { stateLabel } from './common';

export function RunStrip({ runs, slots = 25 }: { runs: Run[] | null; slots?: number }) {
  const list = (runs ?? []).slice(0, slots).reverse();
  const pad = Math.max(0, slots - list.length);
  return (
    <div class="strip" role="group" aria-label={`last ${list.length} runs`}>
      {Array.from({ length: pad }, (_, i) => <span key={'p' + i} class="cell empty" />)}
      {list.map((r) => (
        <a key={r.id} href={`/runs/${r.id}`} class={`cell st-${r.state}`} title={`run ${r.id}: ${stateLabel(r.state)}`} aria-label={`run ${r.id} ${stateLabel(r.state)}`} />
      ))}
    </div>
  );
}
