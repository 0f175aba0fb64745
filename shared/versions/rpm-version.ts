/**
 * rpm's version ordering (rpmvercmp from rpm 4.18, lib/rpmvercmp.c) in plain TypeScript, so
 * retention decisions need no rpm process and can be unit-tested. Versions are split into
 * runs of ASCII digits and ASCII letters; other characters only separate runs. A numeric run
 * beats an alphabetic one, numbers compare by value, letters by byte order; `~` sorts before
 * everything (1.0~rc1 < 1.0), `^` after the base version but before anything longer
 * (1.0 < 1.0^git1 < 1.0.1).
 */

export interface Evr {
  /** Missing means 0, as rpm treats it. */
  epoch?: number | undefined;
  version: string;
  release: string;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isSeparator = (c: string): boolean => !isDigit(c) && !isAlpha(c) && c !== '~' && c !== '^';

/** -1, 0 or 1 as `a` is older than, equal to or newer than `b` (one version or release string). */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  // An index past the end reads as '' (C's terminating NUL).
  const at = (s: string, k: number): string => s[k] ?? '';

  while (i < a.length || j < b.length) {
    while (i < a.length && isSeparator(at(a, i))) i++;
    while (j < b.length && isSeparator(at(b, j))) j++;

    const ca = at(a, i);
    const cb = at(b, j);
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '^' || cb === '^') {
      if (ca === '') return -1;
      if (cb === '') return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '' || cb === '') break;

    const numeric = isDigit(ca);
    const inRun = numeric ? isDigit : isAlpha;
    let endA = i;
    let endB = j;
    while (endA < a.length && inRun(at(a, endA))) endA++;
    while (endB < b.length && inRun(at(b, endB))) endB++;
    // `a` always has a run here; an empty run in `b` means the types differ: numbers win.
    if (endB === j) return numeric ? 1 : -1;

    let runA = a.slice(i, endA);
    let runB = b.slice(j, endB);
    if (numeric) {
      runA = runA.replace(/^0+/, '');
      runB = runB.replace(/^0+/, '');
      if (runA.length !== runB.length) return runA.length > runB.length ? 1 : -1;
    }
    if (runA !== runB) return runA > runB ? 1 : -1;
    i = endA;
    j = endB;
  }
  const restA = i < a.length;
  const restB = j < b.length;
  if (!restA && !restB) return 0;
  return restA ? 1 : -1;
}

/** Compares epoch (numerically, missing = 0), then version, then release, as rpm does. */
export function compareEvr(a: Evr, b: Evr): -1 | 0 | 1 {
  const epochA = a.epoch ?? 0;
  const epochB = b.epoch ?? 0;
  if (epochA !== epochB) return epochA > epochB ? 1 : -1;
  return rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);
}

/** `epoch:version-release`, the epoch left out when it is 0 or missing. */
export function formatEvr(evr: Evr): string {
  const epoch = evr.epoch ?? 0;
  return `${epoch === 0 ? '' : `${epoch}:`}${evr.version}-${evr.release}`;
}
