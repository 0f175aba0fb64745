/**
 * The ClusterClient port: what the `buildfleet` client commands need from a running cluster, in
 * domain words. Two adapters: the HTTP API of the info service (http-client.ts, docs/api.md) and
 * Kafka directly (kafka-client.ts), with an artifact store for logs and artifacts of finished
 * builds. connect.ts chooses one.
 */
import type {
  Artifact,
  BuildEvent,
  BuildRecord,
  InfoQueryListFilter,
  SubmitScope,
  Target,
} from '../../shared/messages/index.ts';
import type { RepoListing } from '../../shared/repos/catalog.ts';

/** What `build` submits; the adapter adds the message envelope (v, type, reason, at). */
export interface SubmitRequest {
  project: string;
  /** Absent: every target the package declares. */
  targets?: Target[];
  ref?: string;
  /** Idempotency key. Absent: the adapter makes one (a uuid). */
  submitId?: string;
  requestedBy?: string;
  /** Build against what is published, without waiting for dependencies being built (breaks a cycle). */
  ignoreDeps?: boolean;
  /** What is built (build.submit `scope`): the package, a rebuild of it, it and its dependants, or all under a directory. */
  scope?: SubmitScope;
  /** With scope dependants or all: only targets of this dist. */
  dist?: string;
}

/** Which builds to look up: one build, the latest build per target of a project, or a list. */
export type BuildQuery = { buildId: string } | { project: string; target?: Target } | { list: InfoQueryListFilter };

/** Which events `watch` delivers. Every given field must match; none given: every event. */
export interface EventFilter {
  project?: string;
  buildId?: string;
  submitId?: string;
}

/** A live watch of build events. */
export interface Watching {
  /**
   * Settles when the watch ends: resolves once the signal is aborted and the subscription is
   * closed, rejects when the connection is lost.
   */
  readonly ended: Promise<void>;
}

export interface LogOptions {
  /** Keep streaming until the build's last log chunk. */
  follow: boolean;
  /** With follow: called once, when lines written from now on will be delivered. */
  onLive?: () => void;
}

/** What a download wrote. */
export interface DownloadResult {
  path: string;
  size: number;
  /** SHA-256 of the bytes written, lower-case hex. */
  sha256: string;
}

export interface ClusterClient {
  /** How the client is connected, for messages: `http://host:8080` or `kafka 127.0.0.1:9092 (prefix buildfleet)`. */
  describe(): string;
  /** Submits a build; resolves once the submission is accepted (published or answered 202). */
  submit(request: SubmitRequest, signal?: AbortSignal): Promise<{ submitId: string }>;
  /** Build records; empty when nothing matches (an unknown buildId or project). */
  builds(query: BuildQuery, signal?: AbortSignal): Promise<BuildRecord[]>;
  /**
   * Delivers live build events matching `filter` (heartbeats included) until `signal` is aborted.
   * Resolves once the subscription is live: every event published afterwards is delivered.
   */
  watch(filter: EventFilter, onEvent: (event: BuildEvent) => void, signal: AbortSignal): Promise<Watching>;
  /**
   * The build's log as text pieces (not necessarily whole lines). Without follow: the log as it
   * is now. With follow: streams until the build's last log chunk, or until `signal` is aborted.
   * @throws BuildfleetError 'build-unknown' for an unknown build
   */
  logs(buildId: string, options: LogOptions, onText: (text: string) => void, signal?: AbortSignal): Promise<void>;
  /** Asks the cluster to cancel a build (the runner holding it aborts it). */
  cancel(buildId: string, reason: string, signal?: AbortSignal): Promise<void>;
  /**
   * The artifacts of a build (empty until it succeeded).
   * @throws BuildfleetError 'build-unknown' for an unknown build
   */
  artifacts(buildId: string, signal?: AbortSignal): Promise<Artifact[]>;
  /** Writes one artifact of a build to `destFile` (replacing it) and reports its size and sha256. */
  download(buildId: string, name: string, destFile: string, signal?: AbortSignal): Promise<DownloadResult>;
  /** The published repositories. */
  repos(signal?: AbortSignal): Promise<RepoListing[]>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
