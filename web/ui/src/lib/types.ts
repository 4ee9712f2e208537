// The API v1 shapes the page reads (docs/api.md, docs/openapi.yaml).

export type RunState = 'queued' | 'running' | 'success' | 'failed' | 'canceled' | 'timed_out' | string;

export interface JobSummary {
  name: string;
  description?: string;
  schedule: string | null;
  schedule_description?: string | null;
  timezone?: string;
  tags?: string[];
  paused: boolean;
  next_fire: string | null;
  active_runs: number;
  waiting_runs: number;
}

export interface ParamSpec {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'timestamp' | string;
  default: string | null;
  required?: boolean;
  description?: string;
  values?: string[];
}

export interface TaskSpec {
  name: string;
  type: string;
  description?: string;
  depends_on: string[];
  trigger_rule: string;
  pool: string | null;
  max_attempts: number;
  timeout: string | null;
}

export interface JobDetail {
  name: string;
  description: string;
  tags: string[];
  schedule: string | null;
  timezone: string;
  catchup: string;
  concurrency: string;
  max_active_runs: number;
  timeout: string | null;
  sla: string | null;
  params: ParamSpec[];
  tasks: TaskSpec[];
  status?: JobSummary;
  schedule_description: string | null;
  next_fire_times: string[];
  recent_runs: Run[];
}

export interface Run {
  id: number;
  job: string;
  state: RunState;
  trigger: string;
  params: Record<string, string>;
  logical_time: string | null;
  data_interval_start: string | null;
  data_interval_end: string | null;
  backfill_id: number | null;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface TaskError {
  class: string | null;
  message: string;
}

export interface Attempt {
  try: number;
  state: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  error?: TaskError | null;
  metrics?: Record<string, unknown>;
  outcome?: string;
}

export interface TaskInstance {
  task: string;
  state: string;
  try_number: number;
  max_tries: number;
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  next_attempt_at: string | null;
  error: TaskError | null;
  metrics: Record<string, unknown>;
  // The values the task published with its success (docs/task-kinds.md#values-between-tasks).
  outputs?: Record<string, string>;
  attempts: Attempt[];
}

export interface RunDetail extends Run {
  tasks: TaskInstance[];
}

export interface RunPage {
  runs: Run[];
  next_cursor: string | null;
}

export interface Session {
  auth: boolean;
  name: string;
  role: 'viewer' | 'operator' | 'admin';
}

// GET /api/v1/jobs/{job}/grid: a page of runs, newest first, with their tasks' states.
export interface GridPage {
  job: string;
  tasks: string[];
  runs: (Run & { tasks: { task: string; state: string; try_number: number }[] })[];
  next_cursor: string | null;
}

// GET /api/v1/copies: every copy task with its latest figures, recent runs and stored mark.
export interface CopyRecent {
  run: number;
  state: string;
  started_at: string | null;
  finished_at: string | null;
  rows_written: number | null;
  rows_per_second: number | null;
}

export interface CopyTask {
  job: string;
  task: string;
  source: string;
  sink: string;
  cursor: string[];
  batch_rows: number;
  checkpoint: { value: { cursor?: string[]; mark?: unknown; intent?: unknown } | string; updated_at: string | null } | null;
  latest: (Omit<TaskInstance, 'attempts'> & { run: number }) | null;
  recent: CopyRecent[];
}
