/** Answers to info.query messages from the view (pure: the service puts them on the bus). */
import { toBuildfleetError } from '../shared/errors/index.ts';
import { InfoAnswerVersion, type InfoAnswer, type InfoQuery, type MessageSource } from '../shared/messages/index.ts';
import type { BuildView, ListResult } from './view.ts';

/** The builds a query asks for; the question is told apart by which field is present (buildId, project, list). */
export function queryBuilds(view: BuildView, query: InfoQuery): ListResult {
  if ('buildId' in query) {
    const record = view.get(query.buildId);
    return { builds: record ? [record] : [], truncated: false };
  }
  if ('project' in query) return { builds: view.latest(query.project, query.target), truncated: false };
  return view.list(query.list);
}

/** The info.answer for `query`; a question that cannot be answered gets an answer with `error`. */
export function answerQuery(view: BuildView, query: InfoQuery, source: MessageSource, now = new Date()): InfoAnswer {
  const base = {
    v: InfoAnswerVersion,
    type: 'info.answer',
    queryId: query.queryId,
    replyTo: query.replyTo,
    at: now.toISOString(),
    source,
  } as const;
  try {
    const { builds, truncated } = queryBuilds(view, query);
    return { ...base, builds, ...(truncated ? { truncated } : {}) };
  } catch (error) {
    const failure = toBuildfleetError(error);
    return { ...base, builds: [], error: { code: failure.code, message: failure.message } };
  }
}
