/** The routes that stream: build logs (stored or live), artifact downloads, server-sent events. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import { isAttemptFinalState, isTerminalState, type Artifact, type BuildRecord } from '../../shared/messages/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import type { EventFilter, EventStream } from '../event-stream.ts';
import type { LiveLogs } from '../live-logs.ts';
import type { StreamGate } from '../stream-gate.ts';
import type { BuildView } from '../view.ts';

/** Where a log comes from: the view (has the build ended?), the live lines, the artifact store. */
export interface LogSources {
  view: BuildView;
  logs: LiveLogs;
  store: ArtifactStore;
}

/** A stream whose client reads nothing is destroyed beyond this many unread bytes. */
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

const TEXT_HEADERS = {
  'content-type': 'text/plain; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** The client's address, as the gate counts it (behind a proxy: the proxy's). */
function clientOf(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}

/**
 * Writes to a long-lived response, and destroys it (the socket is closed at once, nothing more is
 * buffered or flushed) when the client does not keep up: more than MAX_UNREAD_BYTES waiting, or
 * writes held back for longer than slowReaderMs without a 'drain'. Ending it instead would
 * keep the socket and everything buffered until the client read it all, or forever.
 */
function streamWriter(response: ServerResponse, slowReaderMs: number): (text: string) => void {
  let slowTimer: NodeJS.Timeout | undefined;
  const clear = (): void => {
    clearTimeout(slowTimer);
    slowTimer = undefined;
  };
  response.on('drain', clear);
  response.once('close', clear);
  return (text) => {
    if (response.destroyed) return;
    const flowing = response.write(text);
    if (response.writableLength > MAX_UNREAD_BYTES) {
      clear();
      response.destroy();
      return;
    }
    if (!flowing && slowTimer === undefined) {
      slowTimer = setTimeout(() => response.destroy(), slowReaderMs);
      slowTimer.unref();
    }
  };
}

/** Admits a stream through the gate (429 beyond its limits) and releases it when the response closes. */
function admitStream(gate: StreamGate, request: IncomingMessage, response: ServerResponse): void {
  const release = gate.admit(clientOf(request));
  response.once('close', release);
}

function hasEnded(record: BuildRecord | undefined): boolean {
  return record !== undefined && (isAttemptFinalState(record.state) || isTerminalState(record.state));
}

async function storedLogExists(store: ArtifactStore, record: BuildRecord | undefined): Promise<boolean> {
  if (record?.logKey === undefined) return false;
  try {
    return await store.exists(record.logKey);
  } catch (error) {
    if (isBuildfleetError(error, 'key-invalid')) return false;
    throw error;
  }
}

/**
 * `GET /api/builds/:buildId/log[?follow=1]`. An ended build's log comes from the artifact
 * store; a running build's from the lines read off the logs topic so far, and with follow the
 * response stays open and gets each new chunk until the final one.
 */
export async function serveLog(
  ctx: LogSources,
  request: IncomingMessage,
  response: ServerResponse,
  buildId: string,
  follow: boolean,
): Promise<void> {
  const record = ctx.view.get(buildId);
  const live = ctx.logs.lines(buildId);
  if (record === undefined && live === undefined) throw new BuildfleetError('build-unknown', `no build ${buildId}`);
  const ended = hasEnded(record);
  if (ended && !ctx.logs.isRunning(buildId) && record !== undefined && (await storedLogExists(ctx.store, record))) {
    const key = record.logKey ?? '';
    const { size } = await ctx.store.stat(key);
    response.writeHead(200, { ...TEXT_HEADERS, 'content-length': String(size) });
    if (request.method === 'HEAD') response.end();
    else await pipeline(await ctx.store.getStream(key), response);
    return;
  }
  if (!follow || (ended && !ctx.logs.isRunning(buildId))) {
    response.writeHead(200, TEXT_HEADERS);
    response.end(live && live.length > 0 ? `${live.join('\n')}\n` : '');
    return;
  }
  admitStream(ctx.logs.gate, request, response);
  response.writeHead(200, TEXT_HEADERS);
  response.flushHeaders();
  const write = streamWriter(response, ctx.logs.gate.limits.slowReaderMs);
  const stop = ctx.logs.follow(buildId, {
    write: (lines) => write(lines.map((line) => `${line}\n`).join('')),
    end: () => response.end(),
  });
  response.once('close', stop);
}

/** `GET /api/builds/:buildId/artifacts/:name`: the bytes from the artifact store. */
export async function serveArtifact(
  store: ArtifactStore,
  request: IncomingMessage,
  response: ServerResponse,
  artifact: Artifact,
): Promise<void> {
  if (!(await store.exists(artifact.key))) {
    throw new BuildfleetError('not-found', `artifact ${artifact.name} is not in the artifact store`, {
      context: { key: artifact.key },
    });
  }
  const { size } = await store.stat(artifact.key);
  const fileName = artifact.name.replace(/[^\w.+-]/g, '_');
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(size),
    'content-disposition': `attachment; filename="${fileName}"`,
    'x-buildfleet-sha256': artifact.sha256,
  });
  if (request.method === 'HEAD') response.end();
  else await pipeline(await store.getStream(artifact.key), response);
}

/** `GET /api/events`: every build.event from now on that matches the filter, as server-sent events. */
export function serveEvents(
  events: EventStream,
  request: IncomingMessage,
  response: ServerResponse,
  filter: EventFilter,
): void {
  if (request.method !== 'HEAD') admitStream(events.gate, request, response);
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const write = streamWriter(response, events.gate.limits.slowReaderMs);
  // A first comment, so clients see the stream open before the first event.
  write(': connected\n\n');
  const remove = events.add(
    {
      send: (frame) => {
        write(frame);
        return response.writableLength;
      },
      close: (why) => (why === 'slow' ? response.destroy() : response.end()),
    },
    filter,
  );
  response.once('close', remove);
}
