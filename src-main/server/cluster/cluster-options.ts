import type { CompactionPolicy } from './log-compaction.ts';

/** Where a cluster node finds the rest of its cluster (docs/scaling.md). */
export interface ClusterOptions {
  /** The NATS server(s) that carry committed log entries to every node, `nats://host:port`. */
  readonly natsUrl: string;
  /** The PostgreSQL database that holds the cluster's ordered log, `postgres://…`. */
  readonly databaseUrl: string;
  /** This node's name in logs and in the entries it writes; default `<hostname>-<pid>`. */
  readonly nodeName?: string;
  /** When the log is compacted into a snapshot (log-compaction.ts); tests shorten it. */
  readonly compaction?: Partial<CompactionPolicy>;
}
