// The DAG layout off the main thread (lib/dag_layout.ts sends large graphs here): one message in,
// the layout of its tasks out, tagged with the request's id. Built by build.mjs as its own
// hashed asset (/assets/dag-worker-HASH.js), which the CSP's script-src 'self' allows.
import { layoutDag, type DagInput } from '../lib/dag';

interface Request {
  id: number;
  tasks: DagInput[];
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<Request>) => void) | null; postMessage: (m: unknown) => void };
scope.onmessage = (e) => {
  scope.postMessage({ id: e.data.id, layout: layoutDag(e.data.tasks) });
};
