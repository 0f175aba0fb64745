import { throwIfAborted } from '../../shared/errors/index.ts';
import type { ContainerEngine, ImageInfo } from './port.ts';

/**
 * One-at-a-time sections per key inside this process. Sections of one key run in call order;
 * other keys are not held up. A failing section does not block the next one.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const tail = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, tail);
    try {
      await previous;
      return await section();
    } finally {
      release();
      // Only the last waiter removes the key, so the map does not grow with every tag ever used.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export interface EnsuredImage {
  image: ImageInfo;
  /** False when this call made the image; true when it existed (possibly made by a concurrent call). */
  reused: boolean;
  durationMs: number;
}

/**
 * Returns the image tagged `tag`, making it with `make` when the engine has none. Concurrent
 * calls for one tag in this process make it once: the others wait and then find it.
 * (Two runner processes on one engine may both make it; the later tag wins, both are equal.)
 */
export async function ensureImage(
  engine: ContainerEngine,
  lock: KeyedLock,
  tag: string,
  make: () => Promise<ImageInfo>,
  signal?: AbortSignal,
): Promise<EnsuredImage> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const existing = await engine.inspectImage(tag, signal);
  if (existing !== undefined) return { image: existing, reused: true, durationMs: elapsed() };
  return lock.run(tag, async () => {
    throwIfAborted(signal);
    const madeMeanwhile = await engine.inspectImage(tag, signal);
    if (madeMeanwhile !== undefined) return { image: madeMeanwhile, reused: true, durationMs: elapsed() };
    const image = await make();
    return { image, reused: false, durationMs: elapsed() };
  });
}
