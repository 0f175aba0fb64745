/**
 * A build record folded from its events, as this client sees them: the same record the info
 * service keeps (info-service/view.ts), decided by the same rules (effectOf, in
 * shared/messages/build-states.ts), so `build --wait` and `status` agree. Pure.
 */
import { effectOf, type BuildEvent, type BuildHistoryEntry, type BuildRecord } from '../../shared/messages/index.ts';

/**
 * The record after `event`; undefined for an event that makes no record (a heartbeat of a build
 * never seen). `previous` is not changed.
 */
export function foldEvent(previous: BuildRecord | undefined, event: BuildEvent): BuildRecord | undefined {
  const effect = effectOf(
    previous && { ...previous, submitted: previous.history.some((h) => h.state === 'submitted') },
    event,
  );
  if (effect === 'ignore') return previous;
  const at = new Date(Date.parse(event.at)).toISOString();
  if (effect === 'create' || previous === undefined) {
    const created: BuildRecord = {
      buildId: event.buildId,
      buildKey: event.buildKey,
      project: event.project,
      target: { dist: event.target.dist, arch: event.target.arch },
      repoKey: event.repoKey,
      state: event.state,
      attempt: event.attempt,
      ...(event.submitId !== undefined ? { submitId: event.submitId, submitIds: [event.submitId] } : {}),
      ...(event.commit !== undefined ? { commit: event.commit } : {}),
      history: [historyEntry(event, at)],
      artifacts: [],
      createdAt: at,
      updatedAt: at,
    };
    return enter(created, event, false);
  }
  let record: BuildRecord = { ...previous, history: [...previous.history] };
  if (event.submitId !== undefined && !(record.submitIds ?? []).includes(event.submitId)) {
    record.submitIds = [...(record.submitIds ?? []), event.submitId];
    record.submitId ??= event.submitId;
  }
  if (record.commit === undefined && event.commit !== undefined) record.commit = event.commit;
  if (Date.parse(at) < Date.parse(record.createdAt)) record.createdAt = at;
  if (Date.parse(at) > Date.parse(record.updatedAt)) record.updatedAt = at;
  const succeededBefore = previous.history.some((h) => h.state === 'succeeded');
  switch (effect) {
    case 'heartbeat':
      if (event.attempt === record.attempt && event.runnerId !== undefined) record.runnerId = event.runnerId;
      return record;
    case 'resubmit':
      return record;
    case 'history':
      addHistory(record.history, historyEntry(event, at));
      return event.state === 'succeeded' && !succeededBefore ? takeSuccess(record, event) : record;
    case 'apply':
      if (addHistory(record.history, historyEntry(event, at))) record = enter(record, event, succeededBefore);
      return record;
    default: {
      const never: never = effect;
      throw new Error(`unknown event effect ${String(never)}`);
    }
  }
}

/** The build enters the event's state: the state's own fields come with it (as the info service's view does). */
function enter(record: BuildRecord, event: BuildEvent, succeededBefore: boolean): BuildRecord {
  const newAttempt = event.attempt !== record.attempt;
  const { reason: _reason, waitingFor: _waitingFor, runnerId: previousRunner, ...kept } = record;
  const runnerId = event.runnerId ?? (newAttempt ? undefined : previousRunner);
  const entered: BuildRecord = {
    ...kept,
    state: event.state,
    attempt: event.attempt,
    ...(runnerId !== undefined ? { runnerId } : {}),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    ...(event.state === 'waiting' && event.waitingFor !== undefined ? { waitingFor: event.waitingFor } : {}),
    ...((event.error ?? record.error) ? { error: event.error ?? record.error } : {}),
    ...((event.logKey ?? record.logKey) ? { logKey: event.logKey ?? record.logKey } : {}),
    ...((event.durations ?? record.durations) ? { durations: event.durations ?? record.durations } : {}),
    ...((event.repo ?? record.repo) ? { repo: event.repo ?? record.repo } : {}),
    ...((event.rebuild ?? record.rebuild) ? { rebuild: event.rebuild ?? record.rebuild } : {}),
  };
  return event.state === 'succeeded' && !succeededBefore ? takeSuccess(entered, event) : entered;
}

/** The first success gives the record its artifacts (and log and durations, when not set yet). */
function takeSuccess(record: BuildRecord, event: BuildEvent): BuildRecord {
  const logKey = record.logKey ?? event.logKey;
  const durations = record.durations ?? event.durations;
  return {
    ...record,
    artifacts: event.artifacts ?? [],
    ...(logKey !== undefined ? { logKey } : {}),
    ...(durations !== undefined ? { durations } : {}),
    ...(event.builtAgainst !== undefined ? { builtAgainst: event.builtAgainst } : {}),
  };
}

function historyEntry(event: BuildEvent, at: string): BuildHistoryEntry {
  return {
    state: event.state,
    at,
    attempt: event.attempt,
    ...(event.runnerId !== undefined ? { runnerId: event.runnerId } : {}),
  };
}

/**
 * Inserts an entry in time order (after entries of the same time); one equal to an entry of the
 * same time (the same event read twice) is not added. Returns false when nothing was added.
 */
function addHistory(history: BuildHistoryEntry[], entry: BuildHistoryEntry): boolean {
  const ms = Date.parse(entry.at);
  let at = history.length;
  while (at > 0 && Date.parse(history[at - 1]?.at ?? '') > ms) at -= 1;
  for (let i = at - 1; i >= 0 && Date.parse(history[i]?.at ?? '') === ms; i -= 1) {
    const h = history[i];
    if (h?.state === entry.state && h.attempt === entry.attempt && h.runnerId === entry.runnerId) return false;
  }
  history.splice(at, 0, entry);
  return true;
}
