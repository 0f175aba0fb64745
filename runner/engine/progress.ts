/**
 * Reading the JSON progress stream the engine answers image builds and imports with: one JSON
 * object per line, e.g. `{"stream":"Step 1/3 ..."}`, `{"status":"..."}`, `{"aux":{"ID":"sha256:..."}}`,
 * and for a failed build `{"error":"...","errorDetail":{"message":"..."}}` — with HTTP 200, so
 * the request itself does not fail and this reader has to notice.
 */
import { OutputLines } from '../../shared/exec/output-lines.ts';
import type { EngineLineListener } from './port.ts';

export interface ProgressOutcome {
  /** The first error item's message, when the engine reported one. */
  error: string | undefined;
  /** The last `aux.ID` (build result) or `status` that looks like an image id (import result). */
  imageId: string | undefined;
  /** Non-JSON lines, kept for error messages. */
  unparsed: string[];
}

const IMAGE_ID = /^(sha256:)?[0-9a-f]{64}$/;
const KEPT_OUTPUT_CHARS = 64 * 1024;

/** Consumes `stream` to its end; the text of `stream`/`status` items goes to onLine line by line. */
export async function readProgress(
  stream: NodeJS.ReadableStream,
  onLine: EngineLineListener | undefined,
): Promise<ProgressOutcome> {
  const text = new OutputLines('stdout', KEPT_OUTPUT_CHARS, onLine);
  const outcome: ProgressOutcome = { error: undefined, imageId: undefined, unparsed: [] };
  let pending = '';
  const take = (line: string): void => {
    if (line.trim() === '') return;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch {
      outcome.unparsed.push(line);
      return;
    }
    applyItem(item, outcome, text);
  };
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(take);
  }
  take(pending);
  text.end();
  return outcome;
}

function applyItem(item: unknown, outcome: ProgressOutcome, text: OutputLines): void {
  if (typeof item !== 'object' || item === null) return;
  const fields = item as Record<string, unknown>;
  const error = errorText(fields);
  if (error !== undefined) {
    outcome.error ??= error;
    text.write(`${error}\n`);
    return;
  }
  if (typeof fields['stream'] === 'string') text.write(fields['stream']);
  if (typeof fields['status'] === 'string') {
    const status = fields['status'];
    if (IMAGE_ID.test(status)) outcome.imageId = withPrefix(status);
    text.write(`${status}\n`);
  }
  const aux = fields['aux'];
  if (typeof aux === 'object' && aux !== null && 'ID' in aux && typeof aux.ID === 'string' && IMAGE_ID.test(aux.ID)) {
    outcome.imageId = withPrefix(aux.ID);
  }
}

function errorText(fields: Record<string, unknown>): string | undefined {
  const detail = fields['errorDetail'];
  if (typeof detail === 'object' && detail !== null && 'message' in detail && typeof detail.message === 'string') {
    return detail.message;
  }
  return typeof fields['error'] === 'string' ? fields['error'] : undefined;
}

function withPrefix(id: string): string {
  return id.startsWith('sha256:') ? id : `sha256:${id}`;
}
