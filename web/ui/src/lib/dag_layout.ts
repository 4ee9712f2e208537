// Where a DAG gets laid out: a small graph synchronously (no visible delay, no message
// round trip), a large one (more than workerThreshold tasks) in a web worker, so a
// thousand-task graph never freezes the tab. One worker per tab, created on first use; when no
// worker can be made (an old browser, the unit tests) the layout runs here instead.
import { layoutDag, type DagInput, type DagLayout } from './dag';

export const workerThreshold = 50;

// The worker script's URL, set by build.mjs (the hashed asset name); empty in the unit tests.
declare const __DAG_WORKER_URL__: string;
const workerUrl = typeof __DAG_WORKER_URL__ === 'string' ? __DAG_WORKER_URL__ : '';

export interface LayoutWorker {
  postMessage(message: { id: number; tasks: DagInput[] }): void;
  onmessage: ((e: { data: { id: number; layout: DagLayout } }) => void) | null;
  onerror: ((e: unknown) => void) | null;
}

let makeWorker: () => LayoutWorker | null = () =>
  workerUrl && typeof Worker !== 'undefined' ? (new Worker(workerUrl) as unknown as LayoutWorker) : null;

// Tests put a fake worker here.
export function setWorkerFactory(f: () => LayoutWorker | null): void {
  makeWorker = f;
  worker = undefined;
}

let worker: LayoutWorker | null | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (l: DagLayout) => void; tasks: DagInput[] }>();

function failAll(): void {
  // The worker broke: finish what it held here and lay out here from now on.
  worker = null;
  for (const [id, p] of pending) {
    pending.delete(id);
    p.resolve(layoutDag(p.tasks));
  }
}

export function needsWorker(tasks: DagInput[]): boolean {
  return tasks.length > workerThreshold;
}

export function layoutInWorker(tasks: DagInput[]): Promise<DagLayout> {
  if (worker === undefined) {
    try {
      worker = makeWorker();
    } catch {
      worker = null;
    }
    if (worker) {
      worker.onmessage = (e) => {
        const p = pending.get(e.data.id);
        if (!p) return;
        pending.delete(e.data.id);
        p.resolve(e.data.layout);
      };
      worker.onerror = () => failAll();
    }
  }
  if (!worker) return Promise.resolve(layoutDag(tasks));
  const id = nextId++;
  const plain = tasks.map((t) => ({ name: t.name, depends_on: [...t.depends_on] }));
  return new Promise((resolve) => {
    pending.set(id, { resolve, tasks: plain });
    worker!.postMessage({ id, tasks: plain });
  });
}
