/** control.cancel (on `<prefix>.control`, key: build id): abort a build wherever it runs. */
import { Type, type Static } from '@sinclair/typebox';
import { InputLimits, IsoDateTime, ShortId, messageHead } from './common.ts';
import { stamped, type MessageFields } from './envelope.ts';

export const ControlCancelVersion = 1;

export const ControlCancelSchema = Type.Object(
  {
    ...messageHead(ControlCancelVersion, 'control.cancel'),
    buildId: ShortId('build to cancel'),
    reason: Type.String({ maxLength: InputLimits.reasonChars, description: 'why, for the build record and the log' }),
    at: Type.Optional(IsoDateTime('when the cancel was asked for')),
  },
  { description: 'Cancel a build: the runner holding it aborts it and publishes cancelled.' },
);
export type ControlCancel = Static<typeof ControlCancelSchema>;

/** A control.cancel: `v` and `type` filled, `at` now unless given. */
export function controlCancel(fields: MessageFields<ControlCancel>): ControlCancel {
  return { v: ControlCancelVersion, type: 'control.cancel', ...stamped(fields) };
}
