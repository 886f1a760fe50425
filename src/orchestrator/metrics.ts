/** Prometheus metrics of one orchestrator: a registry per instance, so tests can build many. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobsRepository, TasksRepository } from '../db/index.js';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  taskDuration: Histogram<'kind' | 'outcome'>;
  jobsSubmitted: Counter;
}

export function createMetrics(jobs: JobsRepository, tasks: TasksRepository): Metrics {
  const registry = new Registry();
  new Gauge({
    name: 'mediaforge_jobs',
    help: 'Jobs by status.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await jobs.countByState();
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'mediaforge_queue_depth',
    help: 'Tasks ready and waiting for a worker.',
    registers: [registry],
    async collect() {
      this.set(await tasks.readyCount());
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'mediaforge_http_request_duration_seconds',
      help: 'HTTP request latency.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    taskDuration: new Histogram({
      name: 'mediaforge_task_duration_seconds',
      help: 'Task run time, from start to its last report.',
      labelNames: ['kind', 'outcome'],
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers: [registry],
    }),
    jobsSubmitted: new Counter({
      name: 'mediaforge_jobs_submitted_total',
      help: 'Jobs created.',
      registers: [registry],
    }),
  };
}
