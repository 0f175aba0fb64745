import type { Subscription } from './port.ts';

/** Keeps the bus's list of live subscriptions: `close()` also runs `onClosed` (once). */
export function tracked(subscription: Subscription, onClosed: () => void): Subscription {
  let closing: Promise<void> | null = null;
  return {
    get group() {
      return subscription.group;
    },
    ready: subscription.ready,
    pause: () => subscription.pause(),
    resume: () => subscription.resume(),
    get paused() {
      return subscription.paused;
    },
    assignment: () => subscription.assignment(),
    get memberId() {
      return subscription.memberId;
    },
    get joins() {
      return subscription.joins;
    },
    close: () => (closing ??= subscription.close().finally(onClosed)),
  };
}
