/**
 * What the HTTP API accepts, checked and turned into messages and filters (pure). Bad input is
 * a BuildfleetError('request-invalid') naming the parameter; the router answers it with 400.
 */
import { BuildfleetError, isBuildfleetError } from '../../shared/errors/index.ts';
import {
  BuildStates,
  ControlCancelVersion,
  InfoQueryListLimit,
  ISO_DATE_TIME_PATTERN,
  BuildSubmitVersion,
  clientSubmitProblem,
  decodeMessage,
  describeProblem,
  type BuildState,
  type BuildSubmit,
  type ControlCancel,
  type InfoQueryListFilter,
  type Target,
} from '../../shared/messages/index.ts';
import type { EventFilter } from '../event-stream.ts';

const isoTime = new RegExp(ISO_DATE_TIME_PATTERN);
const knownStates: ReadonlySet<string> = new Set(BuildStates);

export function invalidRequest(message: string, context: Record<string, unknown> = {}): BuildfleetError {
  return new BuildfleetError('request-invalid', message, { context });
}

function nonEmpty(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === '' ? undefined : value;
}

/** `GET /api/builds?project=&projectPrefix=&state=a,b&dist=&arch=&since=&submitId=&limit=` */
export function listFilterOf(params: URLSearchParams): InfoQueryListFilter {
  const filter: InfoQueryListFilter = {};
  const project = nonEmpty(params, 'project');
  if (project !== undefined) filter.project = project;
  const projectPrefix = nonEmpty(params, 'projectPrefix');
  if (projectPrefix !== undefined) filter.projectPrefix = projectPrefix;
  const states = params
    .getAll('state')
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  for (const state of states) {
    if (!knownStates.has(state)) {
      throw invalidRequest(`state "${state}" is not a build state (known: ${BuildStates.join(', ')})`, {
        parameter: 'state',
      });
    }
  }
  if (states.length > 0) filter.states = states as BuildState[];
  const dist = nonEmpty(params, 'dist');
  if (dist !== undefined) filter.dist = dist;
  const arch = nonEmpty(params, 'arch');
  if (arch !== undefined) filter.arch = arch;
  const since = nonEmpty(params, 'since');
  if (since !== undefined) {
    if (!isoTime.test(since) || Number.isNaN(Date.parse(since))) {
      throw invalidRequest(`since "${since}" must be an ISO 8601 time with a zone, e.g. 2025-01-02T03:04:05Z`, {
        parameter: 'since',
      });
    }
    filter.since = since;
  }
  const submitId = nonEmpty(params, 'submitId');
  if (submitId !== undefined) filter.submitId = submitId;
  const limit = nonEmpty(params, 'limit');
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > InfoQueryListLimit.max) {
      throw invalidRequest(`limit "${limit}" must be a whole number from 1 to ${InfoQueryListLimit.max}`, {
        parameter: 'limit',
      });
    }
    filter.limit = n;
  }
  return filter;
}

/** `<dist>.<arch>`: arch names have no dot, so the last dot splits. */
export function targetOf(value: string): Target {
  const dot = value.lastIndexOf('.');
  if (dot <= 0 || dot === value.length - 1) {
    throw invalidRequest(`target "${value}" must be <dist>.<arch>, e.g. bookworm.x86_64`, { parameter: 'target' });
  }
  return { dist: value.slice(0, dot), arch: value.slice(dot + 1) };
}

/** `GET /api/events?project=&buildId=&submitId=` */
export function eventFilterOf(params: URLSearchParams): EventFilter {
  const filter: EventFilter = {};
  for (const name of ['project', 'buildId', 'submitId'] as const) {
    const value = nonEmpty(params, name);
    if (value !== undefined) filter[name] = value;
  }
  return filter;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs a message check and turns its failure into a request error. */
function checked<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (isBuildfleetError(error, 'message-invalid')) throw invalidRequest(error.message, error.context);
    throw error;
  }
}

/**
 * `POST /api/builds` body -> the build.submit to publish. Checked by the same decodeMessage as
 * the scheduler's input (schema limits and the rules of fields that go together), so nothing the
 * scheduler would dead-letter is accepted with 202, and by clientSubmitProblem (no `change:` ids).
 */
export function submitOf(body: unknown, newId: () => string, now: Date): BuildSubmit {
  if (!isObject(body))
    throw invalidRequest(
      'the body must be a JSON object { project, targets?, ref?, submitId?, ignoreDeps?, scope?, dist? }',
    );
  const message: Record<string, unknown> = {
    v: BuildSubmitVersion,
    type: 'build.submit',
    submitId: body.submitId ?? newId(),
    project: body.project,
    reason: body.reason ?? 'manual',
    at: now.toISOString(),
  };
  for (const name of ['targets', 'ref', 'requestedBy', 'ignoreDeps', 'scope', 'dist'] as const)
    if (body[name] !== undefined) message[name] = body[name];
  const submit = checked(() => decodeMessage('build.submit', message));
  const problem = clientSubmitProblem(submit);
  if (problem !== undefined) {
    throw invalidRequest(`build.submit: field "${problem.field}" ${problem.reason}`, {
      field: problem.field,
      reason: describeProblem(problem),
    });
  }
  return submit;
}

/** `POST /api/builds/:buildId/cancel` body -> the control.cancel to publish. */
export function cancelOf(buildId: string, body: unknown, now: Date): ControlCancel {
  if (body !== undefined && !isObject(body)) throw invalidRequest('the body must be a JSON object { reason? }');
  const reason = body?.reason ?? 'cancelled through the HTTP API';
  return checked(() =>
    decodeMessage('control.cancel', {
      v: ControlCancelVersion,
      type: 'control.cancel',
      buildId,
      reason,
      at: now.toISOString(),
    }),
  );
}

/** `GET /api/graph?dist=D[&dist=E|,E]&ref=R`: dists may repeat or be comma-separated; none means all. */
export function graphQueryOf(params: URLSearchParams): { ref?: string; dists?: string[] } {
  const dists = params
    .getAll('dist')
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  const ref = nonEmpty(params, 'ref');
  return { ...(ref === undefined ? {} : { ref }), ...(dists.length === 0 ? {} : { dists }) };
}
