/**
 * What the message constructors (buildEvent, buildSubmit, controlCancel, buildRequest,
 * logChunk beside their schemas) share: a producer gives the fields of its message, the
 * constructor fills `v`, `type` and the time stamp `at`.
 */

/** The fields a producer gives: everything but `v` and `type`; `at` is now unless given. */
export type MessageFields<M extends { v: number; type: string; at?: string }> = Omit<M, 'v' | 'type' | 'at'> & {
  at?: string;
};

/**
 * `fields` without the optional fields given as undefined, so that `{ reason: extra.reason }`
 * writes no `reason` key when there is none, and `at` set (now unless given).
 */
export function stamped<T extends { at?: string }>(fields: T): Omit<T, 'at'> & { at: string } {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
  return { ...defined, at: fields.at ?? new Date().toISOString() };
}
